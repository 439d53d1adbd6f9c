"""`glame status` on a real Postgres-backed Dagster instance: fresh, stale, failed and queued states, and
the exit code a monitoring system acts on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from glame_pipelines import status
from glame_pipelines.settings import RANGE_END, RANGE_START
from glame_pipelines.warehouse.connection import sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]
ONEC_ONLY = {"ONEC_API_URL": "http://127.0.0.1:9/odata", "ONEC_API_TOKEN": "t0ken-value"}


@dg.asset(key=["onec", "sales"])
def onec_sales():
    """Stands in for the 1C load: status reads only what the instance recorded."""
    return dg.MaterializeResult(metadata={"dagster/row_count": 3})


@dg.asset(key=["marts", "sales_daily"], deps=[onec_sales])
def sales_daily():
    return None


@dg.asset(key=["onec", "products"])
def broken_load():
    raise dg.Failure(description="1C:Enterprise (OData): the server rejected the credentials", allow_retries=False)


@pytest.fixture
def instance(warehouse_url):
    with dg.instance_for_test(
        overrides={"storage": {"postgres": {"postgres_url": sqlalchemy_url(warehouse_url)}}}
    ) as inst:
        yield inst


def load_a_week(instance) -> None:
    dg.materialize(
        [onec_sales, sales_daily], instance=instance, tags={RANGE_START: "2025-05-25", RANGE_END: "2025-05-31"}
    )


def by_group(report) -> dict:
    return {s.group: s for s in report.sources}


def test_fresh_after_a_load_and_nothing_else_configured(instance):
    load_a_week(instance)
    report = status.collect(instance, env=ONEC_ONLY)
    onec = by_group(report)["onec"]
    assert onec.state == "fresh" and onec.window == "2025-05-25 … 2025-05-31"
    assert by_group(report)["vk"].state == "not configured"
    assert report.healthy and not report.failed_runs and not report.active_runs
    assert report.refreshes["kind"] == "marts" and "marts/sales_daily" in report.refreshes["last"]
    assert "onec            fresh" in status.render(report)


def test_stale_after_the_freshness_limit(instance):
    load_a_week(instance)
    later = datetime.now(UTC) + timedelta(days=3)
    report = status.collect(instance, now=later, env={**ONEC_ONLY, "GLAME_FRESHNESS_DAYS": "2"})
    onec = by_group(report)["onec"]
    assert onec.state == "stale" and onec.stale_since is not None and not report.healthy
    assert "STALE since" in status.render(report)
    # a configured source that never loaded is not healthy either
    report = status.collect(instance, env={**ONEC_ONLY, "VK_ACCESS_TOKEN": "x", "VK_GROUP_ID": "1"})
    assert by_group(report)["vk"].state == "never loaded" and not report.healthy


def test_failed_run_with_its_reason(instance):
    load_a_week(instance)
    result = dg.materialize([broken_load], instance=instance, raise_on_error=False)
    report = status.collect(instance, env=ONEC_ONLY)
    assert [r["run_id"] for r in report.failed_runs] == [result.run_id]
    assert "rejected the credentials" in report.failed_runs[0]["reason"] and not report.healthy
    # a day later the failure has left the 24-hour window
    report = status.collect(
        instance, now=datetime.now(UTC) + timedelta(hours=25), env={**ONEC_ONLY, "GLAME_FRESHNESS_DAYS": "5"}
    )
    assert report.failed_runs == [] and report.healthy


def test_queued_and_running_runs_are_listed_without_failing(instance):
    load_a_week(instance)
    job = dg.define_asset_job("sources_job", selection=[onec_sales])
    resolved = dg.Definitions(assets=[onec_sales], jobs=[job]).resolve_job_def("sources_job")
    # QUEUED needs a code location's origin (the daemon test covers it); NOT_STARTED waits the same way
    queued = instance.create_run_for_job(resolved, status=dg.DagsterRunStatus.NOT_STARTED)
    running = instance.create_run_for_job(resolved, status=dg.DagsterRunStatus.STARTED)
    report = status.collect(instance, env=ONEC_ONLY)
    assert {(r["run_id"], r["status"]) for r in report.active_runs} == {
        (queued.run_id, "NOT_STARTED"),
        (running.run_id, "STARTED"),
    }
    assert report.healthy  # waiting work is not a failure


def test_failing_check_is_reported(instance):
    @dg.asset_check(asset=onec_sales, name="every_day_has_rows")
    def every_day_has_rows():
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    job = dg.Definitions(assets=[onec_sales], asset_checks=[every_day_has_rows]).resolve_implicit_global_asset_job_def()
    job.execute_in_process(instance=instance, raise_on_error=False)
    report = status.collect(instance, env=ONEC_ONLY)
    assert [(c["asset"], c["check"]) for c in report.failing_checks] == [("onec/sales", "every_day_has_rows")]
    assert not report.healthy


def glame_status(warehouse_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONEC_", "VK_", "TELEGRAM_", "INSTAGRAM_", "YANDEX_", "FTP_", "GLAME_INBOX"))
    }
    env.update(
        {
            **ONEC_ONLY,
            "GLAME_WAREHOUSE_URL": warehouse_url,
            "GLAME_DAGSTER_PG_URL": sqlalchemy_url(warehouse_url),
            "DAGSTER_HOME": str(ROOT),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "glame_pipelines.cli", "status", *args],
        env=env,
        cwd=ROOT / "tests",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_exit_codes_and_json(warehouse_url, instance):
    """The command a cron job or Zabbix runs: 1 while nothing loaded, 0 once fresh, 1 after a failure."""
    result = glame_status(warehouse_url)
    assert result.returncode == 1, result.stderr
    assert "onec            never loaded" in result.stdout
    load_a_week(instance)
    result = glame_status(warehouse_url, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["healthy"] is True and {s["group"]: s["state"] for s in document["sources"]}["onec"] == "fresh"
    assert "t0ken-value" not in result.stdout + result.stderr
    dg.materialize([broken_load], instance=instance, raise_on_error=False)
    result = glame_status(warehouse_url)
    assert result.returncode == 1 and "rejected the credentials" in result.stdout
