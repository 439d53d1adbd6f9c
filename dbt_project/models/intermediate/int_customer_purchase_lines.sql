-- Every purchase line that has a customer: card sales (receipts with a discount card), register lines
-- with a counterparty (online orders) whose document is not already a card sale, and the migrated
-- opening balances. One line is counted once.
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
        product_key,
        quantity,
        amount,
        0::numeric as discount_amount,
        is_return,
        is_migrated

    from {{ ref('stg_onec__sales') }}
    where is_active
        and counterparty_key is not null
        and document_ref not in (select document_ref from card_sales)

),

final as (

    select * from card_sales
    union all
    select * from register_lines

)

select * from final
