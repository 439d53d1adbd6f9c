"""The sensors that build the models after each load (to be replaced by Dagster's declarative automation)."""

import dagster as dg

from glame_pipelines.defs import jobs
from glame_pipelines.defs.ftp_counters import sensors as counter_sensors
from glame_pipelines.defs.onec_files import assets as inbox_assets
from glame_pipelines.orchestration import MODEL_GROUPS, failed_assets_of
from glame_pipelines.settings import RANGE_END, RANGE_START, WINDOW_END, WINDOW_START
from glame_pipelines.sources import daily_sources

# --- models after every load ---------------------------------------------------------------------------


def models_request(run: dg.DagsterRun, failed: set[dg.AssetKey], graph) -> dg.RunRequest | dg.SkipReason:
    """The models to rebuild after a load: downstream of what the run loaded, minus what depends on an
    asset that failed in it (those keep their previous data; the rest of its source is built)."""
    daily = {s.name for s in daily_sources()}
    loaded = set(run.asset_selection or ()) or {
        key for key in graph.get_all_asset_keys() if graph.get(key).group_name in daily
    }
    models = dg.AssetSelection.assets(*loaded).downstream() & dg.AssetSelection.groups(*MODEL_GROUPS)
    if failed:
        models -= dg.AssetSelection.assets(*failed).downstream()
    models |= dg.AssetSelection.groups("reference")  # the seeds: mappings the models join
    keys = sorted(models.resolve(graph))
    if not keys:
        return dg.SkipReason(
            f"nothing to build after run {run.run_id} (failed: {', '.join(sorted(k.to_user_string() for k in failed))})"
        )
    tags = {k: v for k, v in run.tags.items() if k in (WINDOW_START, WINDOW_END)}
    if RANGE_START in run.tags and WINDOW_START not in tags and len(run.tags[RANGE_START]) == 10:
        tags = {WINDOW_START: run.tags[RANGE_START], WINDOW_END: run.tags[RANGE_END]}
    return dg.RunRequest(
        run_key=f"models-after-{run.run_id}", asset_selection=keys, tags={**tags, "glame/after_run": run.run_id}
    )


def _monitored():
    return [jobs.daily_analytics_job, jobs.sources_job, counter_sensors.ftp_counter_files_job, inbox_assets.inbox_job]


def covered_by_waiting_run(request: dg.RunRequest, waiting: list[set[dg.AssetKey]]) -> bool:
    """A models run that has not started yet builds from the data as it will be then: a request it
    covers adds nothing (a backlog of 100 counter files must not queue 100 dbt builds)."""
    return any(set(request.asset_selection) <= selection for selection in waiting)


def waiting_model_selections(instance: dg.DagsterInstance) -> list[set[dg.AssetKey]]:
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=jobs.models_job.name, statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
        )
    )
    return [set(run.asset_selection or ()) for run in runs]


def _after(context, failed: set[dg.AssetKey]):
    if context.dagster_run.tags.get("glame/launched_by") == "glame run":
        return dg.SkipReason("`glame run` builds its models itself")
    request = models_request(context.dagster_run, failed, context.repository_def.asset_graph)
    if isinstance(request, dg.RunRequest) and covered_by_waiting_run(
        request, waiting_model_selections(context.instance)
    ):
        return dg.SkipReason("a models run already waiting will include this load")
    return request


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=_monitored(),
    request_job=jobs.models_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    name="models_after_loads",
)
def models_after_loads(context: dg.RunStatusSensorContext):
    """A finished load (daily run, a counter file, an inbox file) rebuilds the models that depend on it,
    so a new counter file updates store_traffic_daily without waiting for the morning."""
    return _after(context, set())


@dg.run_failure_sensor(
    monitored_jobs=_monitored(),
    request_job=jobs.models_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    name="models_after_partial_loads",
)
def models_after_partial_loads(context: dg.RunFailureSensorContext):
    """When some sources failed, the models that do not depend on them are still built."""
    graph = context.repository_def.asset_graph
    return _after(context, failed_assets_of(context.instance, context.dagster_run, graph))
