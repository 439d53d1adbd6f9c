-- Buyers per Moscow day split into new (their first real purchase is that day) and returning ones, with
-- their revenue: the "new vs returning" chart reads this small table instead of every purchase line.
with

purchases as (

    select * from {{ ref('customer_purchases') }}
    where not is_migrated

),

profiles as (

    select customer_key, first_purchase_at::date as first_purchase_date
    from {{ ref('customer_profile') }}

),

final as (

    select
        purchases.purchase_date as date,
        case when purchases.purchase_date = profiles.first_purchase_date then 'new' else 'returning' end
            as customer_type,
        case when purchases.purchase_date = profiles.first_purchase_date then 'новые' else 'постоянные' end
            as customer_type_label,
        count(distinct purchases.customer_key) as customers,
        count(distinct purchases.document_ref) filter (where not purchases.is_return) as orders,
        sum(purchases.amount) as revenue

    from purchases
    inner join profiles using (customer_key)
    group by 1, 2, 3

)

select * from final
