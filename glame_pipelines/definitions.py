"""The code location: every source's assets, the dbt models, jobs, schedules and sensors."""

import dagster as dg
from dagster_dbt import DbtCliResource

from glame_pipelines.defs.automation import models_job, sources_job
from glame_pipelines.defs.dbt.assets import glame_dbt_models
from glame_pipelines.defs.dbt.manifest import dbt_executable
from glame_pipelines.defs.dbt.project import dbt_project
from glame_pipelines.defs.onec import resources as onec_resources
from glame_pipelines.defs.onec.assets import onec_assets
from glame_pipelines.defs.shared import WarehouseResource, env_fields
from glame_pipelines.warehouse.connection import WAREHOUSE_URL_ENV


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[*onec_assets, glame_dbt_models],
        jobs=[sources_job, models_job],
        resources={
            "warehouse": WarehouseResource(**env_fields({"url": WAREHOUSE_URL_ENV})),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
            "onec": onec_resources.OnecResource(**env_fields(onec_resources.ENV, ints=frozenset({"page_size"}))),
        },
    )


defs = build_definitions()
