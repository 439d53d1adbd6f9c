-- One row per customer. Lifetime figures include the history migrated into 1C (opening balances), shown
-- apart in migrated_revenue; dates, orders and RFM use real purchases only, because the migration's date
-- is a placeholder and it carries no receipts. RFM frequency counts receipts (documents), not lines.
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

    select * from {{ ref('customer_purchases') }}

),

bonus as (

    select * from {{ ref('stg_onec__bonus_balances') }}

),

totals as (

    select
        customer_key,
        min(purchased_at) filter (where not is_migrated) as first_purchase_at,
        max(purchased_at) filter (where not is_migrated) as last_purchase_at,
        count(distinct document_ref) filter (where not is_migrated and not is_return) as orders,
        sum(quantity) as items,
        sum(amount) as lifetime_revenue,
        coalesce(sum(amount) filter (where is_migrated), 0) as migrated_revenue,
        coalesce(sum(amount) filter (where not is_migrated), 0) as purchase_revenue,
        bool_or(is_migrated) as has_migrated_history

    from purchases
    group by 1

),

scored as (

    select
        totals.*,
        {{ moscow_today() }} - last_purchase_at::date as days_since_last_purchase,
        case when last_purchase_at is not null then ntile(5) over (
            partition by last_purchase_at is not null order by last_purchase_at) end as recency_score,
        case when orders > 0 then ntile(5) over (partition by orders > 0 order by orders, purchase_revenue) end
            as frequency_score,
        case when orders > 0 then ntile(5) over (partition by orders > 0 order by purchase_revenue) end as monetary_score

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
            when scored.orders is null or scored.orders = 0 then
                case
                    when scored.has_migrated_history then 'history_only'
                    when scored.customer_key is not null then 'returns_only'
                    else 'no_purchases'
                end
            when scored.recency_score >= 4 and scored.frequency_score >= 4 then 'champions'
            when scored.recency_score >= 3 and scored.frequency_score >= 3 then 'loyal'
            when scored.recency_score >= 4 then 'new_or_returning'
            when scored.recency_score <= 2 and scored.frequency_score >= 3 then 'at_risk'
            else 'hibernating'
        end as segment,
        coalesce(bonus.bonus_balance, 0) as bonus_balance

    from customers
    left join cards on cards.customer_key = customers.customer_key
    left join scored on scored.customer_key = customers.customer_key
    left join bonus on bonus.card_key = cards.card_key

)

select * from final
