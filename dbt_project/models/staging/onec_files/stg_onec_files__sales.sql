with

source as (

    select * from {{ source('onec_files', 'sales') }}

),

renamed as (

    select
        file_hash || ':' || row_no as file_line_id,
        file_hash,
        file_name,
        layout,
        period_start,
        period_end,
        product_name,
        unit,
        article,
        store,
        quantity,
        amount,
        amount < 0 as is_return,
        _loaded_at as loaded_at

    from source

)

select * from renamed
