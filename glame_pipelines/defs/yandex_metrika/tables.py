"""Yandex.Metrika's raw tables: one row per counter, day and dimension."""

from __future__ import annotations

from glame_pipelines.warehouse.loader import RawTable
from glame_pipelines.warehouse.tables import columns

YANDEX_METRIKA_TRAFFIC = RawTable(
    "yandex_metrika_traffic",
    columns(
        "counter_id text, date date, traffic_source text, visits numeric, users numeric, new_users numeric, "
        "pageviews numeric, bounce_rate numeric, page_depth numeric, avg_visit_duration_seconds numeric, "
        "ecommerce_purchases numeric, ecommerce_revenue numeric, sampled boolean, sample_share numeric"
    ),
    ("counter_id", "date", "traffic_source"),
    "Yandex.Metrika visits by day and last traffic source.",
)

YANDEX_METRIKA_DEMOGRAPHICS = RawTable(
    "yandex_metrika_demographics",
    columns(
        "counter_id text, date date, gender text, age_interval text, visits numeric, users numeric, sampled boolean, "
        "sample_share numeric"
    ),
    ("counter_id", "date", "gender", "age_interval"),
    "Visits by gender and age interval.",
)

TABLES = (YANDEX_METRIKA_TRAFFIC, YANDEX_METRIKA_DEMOGRAPHICS)
