"""Jobs, the daily schedule, alerting and freshness (the models follow loads by declaration: defs/dbt/automation.py)."""

import logging
import os
from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from glame_pipelines.defs.onec.resources import turned_off_assets
from glame_pipelines.defs.shared import step_retry_policy
from glame_pipelines.settings import RANGE_END, RANGE_START, SOURCES, TIMEZONE

log = logging.getLogger(__name__)
DAILY_SOURCE_GROUPS = [g for g in SOURCES if g != "ftp_counters"]  # FTP files have their own partitions
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
    description="Every configured source for yesterday and a trailing week; the models follow (models_automation).",
    tags={"glame/kind": "sources"},
    op_retry_policy=step_retry_policy(),
)

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
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat(),
              "glame/skipped_sources": "; ".join(skipped) or "none"},
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
