-- One series of monthly sales from the API and from files, without double counting. A month with any
-- sales-register line from the 1C API takes the API only; file rows count only for months the API does
-- not cover, and among files, each month's revenue and units come from the most recently loaded file
-- that carries that measure for the month (int_sales_file_months_chosen): re-exports replace, never
-- add. API months come from sales_daily (the register lines already summed per day), so this mart never
-- rescans the lines.
with

api as (

    select
        date_trunc('month', sale_date)::date as month,
        sum(revenue) as revenue,
        sum(items_sold) as items_sold

    from {{ ref('sales_daily') }}
    group by 1

),

chosen as (

    select * from {{ ref('int_sales_file_months_chosen') }}

),

file_lines as (

    select
        file_hash,
        date_trunc('month', period_start)::date as month,
        sum(amount) as amount,
        sum(quantity) as quantity

    from {{ ref('stg_onec_files__sales') }}
    group by 1, 2

),

files as (

    -- a chosen file without a line in the month sold nothing then: zero, not null; a measure no file
    -- carries stays null
    select
        months.month,
        case when amounts.file_hash is not null then coalesce(amount_lines.amount, 0) end as revenue,
        case when quantities.file_hash is not null then coalesce(quantity_lines.quantity, 0) end as items_sold,
        amounts.file_name as revenue_file,
        quantities.file_name as items_sold_file

    from (select distinct month from chosen) as months
    left join chosen as amounts
        on amounts.month = months.month and amounts.measure = 'amount'
    left join file_lines as amount_lines
        on amount_lines.file_hash = amounts.file_hash and amount_lines.month = months.month
    left join chosen as quantities
        on quantities.month = months.month and quantities.measure = 'quantity'
    left join file_lines as quantity_lines
        on quantity_lines.file_hash = quantities.file_hash and quantity_lines.month = months.month

),

final as (

    select month, revenue, items_sold, 'api' as source, null as revenue_file, null as items_sold_file
    from api
    union all
    select month, revenue, items_sold, 'file' as source, revenue_file, items_sold_file
    from files
    where not exists (
            select from api
            where api.month = files.month
        )

)

select * from final
