-- Active sales-register lines of the daily loads (migrated opening balances are not a day's sales),
-- with their channel (seed sales_channels: an exact store row wins over `*`), product, and the one
-- non-merchandise rule (seed non_merchandise_rules).
with

sales as (

    select * from {{ ref('stg_onec__sales') }}
    where is_active and not is_migrated

),

rules as (

    select * from {{ ref('non_merchandise_rules') }}

),

products as (

    -- the rule is matched once per product, not once per line
    select
        products.*,
        (
            select rules.category
            from rules
            where products.product_name ilike rules.name_pattern
            order by rules.category
            limit 1
        ) as non_merchandise_category

    from {{ ref('stg_onec__products') }} as products

),

channels as (

    select * from {{ ref('sales_channels') }}

),

joined as (

    select
        sales.*,
        products.product_name,
        products.article,
        coalesce(exact_store.channel, any_store.channel, 'offline') as channel,
        products.non_merchandise_category

    from sales
    left join products on products.product_key = sales.product_key
    left join channels as exact_store
        on exact_store.document_type = sales.document_type and exact_store.store_key = sales.store_key
    left join channels as any_store
        on any_store.document_type = sales.document_type and any_store.store_key = '*'

),

final as (

    select
        *,
        non_merchandise_category is not null as is_non_merchandise

    from joined

)

select * from final
