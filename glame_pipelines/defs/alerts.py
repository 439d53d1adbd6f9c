"""Failed runs posted to Telegram (TELEGRAM_ALERT_CHAT_ID), so nobody has to watch the UI."""

import os

import dagster as dg

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.telegram import TelegramClient


def _failure_reason(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    return (data.error.message.strip() if data.error else event.message) or "failed"


def alert_text(context: dg.RunFailureSensorContext) -> str:
    run = context.dagster_run
    failures = [f"{e.step_key}: {_failure_reason(e)}"[:400] for e in context.get_step_failure_events()] or [
        context.failure_event.message or "run failed"
    ]
    return f"GLAME: run {run.job_name} failed ({run.run_id[:8]}).\n" + "\n".join(failures[:8])


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING, name="alert_on_run_failure", monitor_all_code_locations=False
)
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    """Posts failed runs to Telegram when TELEGRAM_ALERT_CHAT_ID (and TELEGRAM_BOT_TOKEN) are set; logs otherwise."""
    text = alert_text(context)
    chat, token = os.environ.get("TELEGRAM_ALERT_CHAT_ID"), os.environ.get("TELEGRAM_BOT_TOKEN")
    if not (chat and token):
        context.log.warning(text)
        return
    client = TelegramClient(
        token,
        os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org"),
        retry=RetryPolicy(max_attempts=3, max_delay=10),
    )
    client.call("sendMessage", chat_id=chat, text=text, disable_web_page_preview=True)
