with

source as (

    select * from {{ source('onec', 'card_sales') }}

),

renamed as (

    select
        recorder || ':' || line_number as card_sales_line_id,
        recorder as document_ref,
        line_number,
        replace(recorder_type, 'StandardODATA.', '') as document_type,
        period as sold_at,
        period::date as sale_date,
        active as is_active,
        card_key,
        owner_key as customer_key,
        product_key,
        quantity,
        amount,
        discount as discount_amount,
        amount < 0 as is_return

    from source

)

select * from renamed
