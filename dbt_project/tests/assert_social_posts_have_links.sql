-- Every VK and Telegram post links to itself (the morning digest shows the post of the day with its link),
-- and no account or story row pretends to have one.
select date, platform, metric_type, object_id, url
from {{ ref('social_daily') }}
where (metric_type = 'post' and platform in ('vk', 'telegram') and (url is null or url not like 'https://%'))
    or (metric_type in ('account', 'story') and url is not null)
