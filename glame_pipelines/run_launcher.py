"""Dagster's default run launcher, made visible to run monitoring.

The default launcher starts each run as a subprocess of the code server but cannot tell the monitoring
daemon whether that process still lives, so a run whose machine was stopped stayed STARTED forever.
This one asks the code server that launched the run (its address is in the run's tags) whether it still
runs it (the question a cancellation asks, which `dagster code-server start` forwards). A run it does
not know (the server was restarted, the process killed) is reported failed; the daemon marks the run
failed, which fires the failure alert and, for crashes, a run retry.
"""

from __future__ import annotations

import json

import dagster as dg

# Dagster's private API, here and nowhere else in the project. 1.13.27 exports none of these: the package's
# top level offers DefaultRunLauncher only (there is no `dagster.core` in 1.x), and Dagster's own launchers
# (dagster-k8s, dagster-docker) import the health-check types from the same private paths.
# tests/test_run_launcher.py fails loudly, naming what moved, when an upgrade changes any of them.
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import CanCancelExecutionRequest, CanCancelExecutionResult

CAN_CANCEL_TIMEOUT_SECONDS = 15


class MonitoredRunLauncher(dg.DefaultRunLauncher):
    """Configured in dagster.yaml; behaves exactly like the default launcher otherwise."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        """RUNNING while the launching server still holds the run's process; FAILED once it answers that it
        does not. An unreachable server (restarting) vouches neither way: the run is left alone until it
        answers (max_runtime_seconds in dagster.yaml bounds the wait)."""
        info = run.tags.get(GRPC_INFO_TAG)
        if not info:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no code server address on the run; not judged")
        address = json.loads(info)
        client = DagsterGrpcClient(
            host=address.get("host") or "localhost",
            port=address.get("port"),
            socket=address.get("socket"),
            use_ssl=bool(address.get("use_ssl", False)),
        )
        try:
            request = CanCancelExecutionRequest(run_id=run.run_id)
            reply = client.can_cancel_execution(request, timeout=CAN_CANCEL_TIMEOUT_SECONDS)
            alive = dg.deserialize_value(reply, CanCancelExecutionResult).can_cancel
        except Exception as error:
            return CheckRunHealthResult(
                WorkerStatus.RUNNING, f"code server unreachable ({type(error).__name__})", transient=True
            )
        if alive:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            "the code server that launched the run no longer runs it (process killed or "
            "server restarted); its loads were transactional, a re-run redoes its days",
        )
