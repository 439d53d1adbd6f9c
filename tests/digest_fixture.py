"""Nine weeks of a small brand in the raw tables, for the morning digest: three stores with counters, the
online shop, the site, Instagram, VK and Telegram. Every figure is deterministic (seeded), with a weekly
rhythm and a few percent of noise, so a normal day has no anomaly.

Three "yesterdays" end the data:
- NORMAL (Tuesday 2025-12-02): an ordinary day;
- DROP (Wednesday 2025-12-03): the CENTRUM store's revenue is 40 % of its usual (a 60 % drop);
- STALE (Thursday 2025-12-04): Yandex.Metrika loaded nothing for the day.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from marts_fixture import ORDER, SHIFT, sale

from glame_pipelines.defs.ftp_counters.tables import FTP_COUNTER_VISITS
from glame_pipelines.defs.instagram.tables import INSTAGRAM_ACCOUNT_DAILY, INSTAGRAM_MEDIA, INSTAGRAM_MEDIA_INSIGHTS
from glame_pipelines.defs.onec.tables import ONEC_PRODUCTS, ONEC_RECEIPTS, ONEC_SALES, ONEC_STORES
from glame_pipelines.defs.telegram.tables import TELEGRAM_CHANNEL_DAILY, TELEGRAM_CHANNEL_POSTS
from glame_pipelines.defs.vk.tables import VK_GROUP_DAILY, VK_GROUP_STATS, VK_WALL_POSTS
from glame_pipelines.defs.yandex_metrika.tables import YANDEX_METRIKA_TRAFFIC
from glame_pipelines.warehouse.loader import ensure_table, load
from glame_pipelines.warehouse.tables import all_raw_tables

NORMAL, DROP, STALE = date(2025, 12, 2), date(2025, 12, 3), date(2025, 12, 4)
FIRST = NORMAL - timedelta(weeks=8, days=1)  # the Monday before the first baseline Tuesday
STORES = {  # counter folder: (1C Склад_Key, name in 1C, usual revenue, usual receipts, usual visitors)
    "CENTRUM": ("b5b075c2-a355-5256-83ea-c38497c7bca8", 'GLAME <ТЦ> "Центрум" & Co', 180_000, 30, 420),
    "YALTA": ("32b3ea24-1e4b-50b5-8a81-ef8348413b7f", "GLAME Ялта", 120_000, 20, 300),
    "SEVASTOPOL": ("6a9fb5d8-fb3e-5a11-9f4a-1dde21fa4d70", "GLAME Севастополь", 90_000, 15, 260),
}
ONLINE = "0d8483ba-1341-5348-a502-8c2c516af529"
WEEKDAY = (0.8, 0.9, 0.95, 1.0, 1.1, 1.4, 1.3)  # Monday .. Sunday
PRODUCT = "p1-ring"
SOURCES = ("Search engine traffic", "Direct traffic", "Social network traffic")
IG_ACCOUNT, VK_GROUP, TG_CHAT = "17841400000000001", "219876543", "-1001234567890"


def days() -> list[date]:
    return [FIRST + timedelta(n) for n in range((STALE - FIRST).days + 1)]


def noise(rng: random.Random, spread: float = 0.05) -> float:
    return 1 + rng.uniform(-spread, spread)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=3)


def store_rows(day: date, rng: random.Random) -> dict:
    """A shift report per store (one line per receipt), the receipts, a counter file, some returns. The
    1C name of CENTRUM needs HTML escaping; the counters' names come from the store mapping seed."""
    out: dict = {ONEC_SALES: [], ONEC_RECEIPTS: [], FTP_COUNTER_VISITS: []}
    for folder, (key, _, revenue, receipts, visitors) in STORES.items():
        factor = WEEKDAY[day.weekday()]
        count = round(receipts * factor * noise(rng))
        total = revenue * factor * noise(rng) * (0.4 if (day, folder) == (DROP, "CENTRUM") else 1)
        recorder = f"shift-{folder}-{day:%y%m%d}"
        for n in range(count):
            out[ONEC_SALES].append(sale(recorder, n + 1, SHIFT, at(day, 21), key, PRODUCT, 1, round(total / count)))
            out[ONEC_RECEIPTS].append(
                (
                    f"r-{folder}-{day:%y%m%d}-{n}",
                    "StandardODATA.Document_ЧекККМ",
                    at(day, 10 + n % 11, n % 60),
                    None,
                    key,
                    str(round(total / count)),
                    {"Posted": True},
                )
            )
        if day.weekday() in (1, 6) and folder == "CENTRUM":  # returns on Tuesdays and Sundays
            out[ONEC_SALES].append(
                sale(recorder, count + 1, SHIFT, at(day, 21), key, PRODUCT, -1, -round(3_000 * noise(rng)))
            )
        people = round(visitors * factor * noise(rng))
        out[FTP_COUNTER_VISITS].append(
            (
                folder,
                f"{folder}/{day:%y%m%d}.txt",
                1,
                day,
                at(day, 10),
                at(day, 22),
                people,
                people - 3,
                "megacount_text",
                "MEGACOUNT_3D",
                {},
            )
        )
    for n in range(round(7 * noise(rng, 0.1))):
        out[ONEC_SALES].append(
            sale(f"order-{day:%y%m%d}-{n}", 1, ORDER, at(day, 15), ONLINE, PRODUCT, 1, round(6_000 * noise(rng)))
        )
    return out


