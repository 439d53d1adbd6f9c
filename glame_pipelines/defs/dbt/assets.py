"""dbt models as Dagster assets: sources resolve to the raw assets' keys, tests become asset checks."""

import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from glame_pipelines.defs.dbt.automation import model_condition
from glame_pipelines.defs.dbt.manifest import ensure_manifest
from glame_pipelines.defs.dbt.project import dbt_project
from glame_pipelines.defs.onec.resources import OnecResource
from glame_pipelines.defs.partitions import daily_partitions
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.sources import all_sources
from glame_pipelines.warehouse.connection import dbt_env
from glame_pipelines.warehouse.loader import ensure_table
from glame_pipelines.warehouse.tables import all_raw_tables

# What each mart's materialisation reports of its latest day, so the UI plots it over time.
DAY_FIGURES = {
    "unified_daily": ("date", ("revenue", "orders", "web_visits", "store_visitors")),
    "sales_daily": ("sale_date", ("revenue", "order_count")),
    "store_traffic_daily": ("visit_date", ("visitors", "receipts")),
    "web_traffic_daily": ("visit_date", ("visits", "users")),
}


class GlameTranslator(DagsterDbtTranslator):
    """Groups follow the project's folders (staging, intermediate, marts; seeds in reference); sources keep the default
    `[source, table]` keys, which are the raw assets' keys."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "models"
        return super().get_group_name(dbt_resource_props)

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        """Every model and seed follows its loads by declaration (see `defs/dbt/automation.py`)."""
        return model_condition()

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> dg.PartitionMapping | None:
        """A model reads every partition of a source that is not loaded by day (a counter file is not a day):
        any of them updated is news for the model's latest days."""
        parent = dbt_parent_resource_props
        if parent["resource_type"] == "source" and parent["source_name"] in {
            s.name for s in all_sources().values() if not s.daily
        }:
            return dg.AllPartitionMapping()
        return super().get_partition_mapping(dbt_resource_props, dbt_parent_resource_props)


# A partial build (some sources failed, their models left out) runs only the tests whose parents were all
# built in it: with dbt's default (eager), a test joining a rebuilt mart to a left-out one raises a false
# alarm. A full build selects every test directly, so this changes nothing there.
INDIRECT_SELECTION = "cautious"


PARTIAL_PARSE = "partial_parse.msgpack"
WINDOW_ENV = ("GLAME_DBT_START_DATE", "GLAME_DBT_END_DATE")  # read by dbt_project/macros/windows.sql


