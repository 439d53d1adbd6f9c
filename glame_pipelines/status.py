"""`glame status`: one answer for an operator or a monitoring system (Zabbix, Nagios, cron mail).

Read from the Dagster instance only (no definitions loaded, no source called), so it answers in a second
even while the code server is down. Exit status 0 when every configured source is fresh and nothing
failed in the last 24 hours; 1 otherwise.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg

from glame_pipelines.defs.freshness import freshness_days
from glame_pipelines.runtime import prepare
from glame_pipelines.settings import RANGE_END, RANGE_START, WINDOW_END, WINDOW_START
from glame_pipelines.sources import all_sources

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
REPORT_PREFIXES = ("dashboards", "bi")  # Superset's refresh assets, when the BI code location defines them


@dataclass
class SourceStatus:
    group: str
    label: str
    configured: bool
    last_load: str | None = None
    window: str | None = None
    state: str = "never loaded"  # fresh | stale | never loaded | not configured
    stale_since: str | None = None


@dataclass
class Report:
    generated_at: str
    sources: list[SourceStatus] = field(default_factory=list)
    failing_checks: list[dict] = field(default_factory=list)
    failed_runs: list[dict] = field(default_factory=list)
    active_runs: list[dict] = field(default_factory=list)
    refreshes: dict = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        sources_ok = all(s.state in ("fresh", "not configured") for s in self.sources)
        return sources_ok and not self.failing_checks and not self.failed_runs

    def as_dict(self) -> dict:
        return {**asdict(self), "healthy": self.healthy}


def _iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds") if timestamp else None


def latest_materializations(instance: dg.DagsterInstance) -> dict[dg.AssetKey, dg.EventLogRecord]:
    keys = instance.get_asset_keys()
    return (
        {key: record for key, record in instance.get_latest_materialization_events(keys).items() if record}
        if keys
        else {}
    )


def _window(instance: dg.DagsterInstance, record) -> str | None:
    """The load's window: its partition, or the run's partition range / dbt window."""
    partition = getattr(record.dagster_event, "partition", None) if record.dagster_event else None
    run = instance.get_run_by_id(record.run_id)
    tags = run.tags if run else {}
    for start, end in ((RANGE_START, RANGE_END), (WINDOW_START, WINDOW_END)):
        if start in tags:
            return f"{tags[start]} … {tags[end]}"
    return partition


def source_statuses(instance, latest, now: datetime, env) -> list[SourceStatus]:
    """Per source, its newest load (any of its assets) and whether it is older than GLAME_FRESHNESS_DAYS."""
    limit = timedelta(days=freshness_days(env))
    out = []
    for group, source in all_sources().items():
        status = SourceStatus(group, source.label, source.is_configured(env))
        records = [r for key, r in latest.items() if key.path[0] == group]
        if records:
            newest = max(records, key=lambda r: r.timestamp)
            status.last_load, status.window = _iso(newest.timestamp), _window(instance, newest)
            stale_at = datetime.fromtimestamp(newest.timestamp, UTC) + limit
            status.state = "fresh" if now < stale_at else "stale"
            status.stale_since = None if status.state == "fresh" else stale_at.isoformat(timespec="seconds")
        if not status.configured and status.state == "never loaded":
            status.state = "not configured"
        out.append(status)
    return out


def failing_checks(instance: dg.DagsterInstance, since: datetime) -> list[dict]:
    """The newest evaluation of each asset check in the window, when it failed."""
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_timestamp=since.timestamp()),
        limit=5000,
        ascending=False,
    )
    newest: dict[tuple, dict] = {}
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        key = (evaluation.asset_key.to_user_string(), evaluation.check_name)
        if key not in newest:
            newest[key] = {
                "asset": key[0],
                "check": key[1],
                "passed": evaluation.passed,
                "severity": evaluation.severity.value,
                "at": _iso(record.timestamp),
            }
    return [c for c in newest.values() if not c["passed"]]


def failure_reason(instance: dg.DagsterInstance, run_id: str) -> str:
    steps = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    for record in steps:
        data = record.dagster_event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            return f"{record.step_key}: {data.user_failure_data.description}"[:300]
        if data.error:
            return f"{record.step_key}: {data.error.message.strip()}"[:300]
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return (failures[-1].message or "run failed")[:300] if failures else "run failed"


def failed_runs(instance: dg.DagsterInstance, since: datetime) -> list[dict]:
    """Failures of the window not since repaired by a retry of the same run group."""
    out = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], created_after=since)):
        run = record.dagster_run
        group = instance.get_run_group(run.run_id)
        if group and any(r.status == dg.DagsterRunStatus.SUCCESS for r in group[1]):
            continue
        out.append(
            {
                "run_id": run.run_id,
                "job": run.job_name,
                "at": _iso(record.end_time or record.create_timestamp.timestamp()),
                "reason": failure_reason(instance, run.run_id),
            }
        )
    return out


def active_runs(instance: dg.DagsterInstance) -> list[dict]:
    return [
        {
            "run_id": r.dagster_run.run_id,
            "job": r.dagster_run.job_name,
            "status": r.dagster_run.status.value,
            "since": _iso(r.start_time or r.create_timestamp.timestamp()),
        }
        for r in instance.get_run_records(dg.RunsFilter(statuses=ACTIVE))
    ]


def refreshes(latest) -> dict:
    """The dashboards' last refresh when their assets exist; else when each mart was last built."""
    reports = {k: r for k, r in latest.items() if k.path[0] in REPORT_PREFIXES}
    kind, chosen = (
        ("dashboards", reports) if reports else ("marts", {k: r for k, r in latest.items() if k.path[0] == "marts"})
    )
    return {"kind": kind, "last": {k.to_user_string(): _iso(r.timestamp) for k, r in sorted(chosen.items())}}


