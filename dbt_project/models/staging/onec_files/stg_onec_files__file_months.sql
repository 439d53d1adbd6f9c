with

source as (

    select * from {{ source('onec_files', 'file_months') }}

),

renamed as (

    select
        file_hash,
        month,
        file_name,
        layout,
        has_quantity,
        has_amount,
        _loaded_at as loaded_at

    from source

)

select * from renamed
