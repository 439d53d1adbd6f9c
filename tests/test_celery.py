"""The daily job's steps on two Celery workers (dagster-celery, RabbitMQ at 127.0.0.1:5672), chosen by
GLAME_EXECUTOR alone: the tables equal an in-process run's, and a worker SIGKILLed mid-step hands the
step to the other worker with nothing lost or doubled."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import dagster as dg
import psutil
import psycopg
import pytest

from glame_pipelines.defs.executors import worker_config_yaml
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sandbox.server import SandboxServer
from glame_pipelines.sandbox.web import MetrikaApi
from glame_pipelines.warehouse.connection import sqlalchemy_url, with_database

# Minutes each (the real topology, Celery workers): `make test-production`, run by .ci/run after `make test`.
pytestmark = pytest.mark.production

ROOT = Path(__file__).resolve().parents[1]
FIRST, LAST = "2025-05-18", "2025-05-31"
SOURCE_PREFIXES = ("ONEC_", "YANDEX_", "INSTAGRAM_", "VK_", "TELEGRAM_", "FTP_", "GLAME_", "DAGSTER_")

# The driver: what the daemon's run worker does, in a process whose executor comes from the environment.
DRIVER = textwrap.dedent("""
    import sys
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from glame_pipelines.settings import RANGE_END, RANGE_START

    repository = ReconstructableRepository.for_module("glame_pipelines.definitions", "defs")
    job = repository.get_reconstructable_job("daily_analytics_job")
    keys = [dg.AssetKey(k.split("/")) for k in sys.argv[3].split(",")]
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(job, instance, tags={RANGE_START: sys.argv[1], RANGE_END: sys.argv[2]},
                                asset_selection=keys, raise_on_error=False)
        print("RUN", result.run_id, result.success, flush=True)
""")


def rabbitmq_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


class SlowOnec(OnecApi):
    """The 1C sandbox at a realistic pace (1C Fresh answers a page in tenths of a second), so a step
    lasts long enough to lose its worker in the middle."""

    def handle(self, request):
        time.sleep(0.15)
        return super().handle(request)


@pytest.fixture
def databases(pg_server_url):
    names = [f"glame_test_celery_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'create database "{name}"')
    yield [with_database(pg_server_url, name) for name in names]
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "{name}" with (force)')


def instance_yaml(home: Path, url: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        textwrap.dedent(f"""
        storage:
          postgres:
            postgres_url: "{sqlalchemy_url(url)}"
        local_artifact_storage:
          module: dagster._core.storage.root
          class: LocalArtifactStorage
          config: {{base_dir: "{home / "artifacts"}"}}
        compute_logs:
          module: dagster._core.storage.local_compute_log_manager
          class: LocalComputeLogManager
          config: {{base_dir: "{home / "logs"}"}}
        telemetry: {{enabled: false}}
    """)
    )


def raw_tables(url: str) -> dict[str, list]:
    """Every raw table's business columns (not when or by which run a row was written)."""
    out = {}
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
            )
        ]
        for table in tables:
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s "
                    "and column_name not in ('_loaded_at', '_run_id') order by ordinal_position",
                    (table,),
                )
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            out[table] = conn.execute(f"select {listed} from raw.{table} order by {listed}").fetchall()
    return out


def selection() -> str:
    from glame_pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = dg.AssetSelection.groups("onec", "yandex_metrika").resolve(graph)
    return ",".join(sorted(k.to_user_string() for k in keys))


