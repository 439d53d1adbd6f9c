"""Which sources are configured, read from the environment when asked (never at import time).

The schedule, `glame run` and `glame check` all use this one table, so an unconfigured source is
skipped by name everywhere, and no source's missing variable can stop another source.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

HISTORY_START_ENV = "GLAME_HISTORY_START"
DEFAULT_HISTORY_START = "2023-08-01"
TIMEZONE = "Europe/Moscow"
# Run tags: Dagster's partition range (the daily dbt models rebuild its Moscow days).
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class Source:
    group: str
    label: str
    requirements: tuple[tuple[str, ...], ...]  # every entry must hold; an entry holds when all its variables are set
    alternatives: tuple[tuple[tuple[str, ...], ...], ...] = ()  # entries satisfied by any one of several sets

    def missing(self, env: Mapping[str, str] | None = None) -> list[str]:
        """Descriptions of the variables still to set; empty when the source is configured."""
        env = os.environ if env is None else env
        out = [name for entry in self.requirements for name in entry if not env.get(name)]
        for options in self.alternatives:
            if not any(all(env.get(name) for name in option) for option in options):
                out.append(" or ".join(" and ".join(option) for option in options))
        return out

    def is_configured(self, env: Mapping[str, str] | None = None) -> bool:
        return not self.missing(env)


SOURCES: dict[str, Source] = {
    "onec": Source(
        "onec", "1C:Enterprise (OData)",
        requirements=(("ONEC_API_URL",),),
        alternatives=((("ONEC_API_TOKEN",), ("ONEC_USERNAME", "ONEC_PASSWORD")),),
    ),
    "yandex_metrika": Source("yandex_metrika", "Yandex.Metrika",
                             requirements=(("YANDEX_METRIKA_COUNTER_ID", "YANDEX_METRIKA_OAUTH_TOKEN"),)),
    "instagram": Source("instagram", "Instagram", requirements=(("INSTAGRAM_ACCESS_TOKEN", "INSTAGRAM_BUSINESS_ACCOUNT_ID"),)),
    "vk": Source("vk", "VK", requirements=(("VK_ACCESS_TOKEN", "VK_GROUP_ID"),)),
    "telegram": Source("telegram", "Telegram", requirements=(("TELEGRAM_BOT_TOKEN", "TELEGRAM_CHANNEL_USERNAME"),)),
    "ftp_counters": Source("ftp_counters", "FTP people counters", requirements=(("FTP_HOST", "FTP_PASSWORD"),),
                           alternatives=((("FTP_USER",), ("FTP_USERNAME",)),)),
    "onec_files": Source("onec_files", "1C sales files (inbox)", requirements=(("GLAME_INBOX_DIR",),)),
}


class SourceNotConfigured(RuntimeError):
    """Raised by a source's resource when its variables are missing; names them."""

    def __init__(self, group: str, missing: list[str] | None = None):
        source = SOURCES[group]
        missing = source.missing() if missing is None else missing
        super().__init__(f"{source.label} is not configured: set {', '.join(missing)} (see .env.example).")
        self.group = group


def moscow_today() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(TIMEZONE)).date()


def history_start() -> str:
    """First day of the daily partitions: a structural setting, so it is read when definitions load."""
    value = os.environ.get(HISTORY_START_ENV, DEFAULT_HISTORY_START)
    date.fromisoformat(value)
    return value
