-- One row per purchase line of a known customer (see int_customer_purchase_lines for what counts).
with

lines as (

    select * from {{ ref('int_customer_purchase_lines') }}

),

products as (

    select * from {{ ref('stg_onec__products') }}

),

document_stores as (

    select * from {{ ref('int_document_stores') }}

),

stores as (

    select * from {{ ref('stg_onec__stores') }}

),

final as (

    select
        lines.purchase_line_id,
        lines.customer_key,
        lines.card_key,
        lines.sold_at as purchased_at,
        lines.sale_date as purchase_date,
        lines.document_ref,
        lines.document_type,
        document_stores.store_key,
        stores.store_name,
        lines.product_key,
        products.product_name,
        products.article,
        lines.quantity,
        lines.amount,
        lines.discount_amount,
        lines.is_return,
        lines.is_migrated

    from lines
    left join products on products.product_key = lines.product_key
    left join document_stores on document_stores.document_ref = lines.document_ref
    left join stores on stores.store_key = document_stores.store_key

)

select * from final
