"""`make dev` signalled with SIGTERM stops the webserver, the code server and its gRPC process with it
(it used to leave all three running)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from glame_pipelines.warehouse.connection import sqlalchemy_url

# Minutes each (the real topology, Celery workers): `make test-production`, run by .ci/run after `make test`.
pytestmark = pytest.mark.production

ROOT = Path(__file__).resolve().parents[1]
SOURCE_PREFIXES = ("ONEC_", "YANDEX_", "INSTAGRAM_", "VK_", "TELEGRAM_", "FTP_", "GLAME_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_sigterm_to_make_dev_leaves_no_process(warehouse_url, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(SOURCE_PREFIXES)}
    env.update(
        {
            "GLAME_WAREHOUSE_URL": warehouse_url,
            "GLAME_DAGSTER_PG_URL": sqlalchemy_url(warehouse_url),
            "GLAME_HOME": str(tmp_path),
            "GLAME_LOG_DIR": str(tmp_path / "logs"),
            "GLAME_DAGSTER_ARTIFACTS": str(tmp_path / "artifacts"),
            "GLAME_DAGSTER_COMPUTE_LOGS": str(tmp_path / "compute_logs"),
        }
    )
    make = subprocess.Popen(
        ["make", "--no-print-directory", "dev", f"GLAME_DEV_PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "make.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    seen: set[tuple[int, float]] = set()
    deadline = time.monotonic() + 240
    up = False
    while time.monotonic() < deadline and make.poll() is None and not up:
        for proc in psutil.Process(make.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                seen.add((proc.pid, proc.create_time()))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                up = True
        except OSError:
            time.sleep(1)
    assert up, (tmp_path / "make.log").read_text()[-3000:]
    time.sleep(3)  # the code server's gRPC child starts after the webserver listens
    for proc in psutil.Process(make.pid).children(recursive=True):
        seen.add((proc.pid, proc.create_time()))
    assert len(seen) >= 3  # glame, dagster dev, webserver, code server …
    started = time.monotonic()
    make.send_signal(signal.SIGTERM)  # to make alone, as `kill <pid of make>` does
    make.wait(30)
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    left = []
    for pid, created in seen:
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(proc.cmdline())[:120])
        except psutil.NoSuchProcess:
            continue
    assert left == [] and elapsed < 15, (left, elapsed)
