"""Instagram's raw tables: the account per day, media with their insights, stories."""

from __future__ import annotations

from glame_pipelines.warehouse.loader import RawTable
from glame_pipelines.warehouse.tables import columns

INSTAGRAM_ACCOUNT_DAILY = RawTable(
    "instagram_account_daily",
    columns(
        "account_id text, date date, followers_count bigint, follows_count bigint, media_count bigint, reach bigint, "
        "views bigint, accounts_engaged bigint, total_interactions bigint, likes bigint, comments bigint, "
        "shares bigint, "
        "saves bigint, profile_views bigint, new_followers bigint"
    ),
    ("account_id", "date"),
    "One row per account per Moscow day: insights of the day, and the follower snapshot when taken that day.",
)

INSTAGRAM_MEDIA = RawTable(
    "instagram_media",
    columns(
        "media_id text, account_id text, posted_at timestamptz, media_type text, media_product_type text, "
        "like_count bigint, comments_count bigint, permalink text"
    ),
    ("media_id",),
    "Posts and reels, upserted.",
)

INSTAGRAM_MEDIA_INSIGHTS = RawTable(
    "instagram_media_insights",
    columns(
        "media_id text, date date, reach bigint, views bigint, likes bigint, comments bigint, shares bigint, "
        "saved bigint, total_interactions bigint, unavailable_reason text"
    ),
    ("media_id", "date"),
    "Lifetime metrics of each media as of a Moscow day.",
)

INSTAGRAM_STORIES = RawTable(
    "instagram_stories",
    columns(
        "story_id text, account_id text, posted_at timestamptz, reach bigint, views bigint, replies bigint, "
        "shares bigint, total_interactions bigint"
    ),
    ("story_id",),
    "Stories (they live 24 hours) with their latest insights; _loaded_at tells when they last changed.",
)

TABLES = (INSTAGRAM_ACCOUNT_DAILY, INSTAGRAM_MEDIA, INSTAGRAM_MEDIA_INSIGHTS, INSTAGRAM_STORIES)
