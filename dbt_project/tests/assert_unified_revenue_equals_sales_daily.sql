-- The unified view does not lose or double any revenue.
select unified.date, unified.revenue, sales.revenue
from {{ ref('unified_daily') }} as unified
full join (
    select sale_date as date, sum(revenue) as revenue from {{ ref('sales_daily') }} group by 1
) as sales using (date)
where coalesce(unified.revenue, 0) is distinct from coalesce(sales.revenue, 0)
