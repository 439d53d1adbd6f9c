{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='purchase_line_id',
    pre_hook="{{ delete_window('purchase_date', also='is_migrated') }}",
    indexes=[{'columns': ['purchase_line_id'], 'unique': True}, {'columns': ['customer_key']},
             {'columns': ['purchase_date']}, {'columns': ['is_migrated']}],
    meta={'window_column': 'purchase_date'},
    on_schema_change='append_new_columns',
) }}

-- One row per purchase line of a known customer (see int_customer_purchase_lines for what counts).
-- Incremental on the run's window: its days are deleted and rebuilt (lines deleted in 1C go), lines are
-- replaced by id (one re-dated in 1C moves to its new day), and the migrated history, which has no day
-- of its own, is rebuilt on every run.
with

lines as (

    select * from {{ ref('int_customer_purchase_lines') }}
    where {{ incremental_window('sold_at', moment=true) }}{% if is_incremental() %} or is_migrated{% endif %}

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
        coalesce(lines.store_key, document_stores.store_key) as store_key,
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
    left join stores on stores.store_key = coalesce(lines.store_key, document_stores.store_key)

)

select * from final
