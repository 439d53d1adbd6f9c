"""Telegram assets: the channel's daily subscriber snapshot, and channel posts from getUpdates."""

import dagster as dg

from glame_pipelines.clients.http import required, unix_time, whole_number
from glame_pipelines.clients.telegram import UpdatesUnavailable
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.loads import count_rows, load_day, raw_table_asset, readable, replace_rejects
from glame_pipelines.defs.partitions import is_latest_day, partition_days
from glame_pipelines.defs.telegram.resources import TelegramResource
from glame_pipelines.defs.telegram.source import SOURCE
from glame_pipelines.defs.telegram.tables import TELEGRAM_CHANNEL_DAILY, TELEGRAM_CHANNEL_POSTS
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.warehouse.loader import Rejects, load, table_exists
from glame_pipelines.warehouse.tables import SOURCE_STATE

GROUP, LABEL = SOURCE.name, SOURCE.label
OFFSET_STATE = "telegram:update_offset"


@raw_table_asset(GROUP, TELEGRAM_CHANNEL_DAILY, "api", daily=True)
def channel_daily(context: dg.AssetExecutionContext, telegram: TelegramResource, warehouse: WarehouseResource):
    """Title, type, description and subscribers of the channel, one row per day. The Bot API has no
    history: the count is recorded for the latest day; a re-run replaces that day's row."""
    days = [d for d in partition_days(context) if is_latest_day(d)]
    if not days:
        context.log.info(f"{LABEL}: the Bot API gives only the current subscriber count; nothing to load")
        return dg.MaterializeResult(metadata={"skipped": "not the latest day"})
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = telegram.client()
        chat = client.chat(telegram.chat_id())
        members = client.member_count(telegram.chat_id())
        row = (
            str(chat["id"]),
            days[-1],
            chat.get("username"),
            chat.get("title"),
            chat.get("type"),
            members,
            {"chat": chat, "member_count": members},
        )
        load_day(context, conn, TELEGRAM_CHANNEL_DAILY, days[-1], [row], chat_id=str(chat["id"]))
        return dg.MaterializeResult(metadata={"dagster/row_count": 1, "subscribers": members})


def post_row(update: dict) -> tuple | None:
    """A channel post's row; None for an update of another kind. A post without its chat, id or date is
    quarantined with the reason."""
    post = update.get("channel_post") or update.get("edited_channel_post")
    if not post:
        return None
    chat = required(post, "chat", "the post")
    chat_id = whole_number(required(chat, "id", "the post's chat"), "the post's 'chat.id'")
    return (
        str(chat_id),
        whole_number(required(post, "message_id", "the post"), "the post's 'message_id'"),
        unix_time(required(post, "date", "the post"), "the post's 'date'"),
        "edited_channel_post" in update,
        post.get("text") or post.get("caption"),
        post,
    )


@raw_table_asset(GROUP, TELEGRAM_CHANNEL_POSTS, "api")
def channel_posts(context: dg.AssetExecutionContext, telegram: TelegramResource, warehouse: WarehouseResource):
    """Channel posts from `channel_post` updates (the bot must be a channel admin, with no webhook set).
    Updates are confirmed only with TELEGRAM_CONSUME_UPDATES=true, so another consumer of the bot never
    loses them; a 409 (webhook or another poller) is reported as "updates unavailable" without failing."""
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = telegram.client()
        offset = _stored_offset(conn) if telegram.confirms_updates() else None
        try:
            updates = client.updates(offset=offset)
        except UpdatesUnavailable as error:
            context.log.warning(str(error))
            return dg.MaterializeResult(metadata={"updates": "unavailable", "reason": str(error)})
        rejects = Rejects()
        rows = list(readable(updates, post_row, rejects))
        result = load(conn, TELEGRAM_CHANNEL_POSTS, rows, run_id=context.run_id)
        rejected = replace_rejects(conn, "telegram/channel_posts", "all", rejects, context.run_id)
        if rejected:
            context.log.warning(f"{LABEL}: {rejected} unreadable channel posts kept in raw.load_rejects")
        if telegram.confirms_updates() and updates:
            newest = max(u["update_id"] for u in updates)
            load(conn, SOURCE_STATE, [(OFFSET_STATE, {"offset": newest + 1})], run_id=context.run_id)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": count_rows(conn, TELEGRAM_CHANNEL_POSTS),
                "updates": len(updates),
                **result.as_metadata(),
                "rejected": rejected,
            }
        )


def _stored_offset(conn) -> int | None:
    if not table_exists(conn, SOURCE_STATE):
        return None
    row = conn.execute("select payload from raw.source_state where name = %s", (OFFSET_STATE,)).fetchone()
    return row[0]["offset"] if row else None


telegram_assets = [channel_daily, channel_posts]
