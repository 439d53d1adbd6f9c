"""Jobs that `glame run`, the schedules and the UI launch."""

import dagster as dg

from glame_pipelines.settings import SOURCES, TIMEZONE

DAILY_SOURCE_GROUPS = [g for g in SOURCES if g != "ftp_counters"]  # FTP files have their own partitions

sources_job = dg.define_asset_job(
    "sources_job",
    selection=dg.AssetSelection.groups(*DAILY_SOURCE_GROUPS),
    description="Load the raw tables of the selected sources for a window of Moscow days.",
    tags={"glame/kind": "sources"},
)

models_job = dg.define_asset_job(
    "models_job",
    selection=dg.AssetSelection.groups("staging", "intermediate", "marts"),
    description="Build and test the dbt models.",
    tags={"glame/kind": "models"},
)

instagram_stories_job = dg.define_asset_job(
    "instagram_stories_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["instagram", "stories"])),
    description="Capture live Instagram stories and their insights (a story lives 24 hours).",
)


@dg.schedule(job=instagram_stories_job, cron_schedule="0 */4 * * *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def instagram_stories_schedule(context: dg.ScheduleEvaluationContext):
    """Every 4 hours, so no story expires between two captures; skipped while Instagram is not configured."""
    missing = SOURCES["instagram"].missing()
    if missing:
        return dg.SkipReason(f"Instagram is not configured: set {', '.join(missing)}")
    return dg.RunRequest(run_key=None)
