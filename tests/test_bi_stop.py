"""`make bi` stopped the two ways an operator stops it: Ctrl-C in its terminal (SIGINT to the whole foreground
process group) and `kill <pid of make>` (SIGTERM to make alone, which make does not pass on). Either way
Superset's gunicorn master and workers, the cache warm-up's Chromium and everything else it started are
gone within 15 s."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import psycopg
import pytest
import requests

from glame_pipelines.bi import launcher
from glame_pipelines.warehouse.connection import sqlalchemy_url, with_database

pytestmark = [
    pytest.mark.production,
    pytest.mark.skipif(
        not (launcher.VENV_BI / "bin" / "superset").exists(),
        reason="Superset's .venv-bi is missing: `make test` creates it (make bi-venv)",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
SOURCE_PREFIXES = ("ONEC_", "YANDEX_", "INSTAGRAM_", "VK_", "TELEGRAM_", "FTP_", "GLAME_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def bi_env(pg_server_url, tmp_path_factory):
    """`make bi`'s environment: a throwaway warehouse, home and metadata database, a free port; shared by the
    module's two tests so Superset's metadata is set up once."""
    home = tmp_path_factory.mktemp("bi-home")
    suffix = uuid.uuid4().hex[:8]
    metadata_db, warehouse_db = f"glame_bi_stop_{suffix}", f"glame_bi_stop_wh_{suffix}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'create database "{warehouse_db}"')
    warehouse_url = with_database(pg_server_url, warehouse_db)
    env = {k: v for k, v in os.environ.items() if not k.startswith(SOURCE_PREFIXES)}
    env.update(
        {
            "GLAME_WAREHOUSE_URL": warehouse_url,
            "GLAME_DAGSTER_PG_URL": sqlalchemy_url(warehouse_url),
            "GLAME_HOME": str(home),
            "GLAME_BI_METADATA_DB": metadata_db,
            "GLAME_BI_PORT": str(free_port()),
            "GLAME_BI_WORKERS": "2",
        }
    )
    yield env
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in (metadata_db, warehouse_db):
            conn.execute(f'drop database if exists "{name}" with (force)')


# A command typed in a terminal takes Ctrl-C; a shell that runs a command in the background (as CI's may) hands
# it SIGINT ignored, and that disposition is inherited: `make bi` is exec'd with the terminal's dispositions.
AS_IN_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGQUIT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


def start_make_bi(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, set[tuple[int, float]]]:
    """`make bi` in a session of its own (as in a terminal), once Superset answers and its warm-up has begun;
    with every process it has started by then."""
    make = subprocess.Popen(
        [sys.executable, "-c", AS_IN_A_TERMINAL, "make", "--no-print-directory", "bi"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{env['GLAME_BI_PORT']}/health"
    seen: set[tuple[int, float]] = set()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and make.poll() is None:
        seen |= tree(make.pid)
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).ok and "Ctrl-C stops it" in log.read_text(errors="replace"):
                break
        time.sleep(1)
    assert make.poll() is None, log.read_text(errors="replace")[-3000:]
    if launcher.chromium_available():  # the warm-up's browser starts once Superset is ready: stop it mid-warm-up
        deadline = time.monotonic() + 90
        while not running(seen, "chrom") and time.monotonic() < deadline:
            time.sleep(0.5)
            seen |= tree(make.pid)
        assert running(seen, "chrom"), "the warm-up's headless Chromium never started"
    return make, seen | tree(make.pid)


def tree(pid: int) -> set[tuple[int, float]]:
    found = set()
    with contextlib.suppress(psutil.NoSuchProcess):
        for proc in psutil.Process(pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                found.add((proc.pid, proc.create_time()))
    return found


def left_behind(seen: set[tuple[int, float]]) -> list[str]:
    left = []
    for pid, created in seen:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(proc.cmdline())[:160])
    return left


def stopped_within(make: subprocess.Popen, seen: set[tuple[int, float]], limit: float) -> tuple[float, list[str]]:
    started = time.monotonic()
    with contextlib.suppress(subprocess.TimeoutExpired):
        make.wait(limit + 15)
    while left_behind(seen) and time.monotonic() - started < limit + 15:
        time.sleep(0.2)
    return time.monotonic() - started, left_behind(seen)


def running(seen: set[tuple[int, float]], name: str) -> int:
    """How many of the processes seen still run a command line naming `name`."""
    commands = []
    for pid, _ in seen:
        with contextlib.suppress(psutil.NoSuchProcess):
            commands.append(" ".join(psutil.Process(pid).cmdline()))
    return sum(name in command for command in commands)


def test_ctrl_c_stops_every_process_make_bi_started(bi_env, tmp_path):
    make, seen = start_make_bi(bi_env, tmp_path / "make.log")
    assert running(seen, "gunicorn") >= 2, "expected the gunicorn master and its workers among make bi's processes"
    os.killpg(make.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C
    elapsed, left = stopped_within(make, seen, 15)
    assert left == [] and elapsed < 15, (left, elapsed, (tmp_path / "make.log").read_text(errors="replace")[-2000:])


def test_sigterm_to_make_alone_stops_every_process_make_bi_started(bi_env, tmp_path):
    make, seen = start_make_bi(bi_env, tmp_path / "make.log")
    assert running(seen, "gunicorn") >= 2
    make.send_signal(signal.SIGTERM)  # `kill <pid of make>`: make dies, its children are not signalled
    elapsed, left = stopped_within(make, seen, 15)
    assert left == [] and elapsed < 15, (left, elapsed, (tmp_path / "make.log").read_text(errors="replace")[-2000:])
