"""Sending the digest and its alerts once: a record of every sent message in the warehouse.

`ops.telegram_messages` holds one row per (day, kind, key): the digest of a day, or a metric alerted
that day (the severe anomalies found together go out in one message, each metric once a day). The rows
are inserted, the message sent and the rows committed in one transaction, so a failed send leaves no
record (the next attempt sends), and two attempts at once cannot both send: the second waits on the
first's rows and then finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg.types.json import Jsonb

from glame_pipelines.clients.telegram import TelegramClient
from glame_pipelines.digest.report import Digest, alert_message
from glame_pipelines.digest.text import split_message

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
    keys: list[str]
    message_ids: list[int]

    @property
    def key(self) -> str:
        return ",".join(self.keys)


def ensure_log(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def _claim(conn: psycopg.Connection, day: date, kind: str, key: str, chat_id: str, text: str) -> bool:
    return (
        conn.execute(
            "insert into ops.telegram_messages (day, kind, key, chat_id, message_ids, text) "
            "values (%s, %s, %s, %s, '[]', %s) on conflict do nothing returning 1",
            (day, kind, key, chat_id, text),
        ).fetchone()
        is not None
    )


def _send(
    conn: psycopg.Connection,
    client: TelegramClient,
    chat_id: str,
    day: date,
    kind: str,
    keys: list[str],
    parts: list[str],
) -> Sent:
    ids = [int(client.send_message(chat_id, part)["message_id"]) for part in parts]
    conn.execute(
        "update ops.telegram_messages set message_ids = %s, text = %s, chat_id = %s, sent_at = now() "
        "where day = %s and kind = %s and key = any(%s)",
        (Jsonb(ids), "\n\n".join(parts), chat_id, day, kind, keys),
    )
    return Sent(kind, keys, ids)


def send_digest(
    conn: psycopg.Connection, client: TelegramClient, chat_id: str, digest: Digest, force: bool = False
) -> Sent | None:
    """The day's digest unless it was sent already (or `force`); None when nothing was sent."""
    parts = digest.parts()
    with conn.transaction():
        if not _claim(conn, digest.day, "digest", "", chat_id, "\n\n".join(parts)) and not force:
            return None
        return _send(conn, client, chat_id, digest.day, "digest", [""], parts)


def send_alerts(conn: psycopg.Connection, client: TelegramClient, chat_id: str, digest: Digest) -> Sent | None:
    """The severe anomalies of the day not alerted yet, together in one message; None when there are none."""
    with conn.transaction():
        new = [alert for alert in digest.alerts if _claim(conn, digest.day, "alert", alert.key, chat_id, alert.html)]
        if not new:
            return None
        return _send(
            conn,
            client,
            chat_id,
            digest.day,
            "alert",
            [alert.key for alert in new],
            split_message(alert_message(digest.day, new)),
        )


def deliver(
    conn: psycopg.Connection, client: TelegramClient, chat_id: str, digest: Digest, force: bool = False
) -> list[Sent]:
    """The new severe alerts first (each metric once per day, whatever `force` says), then the digest
    (once per day unless forced). Returns what was actually sent."""
    ensure_log(conn)
    sent = [send_alerts(conn, client, chat_id, digest), send_digest(conn, client, chat_id, digest, force)]
    return [item for item in sent if item]


def sent_log(conn: psycopg.Connection, day: date) -> list[tuple[str, str, list[int]]]:
    ensure_log(conn)
    return conn.execute(
        "select kind, key, message_ids from ops.telegram_messages where day = %s order by kind, key", (day,)
    ).fetchall()
