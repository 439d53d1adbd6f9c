"""VK assets: community stats per Moscow day, the members snapshot, and wall posts with their counters."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from glame_pipelines.clients.http import MalformedRecord, number, required, unix_time, whole_number
from glame_pipelines.clients.vk import STAT_FIELDS
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.loads import count_rows, load_day, raw_table_asset, readable, replace_rejects
from glame_pipelines.defs.partitions import is_latest_day, moscow_midnight, partition_days
from glame_pipelines.defs.vk.resources import VkResource
from glame_pipelines.defs.vk.source import SOURCE
from glame_pipelines.defs.vk.tables import VK_GROUP_DAILY, VK_GROUP_STATS, VK_WALL_POSTS
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.settings import TIMEZONE
from glame_pipelines.warehouse.loader import Rejects, load

MOSCOW = ZoneInfo(TIMEZONE)
GROUP, LABEL = SOURCE.name, SOURCE.label


def _whole(value) -> int | None:
    return None if value is None else int(number(value))


def stats_row(group_id: str, period: dict) -> tuple:
    """A period as VkClient.stats checked it: counters as numbers (text parsed), a missing one null."""
    day = datetime.fromtimestamp(_whole(period["period_from"]), MOSCOW).date()
    values = [_whole((period.get(section) or {}).get(name)) for section, names in STAT_FIELDS.items() for name in names]
    return (group_id, day, *values, period)


@raw_table_asset(GROUP, VK_GROUP_STATS, "api", daily=True)
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
        rows = count_rows(
            conn, VK_GROUP_STATS, "group_id = %s and date between %s and %s", (vk.group_id, days[0], days[-1])
        )
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "days": len(days)})


@raw_table_asset(GROUP, VK_GROUP_DAILY, "api", daily=True)
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
    """A post's counters; `views` is missing on some posts (reposts, old ones) and stays null. A post
    without its owner, id or date is quarantined with the reason."""
    owner = whole_number(required(post, "owner_id", "the post"), "the post's 'owner_id'")
    return (
        str(owner),
        whole_number(required(post, "id", "the post"), "the post's 'id'"),
        unix_time(required(post, "date", "the post"), "the post's 'date'"),
        _counter(post, "likes"),
        _counter(post, "comments"),
        _counter(post, "reposts"),
        _counter(post, "views"),
        post,
    )


def _counter(post: dict, name: str) -> int | None:
    """`{name: {"count": n}}`; absent (views on reposts) is null, another shape quarantines the post."""
    value = post.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedRecord(f"the post's '{name}' is {value!r}, not an object with a count")
    count = value.get("count")
    return None if count is None else whole_number(count, f"the post's '{name}.count'")


@raw_table_asset(GROUP, VK_WALL_POSTS, "api")
def wall_posts(context: dg.AssetExecutionContext, vk: VkResource, warehouse: WarehouseResource):
    """Wall posts (wall.get by 100, offset paging) of the last VK_WALL_LOOKBACK_DAYS, upserted with likes,
    comments, reposts and views as they are now. An unreadable post is kept in raw.load_rejects."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = vk.client()
        not_before = datetime.now(UTC) - timedelta(days=vk.wall_lookback_days) if vk.wall_lookback_days > 0 else None
        rejects = Rejects()
        result = load(
            conn,
            VK_WALL_POSTS,
            readable(client.wall(vk.group_id, not_before=not_before), post_row, rejects),
            run_id=context.run_id,
        )
        rejected = replace_rejects(conn, "vk/wall_posts", "all", rejects, context.run_id)
        if rejected:
            context.log.warning(f"{LABEL}: {rejected} unreadable wall posts kept in raw.load_rejects")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": count_rows(conn, VK_WALL_POSTS),
                **result.as_metadata(),
                "rejected": rejected,
            }
        )


vk_assets = [group_stats, group_daily, wall_posts]
