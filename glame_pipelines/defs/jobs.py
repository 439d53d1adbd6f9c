"""The jobs that load the daily sources and build the models; each source folder adds its own."""

import dagster as dg

from glame_pipelines.defs.failures import step_retry_policy
from glame_pipelines.orchestration import MODEL_GROUPS
from glame_pipelines.sources import daily_sources

# Assets of a daily source that keep a schedule of their own (Instagram's stories live 24 hours).
OWN_SCHEDULE = dg.AssetSelection.tag("glame/schedule", "own")


def daily_selection() -> dg.AssetSelection:
    return dg.AssetSelection.groups(*(s.name for s in daily_sources()))


sources_job = dg.define_asset_job(
    "sources_job",
    selection=daily_selection(),
    description="Load the raw tables of the selected sources for a window of Moscow days.",
    tags={"glame/kind": "sources"},
    op_retry_policy=step_retry_policy(),
)

daily_analytics_job = dg.define_asset_job(
    "daily_analytics_job",
    selection=(daily_selection() - OWN_SCHEDULE) | dg.AssetSelection.groups(*MODEL_GROUPS),
    description="Every configured source for yesterday and a trailing week, then the models they feed, in one run.",
    tags={"glame/kind": "sources"},
    op_retry_policy=step_retry_policy(),
)

models_job = dg.define_asset_job(
    "models_job",
    selection=dg.AssetSelection.groups(*MODEL_GROUPS),
    description="Build and test the dbt models.",
    tags={"glame/kind": "models"},
)  # no step retry: a failed build is a data or model error; the next load rebuilds
