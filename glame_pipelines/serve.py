"""Dagster's production topology as supervised processes: the code server (gRPC), the webserver and the
daemon, each in its own process group with its log in a file. `glame serve` and `glame dev` stop every
process they started (and everything those started: runs, dbt, gRPC children) on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from glame_pipelines.warehouse.connection import EMBEDDED_DIR

# What `glame serve` (runtime.prepare) hands its processes besides the sources' own variables, and the
# listening settings: the deployment files (deploy/) must set the same (tests/test_deploy.py).
RUNTIME_ENV = (
    "DAGSTER_HOME",
    "GLAME_WAREHOUSE_URL",
    "GLAME_DAGSTER_PG_URL",
    "GLAME_DAGSTER_ARTIFACTS",
    "GLAME_DAGSTER_COMPUTE_LOGS",
    "GLAME_DB_HOST",
    "GLAME_DB_PORT",
    "GLAME_DB_USER",
    "GLAME_DB_PASSWORD",
    "GLAME_DB_NAME",
    "DAGSTER_EVENT_BATCH_SIZE",
)
SERVE_ENV = ("GLAME_UI_HOST", "GLAME_UI_PORT", "GLAME_GRPC_HOST", "GLAME_GRPC_PORT")
STOP_GRACE_SECONDS = 6  # SIGTERM, then SIGKILL: all gone within the 15 s an operator waits, even on a loaded machine
CODE_LOCATION = "glame_pipelines"
DEFINITIONS_MODULE = "glame_pipelines.definitions"


@dataclass(frozen=True)
class ServeSettings:
    """Where the processes listen and log; every value from a variable, with a safe default."""

    ui_host: str = "127.0.0.1"
    ui_port: int = 3000
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 4266
    log_dir: Path = EMBEDDED_DIR / "logs"

    @classmethod
    def from_env(cls, env=None) -> ServeSettings:
        env = os.environ if env is None else env
        return cls(
            ui_host=env.get("GLAME_UI_HOST") or cls.ui_host,
            ui_port=int(env.get("GLAME_UI_PORT") or cls.ui_port),
            grpc_host=env.get("GLAME_GRPC_HOST") or cls.grpc_host,
            grpc_port=int(env.get("GLAME_GRPC_PORT") or cls.grpc_port),
            log_dir=Path(env.get("GLAME_LOG_DIR") or cls.log_dir),
        )


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]


def bin_path(name: str) -> str:
    """An entry point of this interpreter's environment, so nothing depends on an activated venv."""
    return os.path.join(os.path.dirname(sys.executable), name)


def workspace_yaml(settings: ServeSettings) -> str:
    """The webserver and the daemon reach the code location over gRPC only (they never import it)."""
    return (
        f"load_from:\n  - grpc_server:\n      host: {settings.grpc_host}\n      port: {settings.grpc_port}\n"
        f"      location_name: {CODE_LOCATION}\n"
    )


def topology(settings: ServeSettings, workspace: Path) -> list[Process]:
    """The three long-running processes, in start order (the code server first: the others load from it)."""
    return [
        Process(
            "code-server",
            [
                bin_path("dagster"),
                "code-server",
                "start",
                "-h",
                settings.grpc_host,
                "-p",
                str(settings.grpc_port),
                "-m",
                DEFINITIONS_MODULE,
                "--location-name",
                CODE_LOCATION,
            ],
        ),
        Process(
            "webserver",
            [bin_path("dagster-webserver"), "-h", settings.ui_host, "-p", str(settings.ui_port), "-w", str(workspace)],
        ),
        Process("daemon", [bin_path("dagster-daemon"), "run", "-w", str(workspace)]),
    ]


