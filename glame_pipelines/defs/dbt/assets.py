"""dbt models as Dagster assets: sources resolve to the raw assets' keys, tests become asset checks."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from glame_pipelines.defs.dbt.manifest import ensure_manifest
from glame_pipelines.defs.dbt.project import dbt_project
from glame_pipelines.defs.shared import WarehouseResource
from glame_pipelines.warehouse.connection import dbt_env
from glame_pipelines.warehouse.loader import ensure_table
from glame_pipelines.warehouse.tables import all_raw_tables


class GlameTranslator(DagsterDbtTranslator):
    """Groups follow the project's folders (staging, intermediate, marts); sources keep the default
    `[source, table]` keys, which are the raw assets' keys."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "models"
        return super().get_group_name(dbt_resource_props)


def build_args(select: str | None = None) -> list[str]:
    """The dbt command for a run; kept pure so it can be tested."""
    return ["build", *(["--select", select] if select else [])]


@dbt_assets(manifest=ensure_manifest(), project=dbt_project, dagster_dbt_translator=GlameTranslator())
def glame_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Build (run and test) the selected models against the same warehouse the loaders write to."""
    if warehouse.url:
        os.environ.update(dbt_env(warehouse.url))
    with warehouse.connect() as conn:
        for table in all_raw_tables():
            ensure_table(conn, table)
    yield from dbt.cli(build_args(), context=context).stream()
