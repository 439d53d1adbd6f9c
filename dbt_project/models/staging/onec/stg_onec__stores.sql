with

source as (

    select * from {{ source('onec', 'stores') }}

),

renamed as (

    select
        ref_key as store_key,
        code as store_code,
        description as store_name,
        deletion_mark as is_deleted

    from source

)

select * from renamed
