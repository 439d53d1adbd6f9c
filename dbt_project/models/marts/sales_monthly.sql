-- One series of monthly sales from the API and from files, without double counting. The rule: a month
-- with any sales-register line from the 1C API takes the API only; file rows (the Excel pivot of
-- history, other exports) count only for months the API does not cover.
with

api as (

    select
        date_trunc('month', sale_date)::date as month,
        sum(amount) as revenue,
        sum(quantity) as items_sold

    from {{ ref('int_sales_lines_enriched') }}
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
    where month not in (select month from api)

)

select * from final
