"""The morning digest as an asset downstream of the marts, its job and sensor, and the anomaly checks.

When it is sent: `digest_after_daily_models` polls every few minutes for the day the daily schedule
loaded (yesterday in Moscow). Once the schedule's run for that day has finished (succeeded or partly
failed) and every mart of the digest that it fed is built (by that run, whose models follow its loads, or
after a failed load by the runs started after it), it requests `digest_job` with the run key `digest-<day>`, so
Dagster launches it at most once per day whatever else runs: the counter-file and inbox loads rebuild
models all day long but never carry the schedule's tag, so they never send a digest.
The digest and each alert are also recorded in `ops.telegram_messages` as they are sent, so re-executing
the run (or materialising the asset by hand) sends nothing more; `glame digest --date D --send`,
or the asset's `force` config, sends the digest again on purpose.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import psycopg

from glame_pipelines.defs.digest.resources import DigestChatResource
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.digest.delivery import deliver
from glame_pipelines.digest.report import make_digest
from glame_pipelines.digest.text import readable
from glame_pipelines.orchestration import MODEL_GROUPS, failed_assets_of
from glame_pipelines.settings import RANGE_END, moscow_today

DAY_TAG, DAILY_RUN_TAG = "glame/digest_day", "glame/daily_run"
DAILY_JOB, DAILY_SCHEDULE = "daily_analytics_job", "daily_analytics_schedule"
MARTS = ("sales_daily", "store_traffic_daily", "web_traffic_daily", "social_daily")  # what the digest reads
DIGEST_KEY = dg.AssetKey(["digest", "morning"])


class DigestConfig(dg.Config):
    day: str = ""  # YYYY-MM-DD; default: the run's glame/digest_day tag, else yesterday in Moscow
    send: bool = True
    force: bool = False  # send the digest again even if this day's was sent


def digest_day(tags: dict[str, str], configured: str = "") -> date:
    value = configured or tags.get(DAY_TAG)
    return date.fromisoformat(value) if value else moscow_today() - timedelta(1)


def daily_run_groups(
    instance: dg.DagsterInstance, run_id: str | None, asset_graph: Callable[[], Any]
) -> tuple[set[str], set[str]]:
    """(failed, loaded) source groups of the daily run the digest follows; both empty without one. A source
    counts as failed only where an asset the digest's marts read failed (a base without a bonus program
    fails onec/bonus_points, which no figure of the digest reads: its sales are shown)."""
    if not run_id or not (run := instance.get_run_by_id(run_id)):
        return set(), set()
    read = dg.AssetSelection.assets(*(dg.AssetKey(["marts", m]) for m in MARTS)).upstream().resolve(asset_graph())
    failed = {key.path[0] for key in failed_assets_of(instance, run, asset_graph()) if key in read}
    loaded = {key.path[0] for key in (run.asset_selection or ())} - failed
    return failed, loaded


@dg.asset(
    key=DIGEST_KEY, group_name="digest", deps=[dg.AssetKey(["marts", m]) for m in MARTS], kinds={"telegram", "postgres"}
)
def morning_digest(
    context: dg.AssetExecutionContext,
    config: DigestConfig,
    warehouse: WarehouseResource,
    digest_chat: DigestChatResource,
) -> dg.MaterializeResult:
    """Yesterday in one Telegram message (TELEGRAM_DIGEST_CHAT_ID), with the severe anomalies sent before
    it as alerts of their own; the text sent is this materialisation's metadata."""
    day = digest_day(context.run.tags, config.day)
    failed, loaded = daily_run_groups(
        context.instance, context.run.tags.get(DAILY_RUN_TAG), lambda: context.repository_def.asset_graph
    )
    with warehouse.connect() as conn:
        digest = make_digest(conn, day, failed, loaded)
        sent = []
        if config.send and digest_chat.missing():
            context.log.warning(f"digest not sent: set {', '.join(digest_chat.missing())}")
        elif config.send:
            sent = deliver(conn, digest_chat.client(), digest_chat.chat_id, digest, force=config.force)
    digest_sent = any(s.kind == "digest" for s in sent)
    if config.send and not digest_sent and not digest_chat.missing():
        context.log.info(f"the digest of {day} was sent already; nothing sent again")
    return dg.MaterializeResult(
        metadata={
            "day": day.isoformat(),
            "text": dg.MetadataValue.md("```\n" + readable(digest.html) + "\n```"),
            "html": digest.html,
            "sent": digest_sent,
            "alerts_sent": [key for s in sent if s.kind == "alert" for key in s.keys],
            "complete": digest.complete,
            "gaps": "; ".join(digest.gaps) or "none",
            "anomalies": len(digest.anomalies),
        }
    )


