with

source as (

    select * from {{ source('vk', 'group_daily') }}

),

renamed as (

    select
        group_id,
        date as snapshot_date,
        name as group_name,
        members_count

    from source

)

select * from renamed
