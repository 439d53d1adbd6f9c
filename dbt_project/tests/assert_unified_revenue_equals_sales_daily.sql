-- The unified view does not lose or double any revenue (in the run's window when Dagster passed one).
with

unified as (

    select date, revenue
    from {{ ref('unified_daily') }}
    where {{ run_window('date') }}

),

sales as (

    select sale_date as date, sum(revenue) as revenue
    from {{ ref('sales_daily') }}
    where {{ run_window('sale_date') }}
    group by 1

)

select coalesce(unified.date, sales.date) as date, unified.revenue as unified_revenue, sales.revenue as sales_revenue
from unified
full join sales on sales.date = unified.date
where coalesce(unified.revenue, 0) is distinct from coalesce(sales.revenue, 0)
