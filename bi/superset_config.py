"""Superset's configuration for GLAME. Every value that differs per machine or is secret comes from the
environment that `glame bi` sets (glame_pipelines/bi/launcher.py); nothing secret is written here."""

import os
from contextlib import contextmanager

from flask import g, has_app_context
from superset.utils.log import DBEventLogger

SECRET_KEY = os.environ["GLAME_BI_SECRET_KEY"]
# Superset's own metadata: a `superset` database on the warehouse's Postgres server, never SQLite.
SQLALCHEMY_DATABASE_URI = os.environ["GLAME_BI_METADATA_URL"]

# The brand reads its dashboards in Russian; a locale must be listed here, or its language pack request
# is redirected to the login page and the page stays blank.
BABEL_DEFAULT_LOCALE = "ru"
LANGUAGES = {
    "ru": {"flag": "ru", "name": "Русский"},
    "en": {"flag": "us", "name": "English"},
}
# Numbers as a Russian reader writes them: 1 234 567,89 ₽.
D3_FORMAT = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0₽"]}
D3_TIME_FORMAT = {
    "dateTime": "%A, %e %B %Y г. %X",
    "date": "%d.%m.%Y",
    "time": "%H:%M:%S",
    "periods": ["AM", "PM"],
    "days": ["воскресенье", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота"],
    "shortDays": ["вс", "пн", "вт", "ср", "чт", "пт", "сб"],
    "months": [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
    "shortMonths": ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"],
}
DEFAULT_TIMEZONE = "Europe/Moscow"

# The phone lookup's dataset reads the typed phone through Jinja (filter_values).
# Every chart renders at once (no virtualisation), so a screenshot or a first-render time covers the whole page.
FEATURE_FLAGS = {
    "ENABLE_TEMPLATE_PROCESSING": True,
    "DASHBOARD_VIRTUALIZATION": False,
    "CHART_PLUGINS_EXPERIMENTAL": True,
}  # the big number with period comparison (pop_kpi)

# Local single-user service: no CSRF exemptions, no example data, no outbound telemetry.
WTF_CSRF_ENABLED = True
SUPERSET_WEBSERVER_TIMEOUT = 120
SQLLAB_CTAS_NO_LIMIT = False
PREVENT_UNSAFE_DB_CONNECTIONS = True
SCHEDULED_QUERIES = {}
TALISMAN_ENABLED = False
CONTENT_SECURITY_POLICY_WARNING = False
# Chart results and Superset's own cached lookups, in files under SUPERSET_HOME: one cache shared by every
# gunicorn worker (an in-process SimpleCache is one per worker, so a chart cached by one was recomputed by
# the next) that needs no Redis. Entries live a day because the launcher, not a timer, keeps them honest:
# it empties this folder when it imports the dashboards and whenever a models build changes the marts, then
# warms the dashboards again (glame_pipelines/bi/launcher.py, CacheKeeper).
CACHE_DIR = os.path.join(os.environ["SUPERSET_HOME"], "cache")
CACHE_CONFIG = {
    "CACHE_TYPE": "FileSystemCache",
    "CACHE_DIR": os.path.join(CACHE_DIR, "metadata"),
    "CACHE_DEFAULT_TIMEOUT": 86400,
    "CACHE_THRESHOLD": 10000,
}
DATA_CACHE_CONFIG = {**CACHE_CONFIG, "CACHE_DIR": os.path.join(CACHE_DIR, "data")}


class RequestEventLogger(DBEventLogger):
    """Superset's action log with one row per request. The stock logger also inserts a row (and commits) for
    each stage nested inside a request (execute_sql, load_into_dataframe, post_processing, json_dumps,
    _get_data_response): six writes to the metadata database per chart, about a fifth of a chart request's
    time on this machine. A nested stage's timing is dropped; the request that contains it is still logged."""

    @contextmanager
    def log_context(self, *args, **kwargs):
        if not has_app_context():
            with super().log_context(*args, **kwargs) as log:
                yield log
            return
        depth = g.get("glame_event_depth", 0)
        g.glame_event_depth = depth + 1
        try:
            if depth:
                yield lambda **_: None
            else:
                with super().log_context(*args, **kwargs) as log:
                    yield log
        finally:
            g.glame_event_depth = depth


EVENT_LOGGER = RequestEventLogger()

# Charts drawn at once, without ECharts' entry animation: the animation is a second of frames per chart on the
# browser's main thread, and the dashboards show 8 to 17 charts together on machines with two cores.
# (Superset's own `echartsOptionsOverrides` theme token; the rest of the default themes is unchanged.)
from superset.config import THEME_DARK, THEME_DEFAULT  # noqa: E402  (defined before this file is read)

_STATIC_CHARTS = {"echartsOptionsOverrides": {"animation": False}}
THEME_DEFAULT = {**THEME_DEFAULT, "token": {**THEME_DEFAULT["token"], **_STATIC_CHARTS}}
THEME_DARK = {**THEME_DARK, "token": {**THEME_DARK["token"], **_STATIC_CHARTS}} if THEME_DARK else None
