with

source as (

    select * from {{ source('instagram', 'account_daily') }}

),

renamed as (

    select
        account_id,
        date as metric_date,
        followers_count,
        follows_count,
        media_count,
        reach,
        views,
        accounts_engaged,
        total_interactions,
        likes,
        comments,
        shares,
        saves,
        profile_views,
        new_followers

    from source

)

select * from renamed
