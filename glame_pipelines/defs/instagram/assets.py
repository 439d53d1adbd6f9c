"""Instagram assets: the account's day, its media and their insights, and stories (caught within 24 h)."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from glame_pipelines.clients.http import MalformedRecord, required, whole_number
from glame_pipelines.clients.instagram import ACCOUNT_TOTAL_METRICS, InstagramClient, parse_timestamp
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.instagram.resources import InstagramResource
from glame_pipelines.defs.instagram.source import SOURCE
from glame_pipelines.defs.instagram.tables import (
    INSTAGRAM_ACCOUNT_DAILY,
    INSTAGRAM_MEDIA,
    INSTAGRAM_MEDIA_INSIGHTS,
    INSTAGRAM_STORIES,
)
from glame_pipelines.defs.loads import count_rows, load_day, raw_table_asset, readable, replace_rejects
from glame_pipelines.defs.partitions import is_latest_day, moscow_midnight, partition_days
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.warehouse.loader import Rejects, Window, load, table_exists

GROUP, LABEL = SOURCE.name, SOURCE.label
SNAPSHOT_FIELDS = ("followers_count", "follows_count", "media_count")


def account_day_row(client: InstagramClient, day: date, snapshot: dict | None, kept: tuple | None) -> tuple:
    """Insights of the day, and the follower snapshot when taken today (else the one taken back then)."""
    since, until = moscow_midnight(day), moscow_midnight(day + timedelta(1))
    totals = client.account_totals(since, until)
    series = client.follower_count(since, until)
    new_followers = next(iter(series.values()), None) if series else None
    counts = tuple(snapshot.get(f) for f in SNAPSHOT_FIELDS) if snapshot else (kept or (None, None, None))
    payload = {"insights": totals, "follower_count": series, "snapshot": snapshot}
    return (client.account_id, day, *counts, *(totals[m] for m in ACCOUNT_TOTAL_METRICS), new_followers, payload)


@raw_table_asset(GROUP, INSTAGRAM_ACCOUNT_DAILY, "api", daily=True)
def account_daily(context: dg.AssetExecutionContext, instagram: InstagramResource, warehouse: WarehouseResource):
    """One row per account per day: reach, views, engagement, likes, comments, shares, saves, profile views
    (metric_type=total_value), new followers, and followers/follows/media counts snapshotted on the latest day."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = instagram.client()
        days = partition_days(context)
        snapshot = client.account() if any(is_latest_day(d) for d in days) else None
        for day in days:
            kept = (
                conn.execute(
                    "select followers_count, follows_count, media_count from raw.instagram_account_daily "
                    "where account_id = %s and date = %s",
                    (client.account_id, day),
                ).fetchone()
                if table_exists(conn, INSTAGRAM_ACCOUNT_DAILY)
                else None
            )
            row = account_day_row(client, day, snapshot if is_latest_day(day) else None, kept)
            load_day(context, conn, INSTAGRAM_ACCOUNT_DAILY, day, [row], account_id=client.account_id)
        rows = count_rows(
            conn,
            INSTAGRAM_ACCOUNT_DAILY,
            "account_id = %s and date between %s and %s",
            (client.account_id, days[0], days[-1]),
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "days": len(days),
                "followers": snapshot["followers_count"] if snapshot else None,
            }
        )


def media_head(item) -> tuple[str, object]:
    """A media item's id and posting time; a media without them is quarantined, never loaded half-known."""
    media_id = required(item, "id", "the media")
    if not isinstance(media_id, (str, int)) or isinstance(media_id, bool):
        raise MalformedRecord(f"the media's 'id' is {media_id!r}, not an id")
    return str(media_id), parse_timestamp(required(item, "timestamp", "the media"))


def _count(media: dict, key: str) -> int | None:
    return None if media.get(key) is None else whole_number(media[key], f"the media's '{key}'")


def media_row(account_id: str, media: dict) -> tuple:
    media_id, posted = media_head(media)
    return (
        media_id,
        account_id,
        posted,
        media.get("media_type"),
        media.get("media_product_type"),
        _count(media, "like_count"),
        _count(media, "comments_count"),
        media.get("permalink"),
        media,
    )


