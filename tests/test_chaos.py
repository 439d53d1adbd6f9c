"""Proof under faults: `glame run` over 30 days with 20% of requests faulted gives the same tables, row for
row, as a fault-free run; permanent failures end cleanly; no secret reaches any output or log."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from glame_pipelines.sandbox.build import build_sandbox
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD
from glame_pipelines.sandbox.retail import MOSCOW, RetailWorld
from glame_pipelines.sandbox.server import FaultPlan
from glame_pipelines.warehouse.connection import with_database

# 30 days twice through Dagster, minutes: `make test-production`, run by .ci/run beside `make test`.
pytestmark = pytest.mark.production

ROOT = Path(__file__).resolve().parents[1]
DAYS = 30


@pytest.fixture
def new_database(pg_server_url):
    """A fresh database on the test server per call, dropped after the test (CI's server is reused)."""
    names = []

    def create() -> str:
        name = f"glame_chaos_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        names.append(name)
        return with_database(pg_server_url, name)

    yield create
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "{name}" with (force)')


def glame_run(env: dict[str, str], url: str, logs: Path) -> subprocess.CompletedProcess:
    logs.mkdir(parents=True, exist_ok=True)
    today = datetime.now(MOSCOW).date()
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONEC_", "YANDEX_", "INSTAGRAM_", "VK_", "TELEGRAM_", "FTP_", "GLAME_"))
    }
    full_env = {
        **clean,
        **env,
        "GLAME_WAREHOUSE_URL": url,
        "GLAME_DAGSTER_PG_URL": "postgresql+psycopg2://" + url.split("://", 1)[1],
        "GLAME_DAGSTER_COMPUTE_LOGS": str(logs),
        "GLAME_DAGSTER_ARTIFACTS": str(logs / "artifacts"),
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "glame_pipelines.cli",
            "run",
            "--start",
            str(today - timedelta(DAYS)),
            "--end",
            str(today - timedelta(1)),
        ],
        env=full_env,
        cwd=logs,
        capture_output=True,
        text=True,
        timeout=900,
    )


# Marts whose subject is when they were built (the dashboards' "data last loaded" line): any two builds differ.
BUILD_TIME_MARTS = {"data_freshness"}


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Every raw table and mart, row for row (load bookkeeping columns aside)."""
    out = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'marts') order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            if table in BUILD_TIME_MARTS:
                continue
            columns = [
                c
                for (c,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                    "and column_name not in ('_loaded_at', '_run_id') order by ordinal_position",
                    (schema, table),
                )
            ]
            row = ", ".join(f'"{c}"' for c in columns)
            count, digest = conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), '')) "
                f'from (select {row} from "{schema}"."{table}") as r'
            ).fetchone()
            out[f"{schema}.{table}"] = (count, digest)
    return out


def same_file_times(reference: Path, copy: Path) -> None:
    """The two FTP trees are written seconds apart; the files' MDTM lands in raw.ftp_counter_files, so give the
    copy the reference's times (the same files, as a device would have left them)."""
    for path in reference.rglob("*.txt"):
        stat = path.stat()
        os.utime(copy / path.relative_to(reference), ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory):
    world = RetailWorld(seed=5, customers=300)
    calm, calm_env = build_sandbox(world=world, ftp_root=tmp_path_factory.mktemp("ftp-calm"), counter_days=DAYS + 2)
    stormy, stormy_env = build_sandbox(
        world=world,
        ftp_root=tmp_path_factory.mktemp("ftp-stormy"),
        counter_days=DAYS + 2,
        faults=FaultPlan(rate=0.2, seed=11, stall_seconds=1.0),
    )
    fixed_hour = datetime.now(MOSCOW).replace(minute=0, second=0, microsecond=0)
    same_file_times(calm.ftp.root, stormy.ftp.root)
    with calm, stormy:
        for sandbox in (calm, stormy):
            sandbox.api("instagram").stories_at = fixed_hour
        stormy.api("onec").quirks.repeat_page_at_skip.update({500, 1000})
        yield {"calm": (calm, calm_env), "stormy": (stormy, stormy_env)}


def test_faulted_run_equals_fault_free_run_and_permanent_failures_end_cleanly(sandboxes, new_database, tmp_path):
    _calm, calm_env = sandboxes["calm"]
    stormy, stormy_env = sandboxes["stormy"]
    calm_url, stormy_url = new_database(), new_database()

    reference = glame_run(calm_env, calm_url, tmp_path / "calm")
    assert reference.returncode == 0, reference.stdout[-3000:] + reference.stderr[-3000:]
    faulted = glame_run(stormy_env, stormy_url, tmp_path / "stormy")
    assert faulted.returncode == 0, faulted.stdout[-3000:] + faulted.stderr[-3000:]
    assert stormy.http.faults.injected > 50  # a real storm: every API answered faults
    assert fingerprint(stormy_url) == fingerprint(calm_url)

    # permanent failures: a revoked VK token, a changed 1C password, a revoked FTP password
    before = fingerprint(stormy_url)
    stormy.http.faults.rate = 0.0
    broken_env = {
        **stormy_env,
        "VK_ACCESS_TOKEN": "vk1.a.REVOKED-token-123",
        "ONEC_PASSWORD": "changed-Пароль-9",
        "FTP_PASSWORD": "revoked-ftp-pass",
    }
    broken = glame_run(broken_env, stormy_url, tmp_path / "broken")
    assert broken.returncode == 1
    out = broken.stdout
    assert "VK rejected the access token" in out and "VK_ACCESS_TOKEN" in out
    assert "1C rejected the credentials" in out and "ONEC_USERNAME" in out
    assert "FTP login" in out and "FTP_PASSWORD" in out
    assert "ok    yandex_metrika/traffic" in out and "ok    instagram/account_daily" in out
    after = fingerprint(stormy_url)
    for table in (
        "raw.vk_group_stats",
        "raw.vk_wall_posts",
        "raw.onec_sales",
        "raw.onec_customers",
        "raw.ftp_counter_visits",
        "marts.sales_daily",
        "marts.store_traffic_daily",
    ):
        assert after[table] == before[table], table

    # secrets: stdout, stderr, the Dagster event log in Postgres, compute logs
    secrets = [
        stormy_env[k]
        for k in (
            "YANDEX_METRIKA_OAUTH_TOKEN",
            "INSTAGRAM_ACCESS_TOKEN",
            "VK_ACCESS_TOKEN",
            "TELEGRAM_BOT_TOKEN",
            "FTP_PASSWORD",
        )
    ]
    secrets += [
        DEFAULT_PASSWORD,
        "vk1.a.REVOKED-token-123",
        "changed-Пароль-9",
        "revoked-ftp-pass",
        stormy_env["TELEGRAM_BOT_TOKEN"].split(":", 1)[1],
        base64.b64encode(f"{DEFAULT_LOGIN}:{DEFAULT_PASSWORD}".encode()).decode(),
        base64.b64encode(f"{DEFAULT_LOGIN}:changed-Пароль-9".encode()).decode(),
    ]
    with psycopg.connect(stormy_url) as conn:
        events = "\n".join(body for (body,) in conn.execute("select event from event_logs"))
    assert "retry" in faulted.stdout + faulted.stderr + events  # the storm was logged...
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    text = "\n".join([faulted.stdout, faulted.stderr, broken.stdout, broken.stderr, events, logs])
    assert [s for s in secrets if s in text] == []  # ...and no secret with it