def collect(instance: dg.DagsterInstance, now: datetime | None = None, env=None) -> Report:
    now = now or datetime.now(UTC)
    env = os.environ if env is None else env
    latest = latest_materializations(instance)
    day_ago = now - timedelta(hours=24)
    return Report(
        generated_at=now.isoformat(timespec="seconds"),
        sources=source_statuses(instance, latest, now, env),
        failing_checks=failing_checks(instance, now - timedelta(days=7)),
        failed_runs=failed_runs(instance, day_ago),
        active_runs=active_runs(instance),
        refreshes=refreshes(latest),
    )


def render(report: Report) -> str:
    lines = [f"GLAME status at {report.generated_at}: {'OK' if report.healthy else 'ATTENTION'}", "", "Sources:"]
    for s in report.sources:
        detail = {
            "fresh": f"last load {s.last_load} ({s.window})",
            "stale": f"STALE since {s.stale_since}; last load {s.last_load} ({s.window})",
            "never loaded": "NEVER LOADED",
            "not configured": "not configured",
        }[s.state]
        lines.append(f"  {s.group:15} {s.state:14} {detail}")
    lines.append(f"\nFailing checks: {len(report.failing_checks) or 'none'}")
    lines += [f"  {c['asset']}:{c['check']} ({c['severity']}) at {c['at']}" for c in report.failing_checks]
    lines.append(f"Failed runs, last 24 h: {len(report.failed_runs) or 'none'}")
    lines += [f"  {r['run_id'][:8]} {r['job']} at {r['at']}: {r['reason']}" for r in report.failed_runs]
    lines.append(f"Queued or running: {len(report.active_runs) or 'none'}")
    lines += [f"  {r['run_id'][:8]} {r['job']} {r['status']} since {r['since']}" for r in report.active_runs]
    label = "Dashboards last refreshed" if report.refreshes["kind"] == "dashboards" else "Marts last built"
    lines.append(f"{label}:")
    lines += [f"  {name}: {at}" for name, at in report.refreshes["last"].items()] or ["  never"]
    return "\n".join(lines)


def main(as_json: bool = False) -> int:
    prepare()
    with dg.DagsterInstance.get() as instance:
        report = collect(instance)
    print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) if as_json else render(report))
    return 0 if report.healthy else 1
