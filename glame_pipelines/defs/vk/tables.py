"""VK's raw tables: community statistics and members per day, wall posts."""

from __future__ import annotations

from glame_pipelines.warehouse.loader import RawTable
from glame_pipelines.warehouse.tables import columns

VK_GROUP_STATS = RawTable(
    "vk_group_stats",
    columns(
        "group_id text, date date, views bigint, visitors bigint, mobile_views bigint, reach bigint, "
        "reach_subscribers bigint, mobile_reach bigint, likes bigint, comments bigint, copies bigint, "
        "subscribed bigint, "
        "unsubscribed bigint, hidden bigint"
    ),
    ("group_id", "date"),
    "stats.get by day.",
)

VK_GROUP_DAILY = RawTable(
    "vk_group_daily",
    columns("group_id text, date date, name text, members_count bigint"),
    ("group_id", "date"),
    "Members snapshot, one row per group per day.",
)

VK_WALL_POSTS = RawTable(
    "vk_wall_posts",
    columns(
        "owner_id text, post_id bigint, posted_at timestamptz, likes bigint, comments bigint, reposts bigint, "
        "views bigint"
    ),
    ("owner_id", "post_id"),
    "Wall posts with their counters (views may be missing).",
)

TABLES = (VK_GROUP_STATS, VK_GROUP_DAILY, VK_WALL_POSTS)
