"""The dbt CLI resource the models' assets run through."""

import dagster as dg
from dagster_dbt import DbtCliResource

from glame_pipelines.defs.dbt.manifest import dbt_executable
from glame_pipelines.defs.dbt.project import dbt_project


@dg.definitions
def dbt_definitions() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())})
