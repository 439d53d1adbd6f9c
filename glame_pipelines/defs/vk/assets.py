"""VK assets: community stats per Moscow day, the members snapshot, and wall posts with their counters."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg

from glame_pipelines.defs.shared import (
    WarehouseResource,
    count_rows,
    daily_partitions,
    is_latest_day,
    load_day,
    moscow_midnight,
    partition_days,
    reported_as_failure,
)
from glame_pipelines.defs.vk.resources import VkResource
from glame_pipelines.settings import TIMEZONE
from glame_pipelines.warehouse.loader import load
from glame_pipelines.warehouse.tables import VK_GROUP_DAILY, VK_GROUP_STATS, VK_WALL_POSTS

MOSCOW = ZoneInfo(TIMEZONE)
GROUP = "vk"
LABEL = "VK"
STAT_FIELDS = {
    "visitors": ("views", "visitors", "mobile_views"),
    "reach": ("reach", "reach_subscribers", "mobile_reach"),
    "activity": ("likes", "comments", "copies", "subscribed", "unsubscribed", "hidden"),
}


def stats_row(group_id: str, period: dict) -> tuple:
    day = datetime.fromtimestamp(period["period_from"], MOSCOW).date()
    values = [(period.get(section) or {}).get(name) for section, names in STAT_FIELDS.items() for name in names]
    return (group_id, day, *values, period)


@dg.asset(key_prefix=GROUP, group_name=GROUP, partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), kinds={"api", "postgres"},
          metadata={"table": "raw.vk_group_stats"})
def group_stats(context: dg.AssetExecutionContext, vk: VkResource, warehouse: WarehouseResource):
    """stats.get with interval=day: views and visitors, reach (total, subscribers, mobile), and activity
    (likes, comments, copies, subscribed, unsubscribed, hidden)."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = vk.client()
        days = partition_days(context)
        periods = client.stats(vk.group_id, moscow_midnight(days[0]), moscow_midnight(days[-1] + timedelta(1)))
        by_day = {row[1]: row for row in (stats_row(vk.group_id, p) for p in periods)}
        for day in days:
            load_day(context, conn, VK_GROUP_STATS, day, [by_day[day]] if day in by_day else [], group_id=vk.group_id)
        rows = count_rows(conn, VK_GROUP_STATS, "group_id = %s and date between %s and %s", (vk.group_id, days[0], days[-1]))
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "days": len(days)})


@dg.asset(key_prefix=GROUP, group_name=GROUP, partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), kinds={"api", "postgres"},
          metadata={"table": "raw.vk_group_daily"})
def group_daily(context: dg.AssetExecutionContext, vk: VkResource, warehouse: WarehouseResource):
    """Members count, one row per group per day. VK gives only the current count: it is recorded for the
    latest day, and a re-run replaces that day's row instead of adding one."""
    days = [d for d in partition_days(context) if is_latest_day(d)]
    if not days:
        context.log.info(f"{LABEL}: the members count exists only for the latest day; nothing to load")
        return dg.MaterializeResult(metadata={"skipped": "not the latest day"})
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        group = vk.client().group(vk.group_id)
        row = (vk.group_id, days[-1], group.get("name"), group.get("members_count"), group)
        load_day(context, conn, VK_GROUP_DAILY, days[-1], [row], group_id=vk.group_id)
        return dg.MaterializeResult(metadata={"dagster/row_count": 1, "members": group.get("members_count")})


def post_row(post: dict) -> tuple:
    """A post's counters; `views` is missing on some posts (reposts, old ones) and stays null."""
    return (str(post["owner_id"]), int(post["id"]), datetime.fromtimestamp(post["date"], timezone.utc),
            (post.get("likes") or {}).get("count"), (post.get("comments") or {}).get("count"),
            (post.get("reposts") or {}).get("count"), (post.get("views") or {}).get("count"), post)


@dg.asset(key_prefix=GROUP, group_name=GROUP, kinds={"api", "postgres"}, metadata={"table": "raw.vk_wall_posts"})
def wall_posts(context: dg.AssetExecutionContext, vk: VkResource, warehouse: WarehouseResource):
    """Wall posts (wall.get by 100, offset paging) of the last VK_WALL_LOOKBACK_DAYS, upserted with likes,
    comments, reposts and views as they are now."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = vk.client()
        not_before = (datetime.now(timezone.utc) - timedelta(days=vk.wall_lookback_days)
                      if vk.wall_lookback_days > 0 else None)
        result = load(conn, VK_WALL_POSTS, (post_row(p) for p in client.wall(vk.group_id, not_before=not_before)),
                      run_id=context.run_id)
        return dg.MaterializeResult(metadata={"dagster/row_count": count_rows(conn, VK_WALL_POSTS),
                                              **result.as_metadata()})


vk_assets = [group_stats, group_daily, wall_posts]
