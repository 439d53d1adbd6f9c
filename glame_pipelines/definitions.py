"""The code location: every source's assets, the dbt models, jobs, schedules and sensors."""

import warnings

import dagster as dg
from dagster_dbt import DbtCliResource

warnings.filterwarnings("ignore", category=dg.BetaWarning)

from glame_pipelines.defs.dbt.assets import glame_dbt_models  # noqa: E402
from glame_pipelines.defs.dbt.manifest import dbt_executable  # noqa: E402
from glame_pipelines.defs.dbt.project import dbt_project  # noqa: E402

from glame_pipelines.defs.onec import resources as onec_resources  # noqa: E402
from glame_pipelines.defs.onec.assets import onec_assets  # noqa: E402
from glame_pipelines.defs.shared import WarehouseResource, env_fields  # noqa: E402
from glame_pipelines.warehouse.connection import WAREHOUSE_URL_ENV  # noqa: E402


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[*onec_assets, glame_dbt_models],
        resources={
            "warehouse": WarehouseResource(**env_fields({"url": WAREHOUSE_URL_ENV})),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
            "onec": onec_resources.OnecResource(**env_fields(onec_resources.ENV, ints=frozenset({"page_size"}))),
        },
    )


defs = build_definitions()
