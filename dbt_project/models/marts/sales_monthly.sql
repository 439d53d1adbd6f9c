-- One series of monthly sales from the API and from files, without double counting. The rule: a month
-- with any sales-register line from the 1C API takes the API only; file rows (the Excel pivot of
-- history, other exports) count only for months the API does not cover. API months come from sales_daily
-- (the same register lines, already summed per day), so this mart never rescans the lines.
with

api as (

    select
        date_trunc('month', sale_date)::date as month,
        sum(revenue) as revenue,
        sum(items_sold) as items_sold

    from {{ ref('sales_daily') }}
    group by 1

),

files as (

    select
        date_trunc('month', period_start)::date as month,
        sum(amount) as revenue,
        sum(quantity) as items_sold

    from {{ ref('stg_onec_files__sales') }}
    group by 1

),

final as (

    select month, revenue, items_sold, 'api' as source from api
    union all
    select month, revenue, items_sold, 'file' as source
    from files
    where not exists (select from api where api.month = files.month)

)

select * from final
