with

traffic as (

    select * from {{ ref('stg_yandex_metrika__traffic') }}

),

final as (

    select
        visit_date,
        traffic_source,
        {{ traffic_source_label('traffic_source') }} as traffic_source_label,
        sum(visits) as visits,
        sum(users) as users,
        sum(new_users) as new_users,
        sum(pageviews) as pageviews,
        round(sum(bounce_rate * visits) / nullif(sum(visits), 0), 2) as bounce_rate,
        round(sum(pageviews)::numeric / nullif(sum(visits), 0), 2) as page_depth,
        round(sum(avg_visit_duration_seconds * visits) / nullif(sum(visits), 0), 1) as avg_visit_duration_seconds,
        sum(ecommerce_purchases) as ecommerce_purchases,
        sum(ecommerce_revenue) as ecommerce_revenue,
        bool_or(is_sampled) as sampled

    from traffic
    group by 1, 2, 3

)

select * from final
