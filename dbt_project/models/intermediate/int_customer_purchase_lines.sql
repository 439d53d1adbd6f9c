-- Every purchase line that has a customer: card sales (receipts with a discount card), register lines
-- with a counterparty (online orders) whose document is not already a card sale, and the migrated
-- opening balances. One line is counted once. Register lines carry their store; card sales get theirs
-- from the document (int_document_stores) in the mart.
with

card_sales as (

    select
        card_sales_line_id as purchase_line_id,
        customer_key,
        card_key,
        sold_at,
        sale_date,
        document_ref,
        document_type,
        null::text as store_key,
        product_key,
        quantity,
        amount,
        discount_amount,
        is_return,
        false as is_migrated

    from {{ ref('stg_onec__card_sales') }}
    where is_active and customer_key is not null

),

register_lines as (

    select
        sales_line_id as purchase_line_id,
        counterparty_key as customer_key,
        null::text as card_key,
        sold_at,
        sale_date,
        document_ref,
        document_type,
        store_key,
        product_key,
        quantity,
        amount,
        0::numeric as discount_amount,
        is_return,
        is_migrated

    from {{ ref('stg_onec__sales') }} as sales
    where is_active
        and counterparty_key is not null
        and not exists (
            select from {{ ref('stg_onec__card_sales') }} as card_sales
            where card_sales.document_ref = sales.document_ref and card_sales.is_active
                and card_sales.customer_key is not null
        )

),

final as (

    select * from card_sales
    union all
    select * from register_lines

)

select * from final