@raw_table_asset(GROUP, INSTAGRAM_MEDIA, "api")
def media(context: dg.AssetExecutionContext, instagram: InstagramResource, warehouse: WarehouseResource):
    """Every post and reel of the account (paging.next followed to the end), upserted with its counters.
    A media item without an id or time is kept in raw.load_rejects with the reason."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = instagram.client()
        rejects = Rejects()
        rows = readable(client.media(), lambda item: media_row(client.account_id, item), rejects)
        result = load(conn, INSTAGRAM_MEDIA, rows, run_id=context.run_id)
        rejected = _quarantine(context, conn, "instagram/media", "all", rejects)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": count_rows(conn, INSTAGRAM_MEDIA),
                **result.as_metadata(),
                "rejected": rejected,
            }
        )


def _quarantine(context, conn, source: str, partition: str, rejects: Rejects) -> int:
    rejected = replace_rejects(conn, source, partition, rejects, context.run_id)
    if rejected:
        context.log.warning(f"{LABEL}: {rejected} unreadable records of {source} kept in raw.load_rejects")
    return rejected


@raw_table_asset(GROUP, INSTAGRAM_MEDIA_INSIGHTS, "api", daily=True)
def media_insights(context: dg.AssetExecutionContext, instagram: InstagramResource, warehouse: WarehouseResource):
    """Lifetime metrics of recent media (INSTAGRAM_MEDIA_INSIGHTS_DAYS) as of the latest day. Insights are
    only readable now, so older partitions are left as they were loaded."""
    days = [d for d in partition_days(context) if is_latest_day(d)]
    if not days:
        context.log.info(f"{LABEL}: media insights exist only for the latest day; nothing to load for this window")
        return dg.MaterializeResult(metadata={"skipped": "not the latest day"})
    day = days[-1]
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = instagram.client()
        cutoff = datetime.now(UTC) - timedelta(days=instagram.media_insights_days)
        rows, unavailable, rejects = [], 0, Rejects()
        for number, item in enumerate(client.media(), 1):
            try:
                media_id, posted = media_head(item)
            except ValueError as error:
                rejects.items.append((number, f"{type(error).__name__}: {error}", item))
                continue
            if posted < cutoff:
                break  # newest first
            values, reason = client.media_insights(item)
            unavailable += reason is not None
            rows.append(
                (
                    media_id,
                    day,
                    values.get("reach"),
                    values.get("views"),
                    values.get("likes"),
                    values.get("comments"),
                    values.get("shares"),
                    values.get("saved"),
                    values.get("total_interactions"),
                    reason,
                    {"media": item, "insights": values},
                )
            )
        load(conn, INSTAGRAM_MEDIA_INSIGHTS, rows, run_id=context.run_id, window=_day(day))
        rejected = _quarantine(context, conn, "instagram/media_insights", day.isoformat(), rejects)
        return dg.MaterializeResult(
            metadata={"dagster/row_count": len(rows), "without_insights": unavailable, "rejected": rejected}
        )


def _day(day: date) -> Window:
    return Window("date = %s", (day,), day.isoformat())


# every 4 hours (schedules.py), not in the daily run
@raw_table_asset(GROUP, INSTAGRAM_STORIES, "api", tags={"glame/schedule": "own"})
def stories(context: dg.AssetExecutionContext, instagram: InstagramResource, warehouse: WarehouseResource):
    """Current stories and their insights. A story lives 24 hours: its own schedule runs every few hours,
    and each capture updates the story's row, so the last one before it expires stays."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = instagram.client()
        rows, rejects = [], Rejects()
        for number, story in enumerate(client.stories(), 1):
            try:
                story_id, posted = media_head(story)
            except ValueError as error:
                rejects.items.append((number, f"{type(error).__name__}: {error}", story))
                continue
            values, reason = client.media_insights(story)
            rows.append(
                (
                    story_id,
                    client.account_id,
                    posted,
                    values.get("reach"),
                    values.get("views"),
                    values.get("replies"),
                    values.get("shares"),
                    values.get("total_interactions"),
                    {"story": story, "insights": values, "unavailable_reason": reason},
                )
            )
        result = load(conn, INSTAGRAM_STORIES, rows, run_id=context.run_id)
        rejected = _quarantine(context, conn, "instagram/stories", "all", rejects)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": count_rows(conn, INSTAGRAM_STORIES),
                "live_stories": len(rows),
                **result.as_metadata(),
                "rejected": rejected,
            }
        )


instagram_assets = [account_daily, media, media_insights, stories]
