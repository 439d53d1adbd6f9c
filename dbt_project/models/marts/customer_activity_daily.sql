{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where date >= {{ window_start() }}{% endif %}",
    meta={'window_column': 'date'},
    on_schema_change='append_new_columns',
) }}

-- Buyers per Moscow day split into new (their first real purchase is that day) and returning ones, with
-- their revenue: the "new vs returning" chart reads this small table instead of every purchase line.
-- Incremental from the window's first day on, not just the window: a change inside the window can move a
-- customer's first purchase only to a day at or after the window's start, which relabels their later days
-- too; days before the window cannot change. Reads the per-customer totals, not customer_profile, so it
-- builds beside the profile instead of after it.
with

purchases as (

    select * from {{ ref('customer_purchases') }}
    where not is_migrated{% if is_incremental() %} and purchase_date >= {{ window_start() }}{% endif %}

),

customers as (

    -- the profile's customers: the catalog's, folders aside
    select customer_key from {{ ref('stg_onec__customers') }}
    where not is_folder

),

first_purchases as (

    select customer_key, first_purchase_date
    from {{ ref('int_customer_totals') }}
    where first_purchase_at is not null

),

final as (

    select
        purchases.purchase_date as date,
        case when purchases.purchase_date = first_purchases.first_purchase_date then 'new' else 'returning' end
            as customer_type,
        case when purchases.purchase_date = first_purchases.first_purchase_date then 'новые' else 'постоянные' end
            as customer_type_label,
        count(distinct purchases.customer_key) as customers,
        count(distinct purchases.document_ref) filter (where not purchases.is_return) as orders,
        sum(purchases.amount) as revenue

    from purchases
    inner join customers on customers.customer_key = purchases.customer_key
    inner join first_purchases on first_purchases.customer_key = purchases.customer_key
    group by 1, 2, 3

)

select * from final
