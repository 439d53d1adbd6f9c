"""Telegram's raw tables: the channel's subscribers per day and its posts."""

from __future__ import annotations

from glame_pipelines.warehouse.loader import RawTable
from glame_pipelines.warehouse.tables import columns

TELEGRAM_CHANNEL_DAILY = RawTable(
    "telegram_channel_daily",
    columns("chat_id text, date date, username text, title text, type text, member_count bigint"),
    ("chat_id", "date"),
    "Subscribers snapshot, one row per channel per day.",
)

TELEGRAM_CHANNEL_POSTS = RawTable(
    "telegram_channel_posts",
    columns("chat_id text, message_id bigint, posted_at timestamptz, edited boolean, text text"),
    ("chat_id", "message_id"),
    "Channel posts seen through getUpdates.",
)

TABLES = (TELEGRAM_CHANNEL_DAILY, TELEGRAM_CHANNEL_POSTS)
