{{ config(meta={'dagster': {'ref': {'name': 'sales_monthly'}}}) }}  -- an asset check of sales_monthly in Dagster

-- A file month of sales_monthly holds, for each measure, exactly the sum of the newest loaded file that
-- carries that measure for that month: never two files added up (re-exports), never another measure's
-- file. Recomputed here with distinct on, independently of int_sales_file_months_chosen.
with

coverage as (

    select file_hash, month, has_quantity, has_amount
    from {{ ref('stg_onec_files__file_months') }}
    union all
    select
        file_hash,
        date_trunc('month', period_start)::date as month,
        quantity is not null as has_quantity,
        amount is not null as has_amount
    from {{ ref('stg_onec_files__sales') }}

),

loads as (

    select both_sources.file_hash, min(both_sources.loaded_at) as loaded_at
    from (
        select file_hash, loaded_at from {{ ref('stg_onec_files__file_months') }}
        union all
        select file_hash, loaded_at from {{ ref('stg_onec_files__sales') }}
    ) as both_sources
    group by both_sources.file_hash

),

newest_amount as (

    select distinct on (coverage.month) coverage.month, coverage.file_hash
    from coverage inner join loads on loads.file_hash = coverage.file_hash
    where coverage.has_amount
    order by coverage.month asc, loads.loaded_at desc, coverage.file_hash desc

),

newest_quantity as (

    select distinct on (coverage.month) coverage.month, coverage.file_hash
    from coverage inner join loads on loads.file_hash = coverage.file_hash
    where coverage.has_quantity
    order by coverage.month asc, loads.loaded_at desc, coverage.file_hash desc

),

file_months as (

    select file_hash, date_trunc('month', period_start)::date as month, sum(amount) as amount, sum(quantity) as quantity
    from {{ ref('stg_onec_files__sales') }}
    group by file_hash, date_trunc('month', period_start)::date

),

expected as (

    select
        months.month,
        case when newest_amount.file_hash is not null then coalesce(amounts.amount, 0) end as revenue,
        case when newest_quantity.file_hash is not null then coalesce(quantities.quantity, 0) end as items_sold

    from (select distinct coverage.month from coverage) as months
    left join newest_amount on newest_amount.month = months.month
    left join file_months as amounts
        on amounts.file_hash = newest_amount.file_hash and amounts.month = months.month
    left join newest_quantity on newest_quantity.month = months.month
    left join file_months as quantities
        on quantities.file_hash = newest_quantity.file_hash and quantities.month = months.month

)

select
    expected.month,
    expected.revenue as expected_revenue,
    mart.revenue as mart_revenue,
    expected.items_sold as expected_items_sold,
    mart.items_sold as mart_items_sold
from expected
inner join {{ ref('sales_monthly') }} as mart on mart.month = expected.month and mart.source = 'file'
where mart.revenue is distinct from expected.revenue or mart.items_sold is distinct from expected.items_sold
