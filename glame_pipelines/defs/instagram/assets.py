"""Instagram assets: the account's day, its media and their insights, and stories (caught within 24 h)."""

from datetime import date, datetime, timedelta, timezone

import dagster as dg

from glame_pipelines.clients.instagram import ACCOUNT_TOTAL_METRICS, InstagramClient, parse_timestamp
from glame_pipelines.defs.instagram.resources import InstagramResource
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
from glame_pipelines.warehouse.loader import load, table_exists
from glame_pipelines.warehouse.tables import (
    INSTAGRAM_ACCOUNT_DAILY,
    INSTAGRAM_MEDIA,
    INSTAGRAM_MEDIA_INSIGHTS,
    INSTAGRAM_STORIES,
)

GROUP = "instagram"
LABEL = "Instagram"
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


@dg.asset(key_prefix=GROUP, group_name=GROUP, partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), kinds={"api", "postgres"},
          metadata={"table": "raw.instagram_account_daily"})
def account_daily(context: dg.AssetExecutionContext, instagram: InstagramResource, warehouse: WarehouseResource):
    """One row per account per day: reach, views, engagement, likes, comments, shares, saves, profile views
    (metric_type=total_value), new followers, and followers/follows/media counts snapshotted on the latest day."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = instagram.client()
        days = partition_days(context)
        snapshot = client.account() if any(is_latest_day(d) for d in days) else None
        for day in days:
            kept = conn.execute(
                "select followers_count, follows_count, media_count from raw.instagram_account_daily "
                "where account_id = %s and date = %s", (client.account_id, day)).fetchone() if table_exists(conn, INSTAGRAM_ACCOUNT_DAILY) else None
            row = account_day_row(client, day, snapshot if is_latest_day(day) else None, kept)
            load_day(context, conn, INSTAGRAM_ACCOUNT_DAILY, day, [row], account_id=client.account_id)
        rows = count_rows(conn, INSTAGRAM_ACCOUNT_DAILY, "account_id = %s and date between %s and %s",
                          (client.account_id, days[0], days[-1]))
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "days": len(days),
                                              "followers": snapshot["followers_count"] if snapshot else None})


def media_row(account_id: str, media: dict) -> tuple:
    return (media["id"], account_id, parse_timestamp(media["timestamp"]), media.get("media_type"),
            media.get("media_product_type"), media.get("like_count"), media.get("comments_count"),
            media.get("permalink"), media)


@dg.asset(key_prefix=GROUP, group_name=GROUP, kinds={"api", "postgres"}, metadata={"table": "raw.instagram_media"})
def media(context: dg.AssetExecutionContext, instagram: InstagramResource, warehouse: WarehouseResource):
    """Every post and reel of the account (paging.next followed to the end), upserted with its counters."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = instagram.client()
        result = load(conn, INSTAGRAM_MEDIA, (media_row(client.account_id, m) for m in client.media()),
                      run_id=context.run_id)
        return dg.MaterializeResult(metadata={"dagster/row_count": count_rows(conn, INSTAGRAM_MEDIA),
                                              **result.as_metadata()})


@dg.asset(key_prefix=GROUP, group_name=GROUP, partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), kinds={"api", "postgres"},
          metadata={"table": "raw.instagram_media_insights"})
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
        cutoff = datetime.now(timezone.utc) - timedelta(days=instagram.media_insights_days)
        rows, unavailable = [], 0
        for item in client.media():
            if parse_timestamp(item["timestamp"]) < cutoff:
                break  # newest first
            values, reason = client.media_insights(item)
            unavailable += reason is not None
            rows.append((item["id"], day, values.get("reach"), values.get("views"), values.get("likes"),
                         values.get("comments"), values.get("shares"), values.get("saved"),
                         values.get("total_interactions"), reason, {"media": item, "insights": values}))
        load(conn, INSTAGRAM_MEDIA_INSIGHTS, rows, run_id=context.run_id,
             window=_day(day))
        return dg.MaterializeResult(metadata={"dagster/row_count": len(rows), "without_insights": unavailable})


def _day(day: date):
    from glame_pipelines.warehouse.loader import Window

    return Window("date = %s", (day,), day.isoformat())


@dg.asset(key_prefix=GROUP, group_name=GROUP, kinds={"api", "postgres"}, metadata={"table": "raw.instagram_stories"})
def stories(context: dg.AssetExecutionContext, instagram: InstagramResource, warehouse: WarehouseResource):
    """Current stories and their insights. A story lives 24 hours: its own schedule runs every few hours,
    and each capture updates the story's row, so the last one before it expires stays."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = instagram.client()
        rows = []
        for story in client.stories():
            values, reason = client.media_insights(story)
            rows.append((story["id"], client.account_id, parse_timestamp(story["timestamp"]), values.get("reach"),
                         values.get("views"), values.get("replies"), values.get("shares"),
                         values.get("total_interactions"),
                         {"story": story, "insights": values, "unavailable_reason": reason}))
        result = load(conn, INSTAGRAM_STORIES, rows, run_id=context.run_id)
        return dg.MaterializeResult(metadata={"dagster/row_count": count_rows(conn, INSTAGRAM_STORIES),
                                              "live_stories": len(rows), **result.as_metadata()})


instagram_assets = [account_daily, media, media_insights, stories]
