"""Superset's configuration for GLAME. Every value that differs per machine or is secret comes from the
environment that `glame bi` sets (glame_pipelines/bi/launcher.py); nothing secret is written here."""

import os

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
    "months": ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
               "октября", "ноября", "декабря"],
    "shortMonths": ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"],
}
DEFAULT_TIMEZONE = "Europe/Moscow"

# The phone lookup's dataset reads the typed phone through Jinja (filter_values).
# Every chart renders at once (no virtualisation), so a screenshot or a first-render time covers the whole page.
FEATURE_FLAGS = {"ENABLE_TEMPLATE_PROCESSING": True, "DASHBOARD_VIRTUALIZATION": False,
                 "CHART_PLUGINS_EXPERIMENTAL": True}  # the big number with period comparison (pop_kpi)

# Local single-user service: no CSRF exemptions, no example data, no outbound telemetry.
WTF_CSRF_ENABLED = True
SUPERSET_WEBSERVER_TIMEOUT = 120
SQLLAB_CTAS_NO_LIMIT = False
PREVENT_UNSAFE_DB_CONNECTIONS = True
SCHEDULED_QUERIES = {}
TALISMAN_ENABLED = False
CONTENT_SECURITY_POLICY_WARNING = False
# A small shared cache for chart results; Superset's default (null cache) re-queries on every render.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