# --- checks ---------------------------------------------------------------------------------------------

CHECKED = {
    "sales_daily": ("onec",),
    "store_traffic_daily": ("ftp_counters",),
    "web_traffic_daily": ("yandex_metrika",),
    "social_daily": ("instagram", "vk"),
}


def _anomaly_check(mart: str, sources: tuple[str, ...]) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["marts", mart]),
        name="no_weekday_anomaly",
        blocking=False,
        description=f"Yesterday's {', '.join(sources)} figures within their weekday baseline "
        "(median and MAD of the same weekday over 8 weeks); warns, never blocks.",
    )
    def check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        day = digest_day(context.run.tags)
        try:
            with warehouse.connect() as conn:
                digest = make_digest(conn, day)
        except psycopg.errors.UndefinedTable:
            return dg.AssetCheckResult(passed=True, metadata={"day": day.isoformat(), "skipped": "no marts yet"})
        found = [a for a in digest.anomalies if a.metric.source in sources]
        return dg.AssetCheckResult(
            passed=not found,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "day": day.isoformat(),
                "anomalies": "\n".join(
                    f"{a.metric.label}: {a.metric.value:g} (expected {a.expected or 0:g})"
                    + (" SEVERE" if a.severe else "")
                    for a in found
                )
                or "none",
            },
        )

    return check


anomaly_checks = [_anomaly_check(mart, sources) for mart, sources in CHECKED.items()]

digest_job = dg.define_asset_job(
    "digest_job",
    selection=dg.AssetSelection.assets(DIGEST_KEY) | dg.AssetSelection.checks(*anomaly_checks),
    description="The morning digest and the anomaly checks of the marts for one day (tag glame/digest_day).",
    tags={"glame/kind": "digest"},
)


# --- when ------------------------------------------------------------------------------------------------


def _daily_run(instance: dg.DagsterInstance, day: date) -> dg.RunRecord | None:
    records = instance.get_run_records(
        dg.RunsFilter(
            job_name=DAILY_JOB,
            tags={RANGE_END: day.isoformat(), "dagster/schedule_name": DAILY_SCHEDULE},
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
        ),
        limit=1,
    )
    return records[0] if records else None


def fed_marts(instance: dg.DagsterInstance, daily: dg.DagsterRun, graph) -> set[dg.AssetKey]:
    """The digest's marts downstream of what the daily run loaded (its failed assets left out); sales_daily
    when the run names no assets."""
    loaded = set(daily.asset_selection or ())
    if not loaded or graph is None:
        return {dg.AssetKey(["marts", "sales_daily"])}
    loaded = {key for key in loaded if graph.has(key) and graph.get(key).group_name not in MODEL_GROUPS}
    loaded -= failed_assets_of(instance, daily, graph)
    marts = dg.AssetSelection.assets(*(dg.AssetKey(["marts", m]) for m in MARTS))
    return (dg.AssetSelection.assets(*loaded).downstream() & marts).resolve(graph) if loaded else set()


def _models_built_after(instance: dg.DagsterInstance, daily: dg.RunRecord, graph=None) -> bool:
    """Every mart of the digest the daily run fed is built: by the daily run itself (its models follow its
    loads), or by successful runs started after it ended (the models after a failed load, whatever their
    job): a counter file's store_traffic_daily alone is not it."""
    ended = datetime.fromtimestamp(daily.end_time or 0, UTC)
    later = instance.get_run_records(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS], created_after=ended), limit=50
    )
    built = {key for r in later for key in (r.dagster_run.asset_selection or ())}
    built |= {
        entry.dagster_event.asset_key
        for entry in instance.all_logs(daily.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if entry.dagster_event and entry.dagster_event.asset_key
    }
    return fed_marts(instance, daily.dagster_run, graph) <= built


def digest_request(instance: dg.DagsterInstance, today: date, graph=None) -> dg.RunRequest | dg.SkipReason:
    """`graph`: the code location's asset graph, to tell which marts the daily run fed."""
    day = today - timedelta(1)
    daily = _daily_run(instance, day)
    if daily is None:
        return dg.SkipReason(f"the daily run for {day} has not finished")
    if not _models_built_after(instance, daily, graph):
        return dg.SkipReason(f"waiting for the models built after the daily run for {day}")
    return dg.RunRequest(
        run_key=f"digest-{day.isoformat()}", tags={DAY_TAG: day.isoformat(), DAILY_RUN_TAG: daily.dagster_run.run_id}
    )


@dg.sensor(job=digest_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
def digest_after_daily_models(context: dg.SensorEvaluationContext):
    """Once per Moscow day, after the daily schedule's run and its models: see the module's docstring."""
    return digest_request(context.instance, moscow_today(), context.repository_def.asset_graph)
