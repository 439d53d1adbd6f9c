{{ config(meta={'dagster': {'ref': {'name': 'sales_monthly'}}}) }}  -- an asset check of sales_monthly in Dagster

-- A file month of sales_monthly holds, for each measure, exactly the sum of the newest loaded file that
-- carries that measure for that month: never two files added up (re-exports), never another measure's
-- file. Recomputed here with distinct on, independently of int_sales_file_months_chosen.
with

coverage as (

    select file_hash, month, has_quantity, has_amount
    from {{ ref('stg_onec_files__file_months') }}
    union all
    select file_hash, date_trunc('month', period_start)::date, quantity is not null, amount is not null
    from {{ ref('stg_onec_files__sales') }}

),

loads as (

    select file_hash, min(loaded_at) as loaded_at
    from (
        select file_hash, loaded_at from {{ ref('stg_onec_files__file_months') }}
        union all
        select file_hash, loaded_at from {{ ref('stg_onec_files__sales') }}
    ) as both_sources
    group by 1

),

newest_amount as (

    select distinct on (month) month, file_hash
    from coverage inner join loads using (file_hash)
    where has_amount
    order by month, loaded_at desc, file_hash desc

),

newest_quantity as (

    select distinct on (month) month, file_hash
    from coverage inner join loads using (file_hash)
    where has_quantity
    order by month, loaded_at desc, file_hash desc

),

expected as (

    select
        months.month,
        case when newest_amount.file_hash is not null then
            (select coalesce(sum(amount), 0) from {{ ref('stg_onec_files__sales') }} as s
             where s.file_hash = newest_amount.file_hash and date_trunc('month', s.period_start) = months.month)
        end as revenue,
        case when newest_quantity.file_hash is not null then
            (select coalesce(sum(quantity), 0) from {{ ref('stg_onec_files__sales') }} as s
             where s.file_hash = newest_quantity.file_hash and date_trunc('month', s.period_start) = months.month)
        end as items_sold

    from (select month from coverage group by 1) as months
    left join newest_amount on newest_amount.month = months.month
    left join newest_quantity on newest_quantity.month = months.month

)

select expected.month, expected.revenue, mart.revenue, expected.items_sold, mart.items_sold
from expected
inner join {{ ref('sales_monthly') }} as mart on mart.month = expected.month and mart.source = 'file'
where mart.revenue is distinct from expected.revenue or mart.items_sold is distinct from expected.items_sold
