-- One row per Moscow day across every source: what the old "unified" endpoint answered.
with

web as (

    select visit_date as date, sum(visits) as web_visits, sum(users) as web_users
    from {{ ref('web_traffic_daily') }}
    group by 1

),

social as (

    select
        date,
        sum(reach) filter (where platform = 'instagram') as instagram_reach,
        sum((metadata ->> 'total_interactions')::bigint) filter (where platform = 'instagram') as instagram_engagement,
        max(followers) filter (where platform = 'instagram') as instagram_followers,
        sum(reach) filter (where platform = 'vk') as vk_reach,
        sum(coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0)) filter (where platform = 'vk')
            as vk_engagement,
        max(followers) filter (where platform = 'vk') as vk_members,
        max(followers) filter (where platform = 'telegram') as telegram_subscribers

    from {{ ref('social_daily') }}
    where metric_type = 'account'
    group by 1

),

sales as (

    select
        sale_date as date,
        sum(revenue) as revenue,
        sum(order_count) as orders,
        round(sum(revenue) / nullif(sum(order_count), 0), 2) as average_order_value

    from {{ ref('sales_daily') }}
    group by 1

),

stores as (

    select
        visit_date as date,
        sum(visitors) as store_visitors,
        round(
            sum(receipts) filter (where visitors is not null)::numeric
            / nullif(sum(visitors), 0), 4
        ) as store_conversion

    from {{ ref('store_traffic_daily') }}
    where is_mapped
    group by 1

),

days as (

    select date from web
    union
    select date from social
    union
    select date from sales
    union
    select date from stores

),

final as (

    select
        days.date,
        web.web_visits,
        web.web_users,
        social.instagram_reach,
        social.instagram_engagement,
        social.instagram_followers,
        social.vk_reach,
        social.vk_engagement,
        social.vk_members,
        social.telegram_subscribers,
        stores.store_visitors,
        coalesce(sales.revenue, 0) as revenue,
        coalesce(sales.orders, 0) as orders,
        sales.average_order_value,
        stores.store_conversion

    from days
    left join web using (date)
    left join social using (date)
    left join sales using (date)
    left join stores using (date)

)

select * from final
