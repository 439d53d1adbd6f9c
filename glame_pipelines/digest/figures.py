"""The digest's figures, read from the marts only: the day, the same weekday of the 8 weeks before it,
the day before (for follower changes), and which sources have data for the day.

Nothing here is computed from raw tables: a figure the marts lack belongs in dbt.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg

from glame_pipelines.digest.baseline import WEEKS

# Each source the digest reports, with the Russian name people know it by, and the mart query giving the
# latest day (up to the digest's day, within the baseline's reach) that has its data.
SOURCE_LABELS = {
    "onec": "1С (продажи)",
    "ftp_counters": "Счётчики посетителей",
    "yandex_metrika": "Яндекс Метрика",
    "instagram": "Instagram",
    "vk": "ВКонтакте",
    "telegram": "Telegram",
}
_LAST_DAY = {
    "onec": "select max(sale_date) from marts.sales_daily where sale_date between %(since)s and %(day)s",
    "ftp_counters": "select max(visit_date) from marts.store_traffic_daily where has_counter_data and is_mapped "
    "and visit_date between %(since)s and %(day)s",
    "yandex_metrika": "select max(visit_date) from marts.web_traffic_daily "
    "where visit_date between %(since)s and %(day)s",
    **{
        platform: "select max(date) from marts.social_daily where metric_type = 'account' and platform = '"
        + platform
        + "' and date between %(since)s and %(day)s"
        for platform in ("instagram", "vk", "telegram")
    },
}


@dataclass
class StoreDay:
    folder: str
    name: str
    visitors: int | None  # None: no counter file that day
    receipts: int | None
    revenue: float
    has_counter_data: bool


@dataclass
class Post:
    platform: str
    engagement: int
    url: str | None


@dataclass
class Day:
    """One day's figures as the marts have them; absent data stays None, never zero."""

    day: date
    sales: dict[tuple[str, str], dict] = field(default_factory=dict)  # (store_key, channel) -> figures
    stores: dict[str, StoreDay] = field(default_factory=dict)  # counter folder -> store day
    web: dict[str, int] = field(default_factory=dict)  # traffic source -> visits
    social: dict[str, dict] = field(default_factory=dict)  # platform -> followers, reach, metadata
    has_sales: bool = False

    @property
    def revenue(self) -> float:
        return sum(row["revenue"] for row in self.sales.values())

    @property
    def orders(self) -> int:
        return sum(row["orders"] for row in self.sales.values())

    @property
    def returns(self) -> float:
        return sum(row["returns"] for row in self.sales.values())

    @property
    def web_visits(self) -> int | None:
        return sum(self.web.values()) if self.web else None


@dataclass
class Figures:
    day: Day
    weeks: list[Day]  # the same weekday 1..8 weeks before, newest first
    previous: Day  # the day before (followers gained or lost)
    posts: list[Post]
    last_days: dict[str, date | None]  # source -> latest day with data, up to the digest's day


def read_figures(conn: psycopg.Connection, day: date) -> Figures:
    weeks = [day - timedelta(weeks=n) for n in range(1, WEEKS + 1)]
    wanted = [day, day - timedelta(1), *weeks]
    days = {d: Day(d) for d in wanted}
    _read_sales(conn, days)
    _read_stores(conn, days)
    _read_web(conn, days)
    _read_social(conn, days)
    since = day - timedelta(weeks=WEEKS)
    last = {
        source: conn.execute(query, {"since": since, "day": day}).fetchone()[0] for source, query in _LAST_DAY.items()
    }
    return Figures(days[day], [days[d] for d in weeks], days[day - timedelta(1)], _read_posts(conn, day), last)


def _read_sales(conn, days: dict[date, Day]) -> None:
    rows = conn.execute(
        "select sale_date, store_key, coalesce(store_name, store_key), channel, revenue::float8, "
        "returns_amount::float8, order_count from marts.sales_daily where sale_date = any(%s)",
        (list(days),),
    )
    for sale_date, store_key, name, channel, revenue, returns, orders in rows:
        day = days[sale_date]
        day.has_sales = True
        day.sales[(store_key, channel)] = {"name": name, "revenue": revenue, "returns": returns, "orders": orders}


def _read_stores(conn, days: dict[date, Day]) -> None:
    rows = conn.execute(
        "select visit_date, counter_folder, coalesce(store_name, counter_folder), visitors::bigint, receipts::bigint, "
        "revenue::float8, "
        "has_counter_data from marts.store_traffic_daily where is_mapped and visit_date = any(%s)",
        (list(days),),
    )
    for visit_date, folder, name, visitors, receipts, revenue, has_data in rows:
        days[visit_date].stores[folder] = StoreDay(folder, name, visitors, receipts, revenue, has_data)


def _read_web(conn, days: dict[date, Day]) -> None:
    rows = conn.execute(
        "select visit_date, traffic_source, visits from marts.web_traffic_daily where visit_date = any(%s)",
        (list(days),),
    )
    for visit_date, source, visits in rows:
        days[visit_date].web[source or "—"] = int(visits or 0)


def _read_social(conn, days: dict[date, Day]) -> None:
    rows = conn.execute(
        "select date, platform, max(followers), sum(reach)::bigint, jsonb_agg(metadata) from marts.social_daily "
        "where metric_type = 'account' and date = any(%s) group by 1, 2",
        (list(days),),
    )
    grouped: dict = defaultdict(dict)
    for social_date, platform, followers, reach, metadata in rows:
        grouped[social_date][platform] = {"followers": followers, "reach": reach, "metadata": metadata[0] or {}}
    for social_date, platforms in grouped.items():
        days[social_date].social = platforms


def _read_posts(conn, day: date) -> list[Post]:
    """Posts published that day, most engaging first (likes, comments, shares, saves)."""
    rows = conn.execute(
        "select platform, coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) + coalesce(saves, 0), url "
        "from marts.social_daily where metric_type = 'post' and date = %s order by 2 desc, platform, object_id",
        (day,),
    )
    return [Post(platform, int(engagement), url) for platform, engagement, url in rows]
