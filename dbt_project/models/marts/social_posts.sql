-- One row per published post or story with its engagement and a link to open it: the dashboards' "top
-- posts" tables. Engagement = likes + comments + shares (+ saves on Instagram), as last read.
with

social as (

    select * from {{ ref('social_daily') }}
    where metric_type in ('post', 'story')

),

telegram_channels as (

    select distinct on (chat_id) chat_id, ltrim(username, '@') as username
    from {{ ref('stg_telegram__channel_daily') }}
    where username is not null
    order by chat_id asc, snapshot_date desc

),

final as (

    select
        social.date as posted_date,
        social.platform,
        social.metric_type,
        social.object_id,
        social.likes,
        social.comments,
        social.shares,
        social.views,
        social.reach,
        social.saves,
        coalesce(social.likes, 0) + coalesce(social.comments, 0) + coalesce(social.shares, 0)
        + coalesce(social.saves, 0) as engagement,
        case
            when social.platform = 'instagram' then social.metadata ->> 'permalink'
            when social.platform = 'vk' then 'https://vk.com/wall' || social.object_id
            when social.platform = 'telegram' and telegram_channels.username is not null
                then 'https://t.me/' || telegram_channels.username || '/' || split_part(social.object_id, '_', 2)
        end as url

    from social
    left join telegram_channels
        on social.platform = 'telegram' and telegram_channels.chat_id = split_part(social.object_id, '_', 1)

)

select * from final