def start_worker(name: str, env: dict, config: Path, log: Path) -> subprocess.Popen:
    command = [
        os.path.join(os.path.dirname(sys.executable), "dagster-celery"),
        "worker",
        "start",
        "-A",
        "dagster_celery.app",
        "-y",
        str(config),
        "-q",
        env["GLAME_CELERY_QUEUE"],
        "-n",
        name,
        "--",
        "--concurrency=1",
        "--without-mingle",
        "--without-gossip",
    ]
    env = {**env, "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")}  # it runs `celery`
    return subprocess.Popen(
        command, env=env, cwd=log.parent, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def kill_tree(pid: int) -> None:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(procs, timeout=10)


@pytest.mark.skipif(not rabbitmq_up(), reason="RabbitMQ is not running on 127.0.0.1:5672")
def test_daily_job_on_two_celery_workers_equals_in_process_and_survives_a_killed_worker(databases, world, tmp_path):
    in_process_url, celery_url = databases
    onec, metrika = SlowOnec(world), MetrikaApi(seed=3)
    with SandboxServer([onec, metrika]) as server:
        base = {k: v for k, v in os.environ.items() if not k.startswith(SOURCE_PREFIXES)}
        base.update(
            {
                "ONEC_API_URL": server.url(onec),
                "ONEC_USERNAME": DEFAULT_LOGIN,
                "ONEC_PASSWORD": DEFAULT_PASSWORD,
                "ONEC_PAGE_SIZE": "100",
                "YANDEX_METRIKA_COUNTER_ID": metrika.counter_id,
                "YANDEX_METRIKA_OAUTH_TOKEN": metrika.token,
                "YANDEX_METRIKA_API_URL": server.url(metrika),
                "GLAME_STEP_RETRIES": "0",
            }
        )
        assets = selection()

        def drive(url: str, home: Path, executor: str, extra=None) -> subprocess.Popen:
            instance_yaml(home, url)
            env = {
                **base,
                **(extra or {}),
                "GLAME_WAREHOUSE_URL": url,
                "DAGSTER_HOME": str(home),
                "GLAME_EXECUTOR": executor,
            }
            return subprocess.Popen(
                [sys.executable, "-c", DRIVER, FIRST, LAST, assets],
                env=env,
                cwd=home,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

        reference = drive(in_process_url, tmp_path / "in_process", "in_process")
        output = reference.communicate(timeout=600)[0]
        assert reference.returncode == 0 and " True" in output, output[-3000:]

        queue = f"glame-test-{uuid.uuid4().hex[:8]}"
        home = tmp_path / "celery"
        instance_yaml(home, celery_url)  # the workers' instance: the run's own
        celery_env = {
            **base,
            "GLAME_WAREHOUSE_URL": celery_url,
            "GLAME_EXECUTOR": "celery",
            "GLAME_CELERY_QUEUE": queue,
            "DAGSTER_HOME": str(home),
        }
        config = tmp_path / "celery.yaml"
        config.write_text(worker_config_yaml(celery_env))
        workers = [
            start_worker(f"glame-{n}-{queue}@%h", celery_env, config, tmp_path / f"worker-{n}.log") for n in (1, 2)
        ]
        try:
            driver = drive(celery_url, home, "celery", {"GLAME_CELERY_QUEUE": queue})
            instance = dg.DagsterInstance.from_config(str(home))
            killed = wait_for_step_in_a_worker(instance, workers, timeout=300)
            kill_tree(killed.pid)
            output = driver.communicate(timeout=600)[0]
            assert driver.returncode == 0 and " True" in output, output[-3000:]
            run_id = output.split("RUN ", 1)[1].split()[0]
            starts = list(instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START))
            by_step: dict[str, list[int]] = {}
            for record in starts:
                by_step.setdefault(record.step_key, []).append(record.dagster_event.pid)
            repeated = {step: pids for step, pids in by_step.items() if len(pids) > 1}
            assert len(repeated) == 1, by_step  # the killed worker's step, and only it, started twice
            (pids,) = repeated.values()
            assert pids[0] != pids[1]
            survivor = next(w for w in workers if w is not killed)
            assert pids[1] in {p.pid for p in psutil.Process(survivor.pid).children(recursive=True)}
        finally:
            for worker in workers:
                kill_tree(worker.pid)
    assert raw_tables(celery_url) == raw_tables(in_process_url)


def wait_for_step_in_a_worker(instance, workers, timeout: float) -> subprocess.Popen:
    """The worker executing a 1C step that has run for half a second and has not ended (mid-load): a step
    that already ended would leave nothing for the other worker to redo."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(limit=1)
        if runs:
            ended = {
                record.step_key
                for kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)
                for record in instance.all_logs(runs[0].run_id, of_type=kind)
            }
            for record in instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_START):
                running = record.step_key not in ended
                if running and record.step_key.startswith("onec__") and time.time() - record.timestamp > 0.5:
                    pid = record.dagster_event.pid
                    for worker in workers:
                        if pid in {p.pid for p in psutil.Process(worker.pid).children(recursive=True)}:
                            return worker
        time.sleep(0.3)
    raise AssertionError("no 1C step started on a worker")
