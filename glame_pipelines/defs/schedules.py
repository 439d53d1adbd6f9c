"""The daily schedule: 06:00 Moscow, every configured daily source for yesterday and a trailing week."""

from collections.abc import Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from glame_pipelines.defs import jobs
from glame_pipelines.orchestration import MODEL_GROUPS
from glame_pipelines.settings import RANGE_END, RANGE_START, TIMEZONE
from glame_pipelines.sources import daily_sources, turned_off_assets

# A run that builds the models its loads feed (the daily run): the models' automation leaves its loads alone.
IN_RUN = {"glame/models": "in_run"}
TRAILING_DAYS = 7  # 1C documents are re-posted for about a week; Metrika adds its own 2-day lookback


def configured_sources(env: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """(configured, skipped with the reason) among the daily sources."""
    configured, skipped = [], []
    for source in daily_sources():
        missing = source.missing(env)
        if missing:
            skipped.append(f"{source.name} (set {', '.join(missing)})")
        else:
            configured.append(source.name)
    return configured, skipped


def daily_run_request(today: date, graph, env: Mapping[str, str] | None = None) -> dg.RunRequest | dg.SkipReason:
    """Yesterday and the trailing week for every configured source, and the models downstream of them, in one
    run: the models' step starts the moment the last load ends. As two runs (the loads, then the models the
    automation requests after them) the daily run took 51–57 s from the tick to the last mart, 20–25 s of it
    between the runs (the automation's next tick, its evaluation, the models run's creation with its 170 planned
    events, a second run process). A load that fails leaves the models' step skipped; `models_after_failed_loads`
    then builds those that do not read it. The other sources are skipped by name. `graph` is the code location's
    asset graph (the schedule's `context.repository_def.asset_graph`)."""
    configured, skipped = configured_sources(env)
    if not configured:
        return dg.SkipReason(f"no source is configured: {'; '.join(skipped)}")
    last = today - timedelta(1)
    first = last - timedelta(TRAILING_DAYS - 1)
    off = {key: reason for key, reason in turned_off_assets(env).items() if key.path[0] in configured}
    skipped += [f"{key.to_user_string()} ({reason})" for key, reason in off.items()]
    loads = dg.AssetSelection.groups(*configured) - jobs.OWN_SCHEDULE - dg.AssetSelection.assets(*off)
    models = loads.downstream() & dg.AssetSelection.groups(*MODEL_GROUPS)
    return dg.RunRequest(
        run_key=f"daily-{last.isoformat()}",
        asset_selection=sorted((loads | models).resolve(graph)),
        tags={
            RANGE_START: first.isoformat(),
            RANGE_END: last.isoformat(),
            **IN_RUN,
            "glame/skipped_sources": "; ".join(skipped) or "none",
        },
    )


@dg.schedule(
    job=jobs.daily_analytics_job,
    cron_schedule="0 6 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_analytics_schedule(context: dg.ScheduleEvaluationContext):
    """06:00 Moscow: every configured source for yesterday plus a trailing week (late data), then the models
    they feed, in the same run."""
    today = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date()
    return daily_run_request(today, context.repository_def.asset_graph)
