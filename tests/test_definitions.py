"""The code location loads, validates, and shows one graph from each API to each model."""

from __future__ import annotations

import dagster as dg

from glame_pipelines.defs.dbt.assets import build_args
from glame_pipelines.definitions import defs

ONEC = {"sales", "card_sales", "bonus_points", "bonus_balances", "receipts", "discount_cards", "customers",
        "products", "stores", "opening_balances"}


def test_definitions_validate():
    """Catches what an import does not, e.g. two partitions definitions in one job."""
    dg.Definitions.validate_loadable(defs)


def test_onec_assets_and_groups():
    graph = defs.resolve_asset_graph()
    onec = {key.path[1] for key in graph.get_all_asset_keys() if key.path[0] == "onec"}
    assert onec == ONEC
    assert {graph.get(dg.AssetKey(["onec", name])).group_name for name in ONEC} == {"onec"}


def test_dbt_sources_link_to_the_raw_assets():
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["staging", "stg_onec__sales"])).parent_keys
    assert {dg.AssetKey(["onec", "sales"]), dg.AssetKey(["onec", "opening_balances"])} <= parents


def test_jobs_resolve():
    assert defs.resolve_job_def("sources_job").name == "sources_job"
    assert defs.resolve_job_def("models_job").name == "models_job"


def test_dbt_build_arguments():
    assert build_args() == ["build"]
    assert build_args("stg_onec__sales+") == ["build", "--select", "stg_onec__sales+"]
