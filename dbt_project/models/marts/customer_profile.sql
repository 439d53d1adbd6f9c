-- The dashboards look customers up by phone and list the phones for their filter: an index on phone, and
-- statistics at once (a rebuilt table has none until autovacuum gets to it, and without them the phone
-- list was planned as a hash aggregate over every customer, 80 ms at 5M sales lines, not an index read).
{{ config(indexes=[{'columns': ['phone']}], post_hook='analyze {{ this }}') }}

-- One row per customer. Lifetime figures include the history migrated into 1C (opening balances), shown
-- apart in migrated_revenue; dates, orders and RFM use real purchases only, because the migration's date
-- is a placeholder and it carries no receipts. RFM frequency counts receipts (documents), not lines.
-- Built from per-customer totals (int_customer_totals, incremental), so its cost follows the number of
-- customers, not of purchase lines.
with

customers as (

    select * from {{ ref('stg_onec__customers') }}
    where not is_folder

),

cards as (

    select distinct on (customer_key) customer_key, card_key, card_number, phone as card_phone
    from {{ ref('stg_onec__discount_cards') }}
    where customer_key is not null and not is_deleted
    order by customer_key, card_code

),

purchases as (

    select * from {{ ref('int_customer_totals') }}
    where first_purchase_at is not null  -- an empty row is a customer whose lines were all deleted

),

migrated as (

    -- read through the lines view, so only the opening balances are scanned, not every purchase line
    select customer_key, sum(quantity) as items, sum(amount) as revenue
    from {{ ref('int_customer_purchase_lines') }}
    where is_migrated
    group by customer_key

),

bonus as (

    select * from {{ ref('stg_onec__bonus_balances') }}

),

totals as (

    select
        coalesce(purchases.customer_key, migrated.customer_key) as customer_key,
        purchases.first_purchase_at,
        purchases.last_purchase_at,
        coalesce(purchases.orders, 0) as orders,
        coalesce(purchases.items, 0) + coalesce(migrated.items, 0) as items,
        coalesce(purchases.revenue, 0) + coalesce(migrated.revenue, 0) as lifetime_revenue,
        coalesce(migrated.revenue, 0) as migrated_revenue,
        coalesce(purchases.revenue, 0) as purchase_revenue,
        migrated.customer_key is not null as has_migrated_history

    from purchases
    full join migrated on migrated.customer_key = purchases.customer_key

),

scored as (

    select
        totals.*,
        {{ moscow_today() }} - totals.last_purchase_at::date as days_since_last_purchase,
        case
            when totals.last_purchase_at is not null
                then ntile(5) over (partition by totals.last_purchase_at is not null order by totals.last_purchase_at)
        end as recency_score,
        case
            when totals.orders > 0
                then ntile(5) over (partition by totals.orders > 0 order by totals.orders, totals.purchase_revenue)
        end as frequency_score,
        case
            when totals.orders > 0
                then ntile(5) over (partition by totals.orders > 0 order by totals.purchase_revenue)
        end as monetary_score

    from totals

),

final as (

    select
        customers.customer_key,
        coalesce(cards.card_phone, customers.phone) as phone,
        cards.card_number,
        customers.customer_name,
        customers.city,
        scored.first_purchase_at,
        scored.last_purchase_at,
        coalesce(scored.orders, 0) as orders,
        coalesce(scored.items, 0) as items,
        coalesce(scored.lifetime_revenue, 0) as lifetime_revenue,
        coalesce(scored.migrated_revenue, 0) as migrated_revenue,
        coalesce(scored.has_migrated_history, false) as has_migrated_history,
        round(scored.purchase_revenue / nullif(scored.orders, 0), 2) as average_check,
        scored.days_since_last_purchase,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        case
            when coalesce(scored.orders, 0) = 0 and scored.has_migrated_history then 'history_only'
            when coalesce(scored.orders, 0) = 0 and scored.customer_key is not null then 'returns_only'
            when coalesce(scored.orders, 0) = 0 then 'no_purchases'
            when scored.recency_score >= 4 and scored.frequency_score >= 4 then 'champions'
            when scored.recency_score >= 3 and scored.frequency_score >= 3 then 'loyal'
            when scored.recency_score >= 4 then 'new_or_returning'
            when scored.recency_score <= 2 and scored.frequency_score >= 3 then 'at_risk'
            else 'hibernating'
        end as segment,
        {% if onec_set_on('bonus_balances') -%}
        coalesce(bonus.bonus_balance, 0)
        {%- else -%} null::numeric {%- endif %} as bonus_balance

    from customers
    left join cards on cards.customer_key = customers.customer_key
    left join scored on scored.customer_key = customers.customer_key
    left join bonus on bonus.card_key = cards.card_key

)

select *, {{ segment_label('segment') }} as segment_label from final
