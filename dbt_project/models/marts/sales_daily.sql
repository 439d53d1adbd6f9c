{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_window('sale_date') }}",
    meta={'window_column': 'sale_date'},
    on_schema_change='append_new_columns',
) }}

with

lines as (

    select * from {{ ref('int_sales_lines_enriched') }}
    where {{ incremental_window('sold_at', moment=true) }}

),

receipts as (

    select
        receipt_date as sale_date,
        store_key,
        count(*) filter (where document_type not like '%Возврат%') as receipts

    from {{ ref('stg_onec__receipts') }}
    where is_posted and not is_deleted and store_key is not null
        and {{ incremental_window('receipt_at', moment=true) }}
    group by 1, 2

),

card_discounts as (

    select
        card_sales.sale_date,
        document_stores.store_key,
        coalesce(exact_store.channel, any_store.channel, 'offline') as channel,
        sum(card_sales.discount_amount) as discount_amount

    from {{ ref('stg_onec__card_sales') }} as card_sales
    inner join {{ ref('int_document_stores') }} as document_stores using (document_ref)
    left join {{ ref('sales_channels') }} as exact_store
        on exact_store.document_type = card_sales.document_type and exact_store.store_key = document_stores.store_key
    left join {{ ref('sales_channels') }} as any_store
        on any_store.document_type = card_sales.document_type and any_store.store_key = '*'
    where card_sales.is_active and {{ incremental_window('card_sales.sold_at', moment=true) }}
    group by 1, 2, 3

),

stores as (

    select store_key, store_name from {{ ref('stg_onec__stores') }}

),

daily as (

    select
        sale_date,
        store_key,
        channel,
        sum(amount) as revenue,
        sum(case when amount < 0 then -amount else 0 end) as returns_amount,
        sum(quantity) as items_sold,
        count(distinct document_ref) as documents,
        coalesce(sum(amount) filter (where is_non_merchandise), 0) as non_merchandise_revenue

    from lines
    group by 1, 2, 3

),

final as (

    select
        daily.sale_date,
        daily.store_key,
        stores.store_name,
        daily.channel,
        daily.revenue,
        daily.returns_amount,
        case
            when daily.channel = 'offline' and receipts.receipts is not null then receipts.receipts
            else daily.documents
        end as order_count,
        case
            when daily.channel = 'offline' and receipts.receipts is not null then 'receipts'
            else 'documents'
        end as order_count_source,
        daily.items_sold,
        round(daily.revenue / nullif(
            case
                when daily.channel = 'offline' and receipts.receipts is not null then receipts.receipts
                else daily.documents
            end, 0
        ), 2) as average_order_value,
        {% if onec_set_on('card_sales') -%}
        coalesce(card_discounts.discount_amount, 0)
        {%- else -%} null::numeric {%- endif %} as discount_amount,
        daily.non_merchandise_revenue

    from daily
    left join receipts
        on receipts.sale_date = daily.sale_date and receipts.store_key = daily.store_key
    left join card_discounts
        on card_discounts.sale_date = daily.sale_date and card_discounts.store_key = daily.store_key
            and card_discounts.channel = daily.channel
    left join stores on stores.store_key = daily.store_key

)

select * from final
