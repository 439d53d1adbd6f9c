"""Jobs, the daily schedule, the sensors that build the models after each load, and alerting."""

import logging
import os
from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from glame_pipelines.defs.onec.resources import turned_off_assets
from glame_pipelines.orchestration import failed_assets
from glame_pipelines.defs.shared import step_retry_policy
from glame_pipelines.settings import RANGE_END, RANGE_START, SOURCES, TIMEZONE, WINDOW_END, WINDOW_START

log = logging.getLogger(__name__)
DAILY_SOURCE_GROUPS = [g for g in SOURCES if g != "ftp_counters"]  # FTP files have their own partitions
MODEL_GROUPS = ("reference", "staging", "intermediate", "marts")
TRAILING_DAYS = 7  # 1C documents are re-posted for about a week; Metrika adds its own 2-day lookback

sources_job = dg.define_asset_job(
    "sources_job",
    selection=dg.AssetSelection.groups(*DAILY_SOURCE_GROUPS),
    description="Load the raw tables of the selected sources for a window of Moscow days.",
    tags={"glame/kind": "sources"},
    op_retry_policy=step_retry_policy(),
)

daily_analytics_job = dg.define_asset_job(
    "daily_analytics_job",
    selection=dg.AssetSelection.groups(*DAILY_SOURCE_GROUPS) - dg.AssetSelection.assets(dg.AssetKey(["instagram", "stories"])),
    description="Every configured source for yesterday and a trailing week; the models follow (models_after_loads).",
    tags={"glame/kind": "sources"},
    op_retry_policy=step_retry_policy(),
)

models_job = dg.define_asset_job(
    "models_job",
    selection=dg.AssetSelection.groups(*MODEL_GROUPS),
    description="Build and test the dbt models.",
    tags={"glame/kind": "models"},
)  # no step retry: a failed build is a data or model error; the next load rebuilds

instagram_stories_job = dg.define_asset_job(
    "instagram_stories_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["instagram", "stories"])),
    description="Capture live Instagram stories and their insights (a story lives 24 hours).",
    op_retry_policy=step_retry_policy(),
)


def configured_groups(env=None) -> tuple[list[str], list[str]]:
    """(configured, skipped with the reason) among the daily sources."""
    configured, skipped = [], []
    for group in DAILY_SOURCE_GROUPS:
        missing = SOURCES[group].missing(env)
        if missing:
            skipped.append(f"{group} (set {', '.join(missing)})")
        else:
            configured.append(group)
    return configured, skipped


def daily_run_request(today, env=None) -> dg.RunRequest | dg.SkipReason:
    """Yesterday and the trailing week for every configured source; the others are skipped by name."""
    configured, skipped = configured_groups(env)
    if not configured:
        return dg.SkipReason(f"no source is configured: {'; '.join(skipped)}")
    last = today - timedelta(1)
    first = last - timedelta(TRAILING_DAYS - 1)
    off = turned_off_assets(env) if "onec" in configured else {}
    skipped += [f"{key.to_user_string()} ({reason})" for key, reason in off.items()]
    selection = dg.AssetSelection.groups(*configured) - dg.AssetSelection.assets(
        dg.AssetKey(["instagram", "stories"]), *off)
    return dg.RunRequest(
        run_key=f"daily-{last.isoformat()}",
        asset_selection=list(selection.resolve(_graph())),
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat(), WINDOW_START: first.isoformat(),
              WINDOW_END: last.isoformat(), "glame/skipped_sources": "; ".join(skipped) or "none"},
    )


def _graph():
    from glame_pipelines.definitions import defs

    return defs.resolve_asset_graph()


