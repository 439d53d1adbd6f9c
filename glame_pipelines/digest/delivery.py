"""Sending the digest and its alerts once: a record of every sent message in the warehouse.

`ops.telegram_messages` holds one row per (day, kind, key): the digest of a day, or one alert of a day
per metric. The row is inserted, the message sent and the row committed in one transaction, so a
failed send leaves no record (the next attempt sends), and two attempts at once cannot both send:
the second waits on the first's row and then finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg.types.json import Jsonb

from glame_pipelines.clients.telegram import TelegramClient
from glame_pipelines.digest.report import Digest

DDL = """
create schema if not exists ops;
create table if not exists ops.telegram_messages (
    day date not null,
    kind text not null,
    key text not null,
    chat_id text not null,
    message_ids jsonb not null,
    text text not null,
    sent_at timestamptz not null default now(),
    primary key (day, kind, key)
);
comment on table ops.telegram_messages is
    'Digests and anomaly alerts sent to Telegram: one row per day, kind (digest/alert) and key (metric)';
"""


@dataclass
class Sent:
    kind: str
    key: str
    message_ids: list[int]


def ensure_log(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def send_once(conn: psycopg.Connection, client: TelegramClient, chat_id: str, day: date, kind: str, key: str,
              parts: list[str], force: bool = False) -> Sent | None:
    """Send `parts` unless (day, kind, key) was sent already (or `force`); None when nothing was sent."""
    with conn.transaction():
        claimed = conn.execute(
            "insert into ops.telegram_messages (day, kind, key, chat_id, message_ids, text) "
            "values (%s, %s, %s, %s, '[]', %s) on conflict do nothing returning 1",
            (day, kind, key, chat_id, "\n\n".join(parts))).fetchone()
        if not claimed and not force:
            return None
        ids = [int(client.send_message(chat_id, part)["message_id"]) for part in parts]
        conn.execute("update ops.telegram_messages set message_ids = %s, text = %s, chat_id = %s, sent_at = now() "
                     "where day = %s and kind = %s and key = %s",
                     (Jsonb(ids), "\n\n".join(parts), chat_id, day, kind, key))
    return Sent(kind, key, ids)


def deliver(conn: psycopg.Connection, client: TelegramClient, chat_id: str, digest: Digest,
            force: bool = False) -> list[Sent]:
    """Severe alerts first (each once per day and metric; none when nothing is complete enough to
    judge), then the digest (once per day unless forced). Returns what was actually sent."""
    ensure_log(conn)
    sent = []
    for alert in digest.alerts:
        if result := send_once(conn, client, chat_id, digest.day, "alert", alert.key, [alert.html]):
            sent.append(result)
    if result := send_once(conn, client, chat_id, digest.day, "digest", "", digest.parts(), force=force):
        sent.append(result)
    return sent


def sent_log(conn: psycopg.Connection, day: date) -> list[tuple[str, str, list[int]]]:
    ensure_log(conn)
    return conn.execute("select kind, key, message_ids from ops.telegram_messages where day = %s order by kind, key",
                        (day,)).fetchall()
