"""`glame check` and `glame run` as a user runs them: a real process, the sandbox, a real Postgres."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_VARS = ("ONEC_API_URL", "ONEC_API_TOKEN", "ONEC_USERNAME", "ONEC_PASSWORD")


def glame(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SOURCE_VARS and not k.startswith("ONEC_")}
    return subprocess.run(
        [sys.executable, "-m", "glame_pipelines.cli", *args],
        env={**clean, **env},
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_reports_an_unconfigured_source_by_its_variables(tmp_path):
    result = glame("check", env={}, cwd=tmp_path)
    assert result.returncode == 0
    assert "SKIP onec" in result.stdout and "ONEC_API_URL" in result.stdout


def test_check_ok_against_the_sandbox(onec_env, tmp_path):
    result = glame("check", env=onec_env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK   onec")


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"ONEC_PASSWORD": "wrong-password"}, "rejected the credentials"),
        ({"ONEC_API_URL": "http://127.0.0.1:9/odata/standard.odata"}, "connection failed"),
        ({"ONEC_SALES_ENDPOINT": "AccumulationRegister_ПродажиРозница_RecordType"}, "is not published"),
    ],
    ids=["wrong-password", "wrong-url", "unpublished-set"],
)
def test_check_explains_what_is_wrong(onec_env, tmp_path, change, expected):
    result = glame("check", env={**onec_env, **change}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL onec") and expected in result.stdout
    assert "wrong-password" not in result.stdout + result.stderr


def test_check_reads_dotenv_without_overriding_exported(onec_env, tmp_path):
    (tmp_path / ".env").write_text(f"ONEC_API_URL={onec_env['ONEC_API_URL']}\nONEC_USERNAME=nobody\n")
    env = {"ONEC_USERNAME": onec_env["ONEC_USERNAME"], "ONEC_PASSWORD": onec_env["ONEC_PASSWORD"]}
    result = glame("check", env=env, cwd=tmp_path)
    assert result.stdout.startswith("OK   onec"), result.stdout


def test_a_warehouse_database_that_does_not_exist_is_named_with_the_remedy(pg_server_url, tmp_path):
    """`GLAME_WAREHOUSE_URL=…/glame_demo make demo` on a server without that database printed psycopg's
    traceback; it is one line naming the database and what to do, the password kept out of it."""
    parts = urlsplit(pg_server_url)  # the test server's, with a password added (trust auth ignores it)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    netloc = f"{parts.username or 'postgres'}:s3cret@{host}"
    missing = urlunsplit(parts._replace(netloc=netloc, path="/glame_no_such_database"))
    result = glame(
        "demo", "--days", "1", env={"GLAME_WAREHOUSE_URL": missing, "GLAME_DAGSTER_PG_URL": ""}, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "'glame_no_such_database', which does not exist" in result.stderr and "createdb" in result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr + result.stdout


def test_run_only_unconfigured_source_fails_naming_it(warehouse_url, tmp_path):
    result = glame(
        "run",
        "--start",
        "2025-03-14",
        "--only",
        "onec",
        "--no-dbt",
        env={"GLAME_WAREHOUSE_URL": warehouse_url, "GLAME_DAGSTER_PG_URL": _sqlalchemy(warehouse_url)},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "skipped onec: not configured, set ONEC_API_URL" in result.stdout


def test_run_loads_through_dagster_and_builds_models(warehouse_url, onec_env, tmp_path):
    env = {**onec_env, "GLAME_WAREHOUSE_URL": warehouse_url, "GLAME_DAGSTER_PG_URL": _sqlalchemy(warehouse_url)}
    result = glame("run", "--start", "2025-03-10", "--end", "2025-03-14", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "ok    onec/sales" in result.stdout
    with psycopg.connect(warehouse_url) as conn:
        days = conn.execute("select count(distinct period::date) from raw.onec_sales").fetchone()[0]
        staged = conn.execute("select count(*) from staging.stg_onec__sales where not is_migrated").fetchone()[0]
        raw = conn.execute("select count(*) from raw.onec_sales").fetchone()[0]
        runs = conn.execute("select count(*) from runs where status = 'SUCCESS'").fetchone()[0]
        mart_events = conn.execute(
            "select event from event_logs where asset_key like '%%unified_daily%%' "
            "and dagster_event_type = 'ASSET_MATERIALIZATION'"
        ).fetchall()
        revenue = conn.execute("select sum(revenue) from marts.unified_daily").fetchone()[0]
    assert days == 5
    assert staged == raw > 0
    assert revenue > 0 and mart_events and "latest_revenue" in mart_events[0][0]  # the UI can plot it
    assert '"dagster/row_count"' in mart_events[0][0]  # counted in the warehouse the run built, not "glame"
    assert runs == 2  # the sources run and the models run, in the Postgres-backed instance the UI reads


def _sqlalchemy(url: str) -> str:
    return "postgresql+psycopg2://" + url.split("://", 1)[1]


@pytest.fixture
def full_sandbox():
    from conftest import SANDBOX_TODAY

    from glame_pipelines.sandbox.build import build_sandbox
    from glame_pipelines.sandbox.retail import RetailWorld

    server, env = build_sandbox(world=RetailWorld(customers=50, today=SANDBOX_TODAY))
    with server:
        yield env


def test_check_covers_every_source(full_sandbox, tmp_path):
    result = glame("check", env=full_sandbox, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    lines = [line for line in result.stdout.splitlines() if not line.startswith(" ")]  # 1C adds a line per set
    assert [line.split()[:2] for line in lines] == [
        *(["OK", g] for g in ("onec", "yandex_metrika", "instagram", "vk", "telegram", "ftp_counters")),
        ["SKIP", "onec_files"],
    ]
    assert (
        "counter 98765432" in result.stdout and "@glame.jewelry" in result.stdout and "18342 members" in result.stdout
    )


def test_check_names_each_bad_token_and_its_remedy(full_sandbox, tmp_path):
    broken = {
        **full_sandbox,
        "YANDEX_METRIKA_OAUTH_TOKEN": "bad-1",
        "INSTAGRAM_ACCESS_TOKEN": "bad-2",
        "VK_ACCESS_TOKEN": "bad-3",
        "TELEGRAM_BOT_TOKEN": "1:bad-4",
    }
    broken["FTP_PASSWORD"] = "bad-5"
    result = glame("check", env=broken, cwd=tmp_path)
    assert result.returncode == 1
    for group, remedy in [
        ("yandex_metrika", "metrika:read"),
        ("instagram", "INSTAGRAM_ACCESS_TOKEN"),
        ("vk", "VK_ACCESS_TOKEN"),
        ("telegram", "BotFather"),
        ("ftp_counters", "FTP_PASSWORD"),
    ]:
        line = next(line for line in result.stdout.splitlines() if line.split()[1] == group)
        assert line.startswith("FAIL") and remedy in line, line
    assert not any(f"bad-{n}" in result.stdout + result.stderr for n in range(1, 6))
