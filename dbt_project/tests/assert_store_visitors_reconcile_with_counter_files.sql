-- Visitors in store_traffic_daily equal the sum of the counter rows loaded for each store-day.
with

raw_counts as (

    select store_folder, visit_date, sum(entries) as visitors_in
    from {{ source('ftp_counters', 'visits') }}
    group by 1, 2

)

select raw_counts.*, mart.visitors_in as mart_visitors_in
from raw_counts
left join {{ ref('store_traffic_daily') }} as mart
    on mart.counter_folder = raw_counts.store_folder and mart.visit_date = raw_counts.visit_date
where mart.visitors_in is distinct from raw_counts.visitors_in
