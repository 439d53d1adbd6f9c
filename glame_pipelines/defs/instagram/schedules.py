"""Instagram stories live 24 hours: their own job and schedule, every 4 hours."""

import dagster as dg

from glame_pipelines.defs.failures import step_retry_policy
from glame_pipelines.defs.instagram import assets
from glame_pipelines.defs.instagram.source import SOURCE
from glame_pipelines.settings import TIMEZONE

instagram_stories_job = dg.define_asset_job(
    "instagram_stories_job",
    selection=[assets.stories],
    description="Capture live Instagram stories and their insights (a story lives 24 hours).",
    op_retry_policy=step_retry_policy(),
)


@dg.schedule(
    job=instagram_stories_job,
    cron_schedule="0 */4 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def instagram_stories_schedule(context: dg.ScheduleEvaluationContext):
    """Every 4 hours, so no story expires between two captures; skipped while Instagram is not configured."""
    missing = SOURCE.missing()
    if missing:
        return dg.SkipReason(f"Instagram is not configured: set {', '.join(missing)}")
    return dg.RunRequest(run_key=None)
