-- One row per date × platform × metric_type (account, post, story) × object. Accounts: that day's
-- metrics (followers from the snapshot of that day). Posts and stories: dated by publication (Moscow),
-- with their lifetime metrics as last read, and a link to the post (url).
with

instagram_accounts as (

    select
        metric_date as date, 'instagram' as platform, 'account' as metric_type, account_id as object_id,
        followers_count as followers, likes, comments, shares, views, reach, saves,
        jsonb_build_object(
            'accounts_engaged', accounts_engaged, 'total_interactions', total_interactions,
            'profile_views', profile_views, 'new_followers', new_followers
        ) as metadata,
        null::text as url

    from {{ ref('stg_instagram__account_daily') }}

),

instagram_latest_insights as (

    select distinct on (media_id) *
    from {{ ref('stg_instagram__media_insights') }}
    order by media_id asc, snapshot_date desc

),

instagram_posts as (

    select
        media.posted_date as date, 'instagram' as platform, 'post' as metric_type, media.media_id as object_id,
        null::bigint as followers, coalesce(insights.likes, media.like_count) as likes,
        coalesce(insights.comments, media.comments_count) as comments, insights.shares, insights.views,
        insights.reach, insights.saves,
        jsonb_build_object(
            'media_product_type', media.media_product_type, 'permalink', media.permalink,
            'insights_as_of', insights.snapshot_date, 'unavailable_reason', insights.unavailable_reason
        ) as metadata,
        media.permalink as url

    from {{ ref('stg_instagram__media') }} as media
    left join instagram_latest_insights as insights using (media_id)

),

instagram_stories as (

    select
        posted_date as date, 'instagram' as platform, 'story' as metric_type, story_id as object_id,
        null::bigint as followers, null::bigint as likes, replies as comments, shares, views, reach,
        null::bigint as saves, jsonb_build_object('total_interactions', total_interactions) as metadata,
        null as url

    from {{ ref('stg_instagram__stories') }}

),

vk_accounts as (

    select
        stats.metric_date as date, 'vk' as platform, 'account' as metric_type, stats.group_id as object_id,
        daily.members_count as followers, stats.likes, stats.comments, stats.shares, stats.views, stats.reach,
        null::bigint as saves,
        jsonb_build_object(
            'visitors', stats.visitors, 'subscribed', stats.subscribed,
            'unsubscribed', stats.unsubscribed, 'reach_subscribers', stats.reach_subscribers
        ) as metadata,
        null as url

    from {{ ref('stg_vk__group_stats') }} as stats
    left join {{ ref('stg_vk__group_daily') }} as daily
        on daily.group_id = stats.group_id and daily.snapshot_date = stats.metric_date

),

vk_members_only as (

    select
        daily.snapshot_date as date, 'vk' as platform, 'account' as metric_type, daily.group_id as object_id,
        daily.members_count as followers, null::bigint as likes, null::bigint as comments, null::bigint as shares,
        null::bigint as views, null::bigint as reach, null::bigint as saves, '{}'::jsonb as metadata, null as url

    from {{ ref('stg_vk__group_daily') }} as daily
    where
        not exists (
            select 1 from {{ ref('stg_vk__group_stats') }} as stats
            where stats.group_id = daily.group_id and stats.metric_date = daily.snapshot_date
        )

),

vk_posts as (

    select
        posted_date as date, 'vk' as platform, 'post' as metric_type, post_key as object_id,
        null::bigint as followers, likes, comments, reposts as shares, views, null::bigint as reach,
        null::bigint as saves, jsonb_build_object('views_missing', views is null) as metadata,
        'https://vk.com/wall' || post_key as url

    from {{ ref('stg_vk__wall_posts') }}

),

telegram_accounts as (

    select
        snapshot_date as date, 'telegram' as platform, 'account' as metric_type, chat_id as object_id,
        subscribers as followers, null::bigint as likes, null::bigint as comments, null::bigint as shares,
        null::bigint as views, null::bigint as reach, null::bigint as saves,
        jsonb_build_object('title', title) as metadata, null as url

    from {{ ref('stg_telegram__channel_daily') }}

),

telegram_channels as (

    select distinct on (chat_id) chat_id, username
    from {{ ref('stg_telegram__channel_daily') }}
    where username is not null
    order by chat_id asc, snapshot_date desc

),

telegram_posts as (

    select
        posts.posted_date as date, 'telegram' as platform, 'post' as metric_type, posts.post_key as object_id,
        null::bigint as followers, null::bigint as likes, null::bigint as comments, null::bigint as shares,
        null::bigint as views, null::bigint as reach, null::bigint as saves,
        jsonb_build_object('edited', posts.is_edited) as metadata,
        case
            when channels.username is not null then 'https://t.me/' || channels.username || '/' || posts.message_id
            else 'https://t.me/c/' || regexp_replace(posts.chat_id, '^-100', '') || '/' || posts.message_id
        end as url

    from {{ ref('stg_telegram__channel_posts') }} as posts
    left join telegram_channels as channels using (chat_id)

),

final as (

    select * from instagram_accounts
    union all
    select * from instagram_posts
    union all
    select * from instagram_stories
    union all
    select * from vk_accounts
    union all
    select * from vk_members_only
    union all
    select * from vk_posts
    union all
    select * from telegram_accounts
    union all
    select * from telegram_posts

)

select * from final