def web_and_social_rows(day: date, index: int, rng: random.Random) -> dict:
    factor = WEEKDAY[day.weekday()]
    out: dict = {YANDEX_METRIKA_TRAFFIC: []}
    if day != STALE:
        for source, share in zip(SOURCES, (600, 300, 150), strict=True):
            visits = round(share * factor * noise(rng))
            out[YANDEX_METRIKA_TRAFFIC].append(
                (
                    "98765432",
                    day,
                    source,
                    visits,
                    round(visits * 0.8),
                    round(visits * 0.3),
                    visits * 3,
                    25,
                    3,
                    120,
                    None,
                    None,
                    False,
                    1,
                    {},
                )
            )
    followers = 10_000 + 12 * index
    out[INSTAGRAM_ACCOUNT_DAILY] = [
        (
            IG_ACCOUNT,
            day,
            followers,
            300,
            500,
            round(4_000 * factor * noise(rng)),
            9_000,
            700,
            900,
            700,
            80,
            40,
            80,
            150,
            15,
            {},
        )
    ]
    out[VK_GROUP_STATS] = [
        (VK_GROUP, day, 2_500, 900, 2_000, round(1_800 * factor * noise(rng)), 900, 1_500, 120, 15, 6, 9, 4, 0, {})
    ]
    out[VK_GROUP_DAILY] = [(VK_GROUP, day, "GLAME", 5_000 + 5 * index, {})]
    out[TELEGRAM_CHANNEL_DAILY] = [(TG_CHAT, day, "glame_jewelry", "GLAME", "channel", 3_000 + 2 * index, {})]
    media = f"179{index:05d}"
    out[INSTAGRAM_MEDIA] = [
        (
            media,
            IG_ACCOUNT,
            utc(day, 12),
            "IMAGE",
            "FEED",
            150 + index,
            10,
            f"https://www.instagram.com/p/GL{index:03d}/",
            {},
        )
    ]
    out[INSTAGRAM_MEDIA_INSIGHTS] = [(media, day, 2_000, 3_000, 150 + index, 10, 5, 20, 185 + index, None, {})]
    out[VK_WALL_POSTS] = [(f"-{VK_GROUP}", 1_000 + index, utc(day, 14), 60, 4, 2, 1_500, {"text": "Новинки"})]
    out[TELEGRAM_CHANNEL_POSTS] = [(TG_CHAT, 500 + index, utc(day, 16), False, "Пост <GLAME> & новинки", {})]
    return out


def rows() -> dict:
    rng = random.Random(14)
    out: dict = {
        ONEC_STORES: [(key, str(n), name, False, {}) for n, (key, name, *_) in enumerate(STORES.values())]
        + [(ONLINE, "9", "Интернет-магазин", False, {})],
        ONEC_PRODUCTS: [(PRODUCT, "00-1", "Кольцо Aurora", False, {"Артикул": "11111", "IsFolder": False})],
    }
    for index, day in enumerate(days()):
        for part in (store_rows(day, rng), web_and_social_rows(day, index, rng)):
            for table, table_rows in part.items():
                out.setdefault(table, []).extend(table_rows)
    return out


def load_fixture(conn) -> None:
    for table in all_raw_tables():
        ensure_table(conn, table)
    for table, table_rows in rows().items():
        load(conn, table, table_rows, run_id="digest-fixture")
