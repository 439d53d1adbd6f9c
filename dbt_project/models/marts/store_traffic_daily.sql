-- Store conversion: visitors from the people counters against receipts and revenue from 1C. A store-day
-- without a counter file has null visitors (and null conversion), never zero. Which direction counts as
-- visitors is the var visitors_column (GLAME_VISITORS_COLUMN: entries by default).
{% set visitors = 'counters.visitors_out' if var('visitors_column') == 'exits' else 'counters.visitors_in' %}
with

counters as (

    select
        visit_date,
        counter_folder,
        sum(entries) as visitors_in,
        sum(exits) as visitors_out,
        count(distinct file_path) as counter_files

    from {{ ref('stg_ftp_counters__visits') }}
    group by 1, 2

),

mapping as (

    select * from {{ ref('store_mapping') }}

),

sales as (

    select
        sale_date,
        store_key,
        sum(revenue) as revenue,
        sum(order_count) filter (where channel = 'offline' and order_count_source = 'receipts') as receipts

    from {{ ref('sales_daily') }}
    group by 1, 2

),

days as (

    select visit_date from counters
    union
    select sales.sale_date from sales
    where
        sales.store_key in (
            select mapping.store_key from mapping
            where mapping.has_counter
        )

),

store_days as (

    select
        days.visit_date, mapping.counter_folder, mapping.store_key, mapping.store_name, mapping.city,
        true as is_mapped
    from days
    cross join mapping
    where mapping.has_counter
    union all
    select distinct
        counters.visit_date, counters.counter_folder, null as store_key, null as store_name, null as city,
        false as is_mapped
    from counters
    where counters.counter_folder not in (select mapping.counter_folder from mapping)

),

final as (

    select
        store_days.visit_date,
        store_days.counter_folder,
        store_days.store_key,
        store_days.store_name,
        store_days.city,
        store_days.is_mapped,
        counters.visitors_in,
        counters.visitors_out,
        {{ visitors }} as visitors,
        sales.receipts,
        coalesce(sales.revenue, 0) as revenue,
        round(sales.receipts::numeric / nullif({{ visitors }}, 0), 4) as conversion,
        round(coalesce(sales.revenue, 0) / nullif({{ visitors }}, 0), 2) as revenue_per_visitor,
        counters.counter_files is not null as has_counter_data

    from store_days
    left join counters
        on counters.visit_date = store_days.visit_date and counters.counter_folder = store_days.counter_folder
    left join sales
        on sales.sale_date = store_days.visit_date and sales.store_key = store_days.store_key

)

select * from final
