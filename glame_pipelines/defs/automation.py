"""Jobs that `glame run`, the schedules and the UI launch."""

import dagster as dg

from glame_pipelines.settings import SOURCES

sources_job = dg.define_asset_job(
    "sources_job",
    selection=dg.AssetSelection.groups(*SOURCES),
    description="Load the raw tables of the selected sources for a window of Moscow days.",
    tags={"glame/kind": "sources"},
)

models_job = dg.define_asset_job(
    "models_job",
    selection=dg.AssetSelection.groups("staging", "intermediate", "marts"),
    description="Build and test the dbt models.",
    tags={"glame/kind": "models"},
)
