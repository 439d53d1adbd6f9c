"""The daily partitions of the day-by-day sources: Moscow days from the history's start to today."""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from glame_pipelines.settings import TIMEZONE, history_start, moscow_today

warnings.filterwarnings("ignore", category=dg.BetaWarning)  # backfill_policy: single-run backfills are what we need

daily_partitions = dg.DailyPartitionsDefinition(start_date=history_start(), timezone=TIMEZONE, end_offset=0)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The Moscow days of the run's partition range, in order."""
    window = context.partition_time_window
    first, last = window.start.date(), window.end.date()
    return [first + timedelta(n) for n in range((last - first).days)]


def is_latest_day(day: date) -> bool:
    """Snapshots (followers, members, subscribers) exist only now: they are taken for the latest day."""
    return day >= moscow_today() - timedelta(1)


def moscow_midnight(day: date):
    return datetime.combine(day, time(0), ZoneInfo(TIMEZONE))