@dataclass
class Supervisor:
    """Starts processes in their own sessions and stops whole trees: a process group alone misses children
    that start their own session (run workers), so every descendant is collected before signalling."""

    log_dir: Path
    cwd: Path
    children: dict[str, subprocess.Popen] = field(default_factory=dict)
    stop_requested: bool = False

    def start(self, process: Process, env: dict[str, str] | None = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{process.name}.log", "ab", buffering=0)  # noqa: SIM115 - lives with the child
        child = subprocess.Popen(
            process.argv,
            cwd=self.cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.children[process.name] = child
        return child

    def request_stop(self, *_args) -> None:
        self.stop_requested = True

    def wait(self, poll: float = 0.5) -> int:
        """Until a signal, a dead parent (make killed) or a child exiting; then stop the rest."""
        parent = os.getppid()
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_stop)
        status = 0
        while not self.stop_requested:
            exited = {name: c.returncode for name, c in self.children.items() if c.poll() is not None}
            if exited:
                print(f"stopping: {', '.join(f'{n} exited with {rc}' for n, rc in exited.items())}", flush=True)
                status = 1
                break
            if os.getppid() != parent:
                break
            time.sleep(poll)
        self.stop()
        return status

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM to every process of every tree, SIGKILL to what is left after the grace period."""
        tree = self.tree()
        for child in self.children.values():
            _signal_group(child.pid, signal.SIGTERM)
        for proc in tree:
            _signal(proc, signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=grace)
        for child in self.children.values():
            _signal_group(child.pid, signal.SIGKILL)
        for proc in alive + [p for p in self.tree() if p not in tree]:
            _signal(proc, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=3)
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)  # reaped: SIGKILLed processes are gone, only the exit status is collected

    def tree(self) -> list[psutil.Process]:
        procs = []
        for child in self.children.values():
            try:
                root = psutil.Process(child.pid)
                procs += [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return procs


def _signal(proc: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.send_signal(sig)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def run_dir() -> Path:
    """Dagster's tools run from .glame/ because they load a `.env` of their working directory over the
    exported variables (see PITFALLS)."""
    EMBEDDED_DIR.mkdir(parents=True, exist_ok=True)
    return EMBEDDED_DIR


def serve(settings: ServeSettings, wait_for_grpc: float = 120.0) -> int:
    """Start the topology and supervise it until stopped; the return value is the exit status."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    workspace = settings.log_dir / "workspace.yaml"
    workspace.write_text(workspace_yaml(settings), encoding="utf-8")
    supervisor = Supervisor(settings.log_dir, run_dir())
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    processes = topology(settings, workspace)
    supervisor.start(processes[0])
    if not _wait_for_port(settings.grpc_host, settings.grpc_port, wait_for_grpc, supervisor):
        supervisor.stop()
        if supervisor.stop_requested:
            return 0
        print(
            f"the code server did not answer on {settings.grpc_host}:{settings.grpc_port}; "
            f"see {settings.log_dir / 'code-server.log'}",
            flush=True,
        )
        return 1
    for process in processes[1:]:
        supervisor.start(process)
    print(
        f"Dagster UI: http://{settings.ui_host}:{settings.ui_port}  code server {settings.grpc_host}:"
        f"{settings.grpc_port}  logs {settings.log_dir}  (SIGTERM or Ctrl-C stops everything)",
        flush=True,
    )
    return supervisor.wait()


def dev(port: int, workspace: Path, log_dir: Path) -> int:
    """`dagster dev` supervised like `serve`, so stopping it leaves no webserver or code server behind."""
    supervisor = Supervisor(log_dir, run_dir())
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    command = [bin_path("dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]
    supervisor.start(Process("dev", command))
    print(f"Dagster UI: http://127.0.0.1:{port}  log {log_dir / 'dev.log'}  (Ctrl-C stops it)", flush=True)
    return supervisor.wait()


def _wait_for_port(host: str, port: int, timeout: float, supervisor: Supervisor) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not supervisor.stop_requested:
        if any(c.poll() is not None for c in supervisor.children.values()):
            return False
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.5)
    return False
