"""The run launcher that answers run monitoring leans on Dagster's private API (no public path in 1.13.27).
These tests fail loudly on an upgrade that moves it, before a run killed mid-load stays STARTED forever."""

from __future__ import annotations

import importlib
import inspect
import json
import socket
import subprocess
import sys
import time
import uuid

import dagster as dg
import pytest

from glame_pipelines.run_launcher import MonitoredRunLauncher

PRIVATE_NAMES = {
    "dagster._core.launcher.base": ("CheckRunHealthResult", "WorkerStatus"),
    "dagster._core.storage.tags": ("GRPC_INFO_TAG",),
    "dagster._grpc.client": ("DagsterGrpcClient",),
    "dagster._grpc.types": ("CanCancelExecutionRequest", "CanCancelExecutionResult"),
}


def private(module: str, name: str):
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, names in PRIVATE_NAMES.items() for n in names])
def test_the_private_names_are_where_the_launcher_imports_them(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name} moved: see glame_pipelines/run_launcher.py"


def test_the_private_api_keeps_the_shape_the_launcher_uses():
    """Fields, members and parameters the launcher passes or reads, by name."""
    health = private("dagster._core.launcher.base", "CheckRunHealthResult")
    status = private("dagster._core.launcher.base", "WorkerStatus")
    client = private("dagster._grpc.client", "DagsterGrpcClient")
    assert {"status", "msg", "transient"} <= set(health._fields)
    assert {"RUNNING", "FAILED"} <= set(status.__members__)
    assert {"host", "port", "socket", "use_ssl"} <= set(inspect.signature(client.__init__).parameters)
    assert list(inspect.signature(client.can_cancel_execution).parameters)[1:] == [
        "can_cancel_execution_request",
        "timeout",
    ]
    request = private("dagster._grpc.types", "CanCancelExecutionRequest")(run_id="r")
    assert request.run_id == "r"
    assert private("dagster._grpc.types", "CanCancelExecutionResult")(can_cancel=False).can_cancel is False
    assert private("dagster._core.storage.tags", "GRPC_INFO_TAG") == ".dagster/grpc_info"
    # the hooks run monitoring calls on the configured launcher
    assert {"check_run_worker_health", "supports_check_run_worker_health"} <= set(dir(dg.DefaultRunLauncher))


def run_with(tags: dict[str, str]) -> dg.DagsterRun:
    return dg.DagsterRun(job_name="job", run_id=str(uuid.uuid4()), tags=tags)


def grpc_tag(port: int) -> dict[str, str]:
    return {private("dagster._core.storage.tags", "GRPC_INFO_TAG"): json.dumps({"host": "127.0.0.1", "port": port})}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_run_without_a_server_address_is_not_judged():
    health = MonitoredRunLauncher().check_run_worker_health(run_with({}))
    assert health.status.value == "RUNNING"


def test_an_unreachable_server_vouches_neither_way():
    """A code server restarting must not get its runs failed: RUNNING, marked transient."""
    health = MonitoredRunLauncher().check_run_worker_health(run_with(grpc_tag(free_port())))
    assert health.status.value == "RUNNING" and health.transient


def test_a_live_server_that_does_not_run_it_fails_the_run(tmp_path):
    """The whole private path against a real `dagster api grpc`: a run it does not hold is FAILED."""
    (tmp_path / "defs.py").write_text("import dagster as dg\n\ndefs = dg.Definitions()\n")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster", "api", "grpc", "-h", "127.0.0.1", "-p", str(port), "-f", "defs.py"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the gRPC server did not start"
                time.sleep(0.3)
        health = MonitoredRunLauncher().check_run_worker_health(run_with(grpc_tag(port)))
        assert health.status.value == "FAILED", health
    finally:
        server.kill()  # a gRPC server drains for longer than a test waits on SIGTERM; nothing of it is needed
        server.wait(15)
