-- Which file counts for each month and measure: the most recently loaded file that carries the measure
-- for the month. Re-exports of the same months (a correction, a quantity-only version, the same report
-- as .xls and .xlsx) so replace each other instead of adding up. Coverage is what the file declares
-- (its pivot header), plus what its rows show (files loaded before the declaration existed).
with

declared as (

    select file_hash, month, has_quantity, has_amount, loaded_at
    from {{ ref('stg_onec_files__file_months') }}

),

from_rows as (

    select
        file_hash,
        date_trunc('month', period_start)::date as month,
        bool_or(quantity is not null) as has_quantity,
        bool_or(amount is not null) as has_amount,
        min(loaded_at) as loaded_at

    from {{ ref('stg_onec_files__sales') }}
    group by 1, 2

),

coverage as (

    select file_hash, month, bool_or(has_quantity) as has_quantity, bool_or(has_amount) as has_amount
    from (
        select * from declared
        union all
        select * from from_rows
    ) as both_sources
    group by 1, 2

),

files as (

    select file_hash, min(loaded_at) as loaded_at, min(file_name) as file_name
    from (
        select file_hash, loaded_at, file_name from {{ ref('stg_onec_files__file_months') }}
        union all
        select file_hash, loaded_at, file_name from {{ ref('stg_onec_files__sales') }}
    ) as loads
    group by 1

),

measures as (

    select file_hash, month, 'quantity' as measure from coverage
    where has_quantity
    union all
    select file_hash, month, 'amount' as measure from coverage
    where has_amount

),

ranked as (

    select
        measures.month,
        measures.measure,
        measures.file_hash,
        files.file_name,
        files.loaded_at,
        row_number() over (
            partition by measures.month, measures.measure
            order by files.loaded_at desc, measures.file_hash desc
        ) as recency

    from measures
    inner join files using (file_hash)

),

final as (

    select month, measure, file_hash, file_name, loaded_at
    from ranked
    where recency = 1

)

select * from final
