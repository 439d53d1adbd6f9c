with

source as (

    select * from {{ source('yandex_metrika', 'traffic') }}

),

renamed as (

    select
        counter_id,
        date as visit_date,
        traffic_source,
        visits::bigint as visits,
        users::bigint as users,
        new_users::bigint as new_users,
        pageviews::bigint as pageviews,
        bounce_rate,
        page_depth,
        avg_visit_duration_seconds,
        ecommerce_purchases::bigint as ecommerce_purchases,
        ecommerce_revenue,
        sampled as is_sampled,
        sample_share

    from source

)

select * from renamed
