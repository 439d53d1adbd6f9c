-- Revenue and items in sales_daily equal the raw 1C sales register (active, non-migrated records) for
-- every Moscow day, to the kopeck: the run's window when Dagster passed one, else every day.
with

register as (

    select period::date as sale_date, sum(amount) as revenue, sum(quantity) as items
    from {{ source('onec', 'sales') }}
    where active and recorder_type not like '%ВводНачальныхОстатков' and {{ run_window('period', moment=true) }}
    group by 1

),

mart as (

    select sale_date, sum(revenue) as revenue, sum(items_sold) as items
    from {{ ref('sales_daily') }}
    where {{ run_window('sale_date') }}
    group by 1

)

select
    coalesce(register.sale_date, mart.sale_date) as sale_date,
    register.revenue as register_revenue,
    mart.revenue as mart_revenue,
    register.items as register_items,
    mart.items as mart_items
from register
full join mart on mart.sale_date = register.sale_date
where register.revenue is distinct from mart.revenue or register.items is distinct from mart.items
