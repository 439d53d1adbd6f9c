with

source as (

    select * from {{ source('onec', 'products') }}

),

renamed as (

    select
        ref_key as product_key,
        code as product_code,
        nullif(payload ->> 'Артикул', '') as article,
        description as product_name,
        nullif(payload ->> 'Parent_Key', '00000000-0000-0000-0000-000000000000') as parent_key,
        coalesce((payload ->> 'IsFolder')::boolean, false) as is_folder,
        deletion_mark as is_deleted

    from source

)

select * from renamed