@dg.schedule(job=daily_analytics_job, cron_schedule="0 6 * * *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def daily_analytics_schedule(context: dg.ScheduleEvaluationContext):
    """06:00 Moscow: every configured source for yesterday plus a trailing week (late data), then the models."""
    return daily_run_request(context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date())


@dg.schedule(job=instagram_stories_job, cron_schedule="0 */4 * * *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def instagram_stories_schedule(context: dg.ScheduleEvaluationContext):
    """Every 4 hours, so no story expires between two captures; skipped while Instagram is not configured."""
    missing = SOURCES["instagram"].missing()
    if missing:
        return dg.SkipReason(f"Instagram is not configured: set {', '.join(missing)}")
    return dg.RunRequest(run_key=None)


# --- models after every load ---------------------------------------------------------------------------


def failed_assets_of(instance: dg.DagsterInstance, run: dg.DagsterRun) -> set[dg.AssetKey]:
    """The assets of a run whose steps failed."""
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    loaded = run.asset_selection or _graph().get_all_asset_keys()
    return failed_assets(loaded, {record.step_key for record in failures if record.step_key})


def models_request(run: dg.DagsterRun, failed: set[dg.AssetKey]) -> dg.RunRequest | dg.SkipReason:
    """The models to rebuild after a load: downstream of what the run loaded, minus what depends on an
    asset that failed in it (those keep their previous data; the rest of its source is built)."""
    graph = _graph()
    loaded = {key for key in (run.asset_selection or set())} or {
        key for key in graph.get_all_asset_keys() if graph.get(key).group_name in DAILY_SOURCE_GROUPS}
    models = dg.AssetSelection.assets(*loaded).downstream() & dg.AssetSelection.groups(*MODEL_GROUPS)
    if failed:
        models -= dg.AssetSelection.assets(*failed).downstream()
    models |= dg.AssetSelection.groups("reference")  # the seeds: mappings the models join
    keys = sorted(models.resolve(graph))
    if not keys:
        return dg.SkipReason(f"nothing to build after run {run.run_id} "
                             f"(failed: {', '.join(sorted(k.to_user_string() for k in failed))})")
    tags = {k: v for k, v in run.tags.items() if k in (WINDOW_START, WINDOW_END)}
    if RANGE_START in run.tags and WINDOW_START not in tags and len(run.tags[RANGE_START]) == 10:
        tags = {WINDOW_START: run.tags[RANGE_START], WINDOW_END: run.tags[RANGE_END]}
    return dg.RunRequest(run_key=f"models-after-{run.run_id}", asset_selection=keys,
                         tags={**tags, "glame/after_run": run.run_id})


def _monitored():
    from glame_pipelines.defs.ftp_counters.sensors import ftp_counter_files_job
    from glame_pipelines.defs.onec_files.assets import inbox_job

    return [daily_analytics_job, sources_job, ftp_counter_files_job, inbox_job]


def covered_by_waiting_run(request: dg.RunRequest, waiting: list[set[dg.AssetKey]]) -> bool:
    """A models run that has not started yet builds from the data as it will be then: a request it
    covers adds nothing (a backlog of 100 counter files must not queue 100 dbt builds)."""
    return any(set(request.asset_selection) <= selection for selection in waiting)


def waiting_model_selections(instance: dg.DagsterInstance) -> list[set[dg.AssetKey]]:
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=models_job.name, statuses=[
        dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]))
    return [set(run.asset_selection or ()) for run in runs]


def _after(context, failed: set[str]):
    if context.dagster_run.tags.get("glame/launched_by") == "glame run":
        return dg.SkipReason("`glame run` builds its models itself")
    request = models_request(context.dagster_run, failed)
    if isinstance(request, dg.RunRequest) and covered_by_waiting_run(request, waiting_model_selections(context.instance)):
        return dg.SkipReason("a models run already waiting will include this load")
    return request


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=_monitored(), request_job=models_job,
                      default_status=dg.DefaultSensorStatus.RUNNING, name="models_after_loads")
def models_after_loads(context: dg.RunStatusSensorContext):
    """A finished load (daily run, a counter file, an inbox file) rebuilds the models that depend on it,
    so a new counter file updates store_traffic_daily without waiting for the morning."""
    return _after(context, set())


@dg.run_failure_sensor(monitored_jobs=_monitored(), request_job=models_job,
                       default_status=dg.DefaultSensorStatus.RUNNING, name="models_after_partial_loads")
def models_after_partial_loads(context: dg.RunFailureSensorContext):
    """When some sources failed, the models that do not depend on them are still built."""
    return _after(context, failed_assets_of(context.instance, context.dagster_run))


# --- alerting --------------------------------------------------------------------------------------------


def _failure_reason(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    return (data.error.message.strip() if data.error else event.message) or "failed"


def alert_text(context: dg.RunFailureSensorContext) -> str:
    run = context.dagster_run
    failures = [f"{e.step_key}: {_failure_reason(e)}"[:400] for e in context.get_step_failure_events()] or [
        context.failure_event.message or "run failed"]
    return f"GLAME: run {run.job_name} failed ({run.run_id[:8]}).\n" + "\n".join(failures[:8])


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING, name="alert_on_run_failure",
                       monitor_all_code_locations=False)
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    """Posts failed runs to Telegram when TELEGRAM_ALERT_CHAT_ID (and TELEGRAM_BOT_TOKEN) are set; logs otherwise."""
    text = alert_text(context)
    chat, token = os.environ.get("TELEGRAM_ALERT_CHAT_ID"), os.environ.get("TELEGRAM_BOT_TOKEN")
    if not (chat and token):
        context.log.warning(text)
        return
    from glame_pipelines.clients.http import RetryPolicy
    from glame_pipelines.clients.telegram import TelegramClient

    client = TelegramClient(token, os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org"),
                            retry=RetryPolicy(max_attempts=3, max_delay=10))
    client.call("sendMessage", chat_id=chat, text=text, disable_web_page_preview=True)


# --- freshness of every raw source -----------------------------------------------------------------------

def with_freshness(defs: dg.Definitions) -> dg.Definitions:
    """Every raw source is stale after GLAME_FRESHNESS_DAYS (default 2) days without a load (warned after 1)."""
    days = int(os.environ.get("GLAME_FRESHNESS_DAYS", "2"))
    policy = dg.FreshnessPolicy.time_window(fail_window=timedelta(days=days), warn_window=timedelta(days=max(days - 1, 1)))
    groups = [g for g in SOURCES if g != "onec_files"]  # the inbox fills when people drop files
    selection = dg.AssetSelection.groups(*groups) - dg.AssetSelection.assets(*turned_off_assets())  # never loaded
    return defs.map_resolved_asset_specs(func=lambda spec: spec.replace_attributes(freshness_policy=policy),
                                         selection=selection)
