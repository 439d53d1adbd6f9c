"""What the dashboards in bi/assets read, from the YAML itself: each dashboard's charts, their datasets,
and the marts those datasets query. Dagster's dashboard assets and the dbt exposures are checked against it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from glame_pipelines.warehouse.connection import PROJECT_ROOT

ASSETS_DIR = PROJECT_ROOT / "bi" / "assets"
MART_REFERENCE = re.compile(r"\bmarts\.([a-z_][a-z0-9_]*)\b(?!\s*\()")  # a table, not a function like phone_e164(


@dataclass(frozen=True)
class Dashboard:
    title: str
    slug: str
    uuid: str
    charts: tuple[str, ...]
    marts: tuple[str, ...]


# libyaml's loader when PyYAML has it: 112 files parse in a tenth of the time, and every definitions load reads them
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(folder: Path) -> list[dict]:
    return [yaml.load(p.read_text(encoding="utf-8"), Loader=SAFE_LOADER) for p in sorted(folder.rglob("*.yaml"))]


def dataset_marts(dataset: dict) -> set[str]:
    """The marts a dataset reads: its table, or the tables its SQL names."""
    if dataset.get("sql"):
        return set(MART_REFERENCE.findall(dataset["sql"]))
    if dataset.get("schema") != "marts":
        raise ValueError(f"dataset {dataset['table_name']} reads schema {dataset.get('schema')}, not marts")
    return {dataset["table_name"]}


@cache
def dashboards(assets: Path = ASSETS_DIR) -> tuple[Dashboard, ...]:
    datasets = {d["uuid"]: d for d in _load(assets / "datasets")}
    charts = {c["uuid"]: c for c in _load(assets / "charts")}
    found = []
    for config in _load(assets / "dashboards"):
        chart_uuids = [
            n["meta"]["uuid"] for n in config["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"
        ]
        marts = set().union(*(dataset_marts(datasets[charts[u]["dataset_uuid"]]) for u in chart_uuids))
        found.append(
            Dashboard(
                config["dashboard_title"],
                config["slug"],
                config["uuid"],
                tuple(charts[u]["slice_name"] for u in chart_uuids),
                tuple(sorted(marts)),
            )
        )
    return tuple(sorted(found, key=lambda d: d.slug))
