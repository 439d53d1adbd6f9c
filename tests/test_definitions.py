"""The code location loads, validates, and shows one graph from each API to each mart."""

from __future__ import annotations

import os

import dagster as dg

from glame_pipelines.definitions import defs
from glame_pipelines.defs.dbt.assets import build_args, build_env, environment, keep_parse_state
from glame_pipelines.defs.partitions import daily_partitions
from glame_pipelines.sources import all_sources

RAW = {
    "onec": {
        "sales",
        "card_sales",
        "bonus_points",
        "bonus_balances",
        "receipts",
        "discount_cards",
        "customers",
        "products",
        "stores",
        "opening_balances",
    },
    "yandex_metrika": {"traffic", "demographics"},
    "instagram": {"account_daily", "media", "media_insights", "stories"},
    "vk": {"group_stats", "group_daily", "wall_posts"},
    "telegram": {"channel_daily", "channel_posts"},
    "ftp_counters": {"visits"},
    "onec_files": {"sales", "file_months"},
}
MARTS = {
    "sales_daily",
    "sales_monthly",
    "social_daily",
    "web_traffic_daily",
    "store_traffic_daily",
    "customer_profile",
    "customer_purchases",
    "unified_daily",
    "web_demographics_daily",
    "social_posts",
    "customer_activity_daily",
    "data_freshness",
}


def test_definitions_validate():
    """Catches what an import does not, e.g. daily and per-file partitions in one job."""
    dg.Definitions.validate_loadable(defs)


def test_every_source_asset_is_keyed_by_its_group():
    graph = defs.resolve_asset_graph()
    assert set(RAW) == set(all_sources())  # the inventory names each discovered source, no more
    for group, names in RAW.items():
        keys = {k.path[1] for k in graph.get_all_asset_keys() if k.path[0] == group}
        assert keys == names, group
        assert {graph.get(dg.AssetKey([group, n])).group_name for n in names} == {group}


def test_lineage_runs_from_each_api_to_the_marts():
    graph = defs.resolve_asset_graph()
    assert {k.path[1] for k in graph.get_all_asset_keys() if k.path[0] == "marts"} == MARTS
    upstream = dg.AssetSelection.assets(dg.AssetKey(["marts", "unified_daily"])).upstream().resolve(graph)
    for group in ("onec", "yandex_metrika", "instagram", "vk", "telegram", "ftp_counters"):
        assert any(k.path[0] == group for k in upstream), group
    parents = graph.get(dg.AssetKey(["staging", "stg_onec__sales"])).parent_keys
    assert {dg.AssetKey(["onec", "sales"]), dg.AssetKey(["onec", "opening_balances"])} <= parents
    monthly = dg.AssetSelection.assets(dg.AssetKey(["marts", "sales_monthly"])).upstream().resolve(graph)
    assert {dg.AssetKey(["onec_files", "sales"]), dg.AssetKey(["onec_files", "file_months"])} <= monthly


def test_dbt_tests_are_asset_checks_and_sources_have_freshness():
    graph = defs.resolve_asset_graph()
    checks = graph.asset_check_keys
    assert any(c.asset_key == dg.AssetKey(["marts", "sales_daily"]) for c in checks)
    assert (
        dg.AssetCheckKey(
            dg.AssetKey(["marts", "sales_monthly"]), "assert_sales_monthly_counts_the_newest_file_per_measure"
        )
        in checks
    )
    assert graph.get(dg.AssetKey(["onec", "sales"])).freshness_policy is not None
    assert graph.get(dg.AssetKey(["ftp_counters", "visits"])).freshness_policy is not None


def test_jobs_schedules_and_sensors():
    for job in (
        "sources_job",
        "daily_analytics_job",
        "models_job",
        "instagram_stories_job",
        "ftp_counter_files_job",
        "sales_inbox_job",
        "counter_coverage_job",
        "instance_housekeeping_job",
    ):
        assert defs.resolve_job_def(job).name == job
    assert {s.name for s in defs.schedules} == {
        "daily_analytics_schedule",
        "instagram_stories_schedule",
        "counter_coverage_schedule",
        "instance_housekeeping_schedule",
    }
    assert {s.name for s in defs.sensors} >= {
        "ftp_counter_files_sensor",
        "sales_inbox_sensor",
        "models_automation",
        "alert_on_run_failure",
    }


def test_dbt_build_arguments_and_window(monkeypatch):
    """The run's days reach dbt through its environment; the arguments (and so dbt's vars, whose every
    change re-parses the whole project) stay the same from one day's build to the next. dbt's log file is
    at info unless the operator set DBT_LOG_LEVEL_FILE."""
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    assert build_args() == ["build", "--exclude-resource-type", "unit_test"]
    assert build_args(["bonuses"])[-2:] == ["--vars", '{"onec_sets_off": ["bonuses"]}']
    assert build_env(("2025-06-03", "2025-06-09")) == {
        "DBT_INDIRECT_SELECTION": "cautious",
        "DBT_LOG_LEVEL_FILE": "info",
        "GLAME_DBT_START_DATE": "2025-06-03",
        "GLAME_DBT_END_DATE": "2025-06-09",
    }
    assert build_env(None)["GLAME_DBT_START_DATE"] is None  # unset: no window, dbt's own last week
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert build_env(None)["DBT_LOG_LEVEL_FILE"] == "debug"


def test_dbt_environment_is_restored_after_the_invocation(monkeypatch):
    monkeypatch.setenv("GLAME_DBT_START_DATE", "2020-01-01")
    monkeypatch.delenv("GLAME_DBT_END_DATE", raising=False)
    with environment({"GLAME_DBT_START_DATE": None, "GLAME_DBT_END_DATE": "2025-06-09"}):
        assert "GLAME_DBT_START_DATE" not in os.environ
        assert os.environ["GLAME_DBT_END_DATE"] == "2025-06-09"
    assert os.environ["GLAME_DBT_START_DATE"] == "2020-01-01"
    assert "GLAME_DBT_END_DATE" not in os.environ


def test_a_builds_parse_state_is_kept_for_the_next(tmp_path):
    invocation, project = tmp_path / "target" / "glame_dbt_models-abc", tmp_path / "target"
    invocation.mkdir(parents=True)
    keep_parse_state(invocation, project)  # dbt failed before parsing: nothing to keep, nothing broken
    assert not (project / "partial_parse.msgpack").exists()
    (invocation / "partial_parse.msgpack").write_bytes(b"state of this build")
    keep_parse_state(invocation, project)
    assert (project / "partial_parse.msgpack").read_bytes() == b"state of this build"
    assert sorted(p.name for p in project.iterdir()) == ["glame_dbt_models-abc", "partial_parse.msgpack"]


def test_models_are_daily_partitioned_and_follow_their_loads():
    """The days of a run become dbt's window; one partitions definition and a single-run policy make a
    range one run; every model carries the automation condition, evaluated by one sensor."""
    graph = defs.resolve_asset_graph()
    models = dg.AssetSelection.groups("reference", "staging", "intermediate", "marts").resolve(graph)
    assert {graph.get(k).partitions_def for k in models} == {daily_partitions}
    assert {graph.get(k).backfill_policy for k in models} == {dg.BackfillPolicy.single_run()}
    assert all(graph.get(k).automation_condition is not None for k in models)
    assert defs.resolve_sensor_def("models_automation").default_status == dg.DefaultSensorStatus.RUNNING
