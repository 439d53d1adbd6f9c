with

source as (

    select * from {{ source('telegram', 'channel_daily') }}

),

renamed as (

    select
        chat_id,
        date as snapshot_date,
        username,
        title,
        type as chat_type,
        member_count as subscribers

    from source

)

select * from renamed
