with

source as (

    select * from {{ source('vk', 'group_stats') }}

),

renamed as (

    select
        group_id,
        date as metric_date,
        views,
        visitors,
        mobile_views,
        reach,
        reach_subscribers,
        mobile_reach,
        likes,
        comments,
        copies as shares,
        subscribed,
        unsubscribed,
        hidden

    from source

)

select * from renamed
