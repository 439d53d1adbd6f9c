"""The dashboards in bi/assets, Dagster's `superset/<slug>` assets and the dbt exposures tell one story."""

from __future__ import annotations

import re

import dagster as dg
import yaml

from glame_pipelines.bi import catalog
from glame_pipelines.definitions import defs

EXPOSURES = catalog.PROJECT_ROOT / "dbt_project" / "models" / "marts" / "_exposures.yml"
TABS = {"Обзор", "Яндекс.Метрика", "Instagram", "ВКонтакте", "Telegram", "Магазины", "Продажи", "Покупатели"}


def test_the_eight_dashboards_read_marts_only():
    dashboards = catalog.dashboards()
    assert {d.title for d in dashboards} == TABS
    for dashboard in dashboards:
        assert dashboard.marts and "data_freshness" in dashboard.marts, dashboard.title
    for path in (catalog.ASSETS_DIR / "datasets").rglob("*.yaml"):
        dataset = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert dataset["schema"] == "marts", path
        assert not re.search(r"\b(raw|staging|intermediate)\.", dataset.get("sql") or ""), path


def test_dagster_shows_each_dashboard_downstream_of_the_marts_it_reads():
    graph = defs.resolve_asset_graph()
    for dashboard in catalog.dashboards():
        node = graph.get(dg.AssetKey(["superset", dashboard.slug]))
        assert node.kinds == {"superset"}
        assert node.parent_keys == {dg.AssetKey(["marts", m]) for m in dashboard.marts}, dashboard.slug
    upstream = dg.AssetSelection.assets(dg.AssetKey(["superset", "overview"])).upstream().resolve(graph)
    for group in ("onec", "yandex_metrika", "instagram", "vk", "telegram", "ftp_counters"):
        assert any(k.path[0] == group for k in upstream), group


def test_dbt_exposures_agree_with_the_dashboards():
    exposures = {e["name"]: e for e in yaml.safe_load(EXPOSURES.read_text(encoding="utf-8"))["exposures"]}
    expected = {f"superset_{d.slug}": d for d in catalog.dashboards()}
    assert set(exposures) == set(expected)
    for name, dashboard in expected.items():
        refs = {re.fullmatch(r"ref\('(\w+)'\)", r).group(1) for r in exposures[name]["depends_on"]}
        assert refs == set(dashboard.marts), name
        assert exposures[name]["label"] == dashboard.title
