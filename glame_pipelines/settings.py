"""Project-wide settings: the Moscow timezone, the first day of the partitions, and the run tags.

The sources themselves are declared in their folders (`defs/<source>/source.py`; see `sources.py`).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

HISTORY_START_ENV = "GLAME_HISTORY_START"
DEFAULT_HISTORY_START = "2023-08-01"
TIMEZONE = "Europe/Moscow"
# Run tags: Dagster's partition range, and the Moscow days the dbt models rebuild.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
WINDOW_START, WINDOW_END = "glame/window_start", "glame/window_end"


def moscow_today() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def history_start() -> str:
    """First day of the daily partitions: a structural setting, so it is read when definitions load."""
    value = os.environ.get(HISTORY_START_ENV, DEFAULT_HISTORY_START)
    date.fromisoformat(value)
    return value
