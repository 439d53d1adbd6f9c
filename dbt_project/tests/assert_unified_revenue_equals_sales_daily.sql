-- The unified view does not lose or double any revenue (in the run's window when Dagster passed one).
select unified.date, unified.revenue, sales.revenue
from (select * from {{ ref('unified_daily') }} where {{ run_window('date') }}) as unified
full join (
    select sale_date as date, sum(revenue) as revenue
    from {{ ref('sales_daily') }}
    where {{ run_window('sale_date') }}
    group by 1
) as sales using (date)
where coalesce(unified.revenue, 0) is distinct from coalesce(sales.revenue, 0)
