{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_key',
    indexes=[{'columns': ['customer_key'], 'unique': True}, {'columns': ['last_purchase_date']}],
) }}

-- Real-purchase totals per customer (migrated history is added in customer_profile). Incremental: a build
-- recomputes, over their whole history, only the customers whose lines the window can have changed:
-- those who bought in it, and those whose stored first-to-last span overlaps it (a line of theirs in the
-- window may have been deleted). Every other customer's totals cannot have moved.
with

{% if is_incremental() %}
touched as (

    select customer_key
    from {{ ref('customer_purchases') }}
    where {{ in_window('purchase_date') }} and not is_migrated
    union
    select customer_key
    from {{ this }}
    where first_purchase_date <= {{ window_end() }} and last_purchase_date >= {{ window_start() }}

),
{% endif %}

lines as (

    select purchases.*
    from {{ ref('customer_purchases') }} as purchases
    where not purchases.is_migrated{% if is_incremental() %}
        and purchases.customer_key in (select touched.customer_key from touched)
    {%- endif %}

),

totals as (

    select
        customer_key,
        min(purchased_at) as first_purchase_at,
        max(purchased_at) as last_purchase_at,
        count(distinct document_ref) filter (where not is_return) as orders,
        sum(quantity) as items,
        sum(amount) as revenue

    from lines
    group by 1

),

final as (

    select
        {% if is_incremental() %}touched.customer_key{% else %}totals.customer_key{% endif %},
        totals.first_purchase_at,
        totals.last_purchase_at,
        totals.first_purchase_at::date as first_purchase_date,
        totals.last_purchase_at::date as last_purchase_date,
        coalesce(totals.orders, 0) as orders,
        coalesce(totals.items, 0) as items,
        coalesce(totals.revenue, 0) as revenue

    {% if is_incremental() %}
    -- a touched customer left with no lines gets an empty row, which replaces the stale one
    from touched
    left join totals using (customer_key)
    {% else %}
    from totals
    {% endif %}

)

select * from final