def build_args(turned_off: Sequence[str] = ()) -> list[str]:
    """The dbt command for a run; the columns fed by 1C sets this base has not got are null
    (`onec_sets_off`, the same on every run of an installation). Without the unit tests, as dbt advises for
    production: their inputs are fixed, so they prove the code, not the data, and `make test` runs them
    (tests/test_marts.py); in a day's build they were 8 of 175 nodes and a fifth of its time."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    if turned_off:
        args += ["--vars", json.dumps({"onec_sets_off": sorted(turned_off)})]
    return args


def build_env(window: tuple[str, str] | None = None) -> dict[str, str | None]:
    """What the dbt process is given besides the arguments: the run's Moscow days, which the incremental marts
    rebuild (None unsets them: no window, dbt's own last week), the cautious test selection, and dbt's own
    log file at info unless the operator chose a level. At debug (dbt's default) it writes every statement,
    and writing it was a tenth of a day's build (py-spy; median wall 7.9 s at debug, 7.6 s at info, 1M
    sales lines); a failed node's SQL stays in the run's target folder."""
    return {
        "DBT_INDIRECT_SELECTION": INDIRECT_SELECTION,
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "info"),
        **dict(zip(WINDOW_ENV, window or (None, None), strict=True)),
    }


@contextmanager
def environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Variables for one dbt invocation (dagster-dbt copies this process's environment when it starts dbt),
    restored afterwards so nothing else in the process inherits them."""
    previous = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def keep_parse_state(invocation_target: Path, project_target: Path) -> None:
    """Hands this build's parse state (partial_parse.msgpack) to the next build. dagster-dbt starts each
    invocation from the project's copy, which `dbt parse` wrote without the warehouse's profile: dbt found the
    profile changed and parsed the whole project again on every build. Replaced atomically; one build runs at
    a time (the `dbt` pool)."""
    state = invocation_target / PARTIAL_PARSE
    if not state.exists():
        return
    project_target.mkdir(parents=True, exist_ok=True)
    staged = project_target / f".{PARTIAL_PARSE}.{os.getpid()}"
    shutil.copyfile(state, staged)
    os.replace(staged, project_target / PARTIAL_PARSE)


def run_window(context: dg.AssetExecutionContext) -> tuple[str, str] | None:
    """The run's Moscow days (its partition or partition range, inclusive), which the incremental models
    rebuild and the windowed tests check; None for a run without partitions (dbt's own 7-day default)."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return None
    window = context.partition_time_window
    return window.start.date().isoformat(), (window.end - timedelta(days=1)).date().isoformat()


def day_figures(conn, model: str) -> dict[str, float | None]:
    date_column, columns = DAY_FIGURES[model]
    row = conn.execute(
        f"select {date_column}::text, {', '.join(f'sum({c})::float8' for c in columns)} from marts.{model} "
        f"where {date_column} = (select max({date_column}) from marts.{model}) group by 1"
    ).fetchone()
    if not row:
        return {}
    return {"latest_day": row[0], **{f"latest_{c}": v for c, v in zip(columns, row[1:], strict=True)}}


def mart_of(output_name: str) -> str | None:
    """The mart an output belongs to (dagster-dbt names outputs after the node: model_glame_<name>)."""
    return next((name for name in DAY_FIGURES if output_name.endswith("_" + name)), None)


def table_of(manifest: Mapping[str, Any], unique_id: str | None) -> str | None:
    """The relation of a model or seed that holds rows (views are not counted: that would run them)."""
    node = manifest["nodes"].get(unique_id or "", {})
    if node.get("config", {}).get("materialized") not in ("table", "incremental", "seed"):
        return None
    return f'"{node["schema"]}"."{node["alias"]}"'


def with_figures(events: Iterator, warehouse: WarehouseResource, manifest: Mapping[str, Any]) -> Iterator:
    """Adds row counts, and the latest day's revenue, visits and visitors of the marts, to the
    materialisations. Counted here rather than by dagster-dbt's fetch_row_counts, which names relations
    with the database the manifest was parsed against, not the warehouse this run builds."""
    if not warehouse.url:
        yield from events
        return
    with warehouse.connect() as conn:
        for event in events:
            if isinstance(event, dg.Output):
                unique_id = getattr(event.metadata.get("unique_id"), "value", None)
                figures = {}
                if table := table_of(manifest, unique_id):
                    figures["dagster/row_count"] = conn.execute(f"select count(*) from {table}").fetchone()[0]
                if name := mart_of(event.output_name):
                    figures.update(day_figures(conn, name))
                if figures:
                    event = event.with_metadata({**event.metadata, **figures})
            yield event


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=GlameTranslator(),
    pool="dbt",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # not the loads' step retries in the daily job: a failed build is a data or model error, the next load rebuilds
    retry_policy=dg.RetryPolicy(max_retries=0),
)
def glame_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, onec: OnecResource
):
    """Build (run and test) the selected models against the same warehouse the loaders write to.
    Every raw table is created first, so a source that never loaded leaves its models empty, not broken."""
    if warehouse.url:
        os.environ.update(dbt_env(warehouse.url))
        with warehouse.connect() as conn:
            for table in all_raw_tables():
                ensure_table(conn, table)
    with environment(build_env(run_window(context))):
        invocation = dbt.cli(build_args(onec.turned_off()), context=context)
    try:
        yield from with_figures(invocation.stream(), warehouse, invocation.manifest)
    finally:
        keep_parse_state(invocation.target_path, dbt_project.project_dir / dbt_project.target_path)
