"""`glame serve` for real: the code server, webserver and daemon on a temporary instance in Postgres, the
sandbox FTP, 1C and Telegram. Runs go through the queue, pools keep 1C loads and dbt builds apart, SIGTERM
leaves no process, and a run lost with its machine (SIGKILL of everything) is marked failed by run
monitoring when the topology returns, alerted, retried, and its tables equal a clean load."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import psutil
import psycopg
import pytest
from dagster_graphql import DagsterGraphQLClient

from glame_pipelines.defs.onec.source import pool as onec_pool
from glame_pipelines.sandbox.ftp import FtpSandbox, write_counter_files
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sandbox.server import SandboxServer
from glame_pipelines.sandbox.web import TelegramApi
from glame_pipelines.settings import RANGE_END, RANGE_START
from glame_pipelines.warehouse.connection import dbt_env, sqlalchemy_url, with_database
from glame_pipelines.warehouse.loader import ensure_table
from glame_pipelines.warehouse.tables import all_raw_tables

# Minutes each (the real topology, Celery workers): `make test-production`, run by .ci/run after `make test`.
pytestmark = pytest.mark.production

ROOT = Path(__file__).resolve().parents[1]
ALERT_CHAT = "-1009876543210"  # a chat the sandbox bot may write to
SOURCE_PREFIXES = ("ONEC_", "YANDEX_", "INSTAGRAM_", "VK_", "TELEGRAM_", "FTP_", "GLAME_", "DAGSTER_")
VISITS = (
    "select store_folder, file_path, line_no, visit_date, period_start, period_end, entries, exits "
    "from raw.ftp_counter_visits order by file_path, line_no"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, poll: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Topology:
    """One `glame serve` process and every process it starts, watched so none can hide."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log, self.proc, self.seen = env, log, None, {}

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "glame_pipelines.cli", "serve"],
            env=self.env,
            cwd=self.env["GLAME_HOME"],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        ui = int(self.env["GLAME_UI_PORT"])
        wait_for(lambda: self._answers(ui) or self.proc.poll() is not None, 180, "the webserver")
        assert self.proc.poll() is None, self.log.read_text()[-3000:]

    def _answers(self, port: int) -> bool:
        self.watch()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def watch(self) -> list[psutil.Process]:
        """Remember every descendant ever seen (run workers come and go)."""
        try:
            procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        for p in procs:
            self.seen[(p.pid, p.create_time())] = p
        return procs

    def alive(self) -> list[str]:
        out = []
        for pid, created in self.seen:
            try:
                proc = psutil.Process(pid)  # a fresh look: the pid may belong to another process by now
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"{pid} {' '.join(proc.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                continue
        return out

    def kill_everything(self) -> None:
        for proc in self.watch():
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server_url, world):
    """Databases, sandboxes and the environment a `glame serve` of this module runs with."""
    home = tmp_path_factory.mktemp("serve")
    name = f"glame_test_serve_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(pg_server_url, name)
    build_models(url)
    telegram, onec = TelegramApi(seed=3), OnecApi(world)
    with SandboxServer([telegram, onec]) as web, FtpSandbox(home / "ftp") as ftp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(SOURCE_PREFIXES)}
        env.update(
            {
                "DAGSTER_HOME": str(ROOT),
                "GLAME_HOME": str(home),
                "GLAME_WAREHOUSE_URL": url,
                "GLAME_DAGSTER_PG_URL": sqlalchemy_url(url),
                "GLAME_DAGSTER_ARTIFACTS": str(home / "artifacts"),
                "GLAME_DAGSTER_COMPUTE_LOGS": str(home / "compute_logs"),
                "GLAME_LOG_DIR": str(home / "logs"),
                "GLAME_UI_PORT": str(free_port()),
                "GLAME_GRPC_PORT": str(free_port()),
                "GLAME_FTP_POLL_SECONDS": "5",
                "GLAME_STEP_RETRY_DELAY": "1",
                "FTP_HOST": "127.0.0.1",
                "FTP_PORT": str(ftp.port),
                "FTP_USER": ftp.user,
                "FTP_PASSWORD": ftp.password,
                "ONEC_API_URL": web.url(onec),
                "ONEC_USERNAME": DEFAULT_LOGIN,
                "ONEC_PASSWORD": DEFAULT_PASSWORD,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": web.url(telegram),
                "TELEGRAM_ALERT_CHAT_ID": ALERT_CHAT,
            }
        )
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(
            {
                k: env[k]
                for k in (
                    "DAGSTER_HOME",
                    "GLAME_DAGSTER_PG_URL",
                    "GLAME_DAGSTER_ARTIFACTS",
                    "GLAME_DAGSTER_COMPUTE_LOGS",
                )
            }
        )
        instance = dg.DagsterInstance.get()
        try:
            yield {
                "env": env,
                "url": url,
                "ftp": ftp,
                "telegram": telegram,
                "home": home,
                "instance": instance,
                "world": world,
                "server": pg_server_url,
            }
        finally:
            instance.dispose()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def build_models(url: str) -> None:
    """An installation already running: every raw table and model exists before the topology starts (on an
    empty warehouse the models after a counter load would miss the marts unified_daily joins)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in all_raw_tables():
            ensure_table(conn, table)
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--quiet",
            "--project-dir",
            str(ROOT / "dbt_project"),
            "--profiles-dir",
            str(ROOT / "dbt_project"),
        ],
        env={**os.environ, **dbt_env(url)},
        cwd=ROOT / "dbt_project",
        check=True,
        capture_output=True,
    )


def runs(instance, job: str, statuses=None) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(job_name=job, statuses=statuses)))


def model_runs(instance) -> list[dg.DagsterRun]:
    """The runs that build the models: the automation sensor's, and models_job's (submitted by hand)."""
    automation = instance.get_runs(dg.RunsFilter(tags={"dagster/sensor_name": "models_automation"}))
    return [*automation, *runs(instance, "models_job")]


def step_spans(instance, run_ids, step_filter) -> list[tuple[float, float, str]]:
    """(start, end, run:step) of every step matching the filter, from the instance's event log."""
    spans = []
    for run_id in run_ids:
        starts = {}
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if not event or not record.step_key or not step_filter(record.step_key):
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                starts[record.step_key] = record.timestamp
            elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                spans.append((starts[record.step_key], record.timestamp, f"{run_id[:8]}:{record.step_key}"))
    return sorted(spans)


def assert_no_overlap(spans) -> None:
    for (_, end, name), (start, _, other) in itertools.pairwise(spans):
        assert end <= start, f"{name} ran until {end}, {other} started at {start}"


def stop(topology: Topology) -> float:
    topology.watch()
    started = time.monotonic()
    topology.proc.send_signal(signal.SIGTERM)
    topology.proc.wait(30)
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    assert topology.alive() == []
    return elapsed


def test_serve_sensor_run_models_pools_and_clean_stop(site):
    """A counter file on FTP: the daemon's sensor queues one run, the models' automation follows through the queue;
    two 1C loads and two models builds submitted at once never overlap; SIGTERM ends everything."""
    instance, env = site["instance"], site["env"]
    topology = Topology(env, site["home"] / "serve-1.log")
    topology.start()
    try:
        write_counter_files(site["world"], site["ftp"].root, date(2025, 5, 1), date(2025, 5, 3))  # 2 days x stores
        client = DagsterGraphQLClient("127.0.0.1", port_number=int(env["GLAME_UI_PORT"]))
        onec_runs = [
            client.submit_job_execution("sources_job", asset_selection=[["onec", "stores"], ["onec", "products"]])
            for _ in range(2)
        ]
        loads = wait_for(
            lambda: topology.watch() and runs(instance, "ftp_counter_files_job", [dg.DagsterRunStatus.SUCCESS]),
            600,
            "the counter files' run",
        )
        assert len(loads) == 1 and loads[0].tags.get("glame/files") == str(len(list(site["ftp"].root.rglob("*.txt"))))
        traffic = dg.AssetKey(["marts", "store_traffic_daily"])
        after = wait_for(
            lambda: topology.watch() and [r for r in model_runs(instance) if traffic in (r.asset_selection or ())],
            420,
            "the models run the load requests",
        )[0]
        # a second build of the same models requested while the first is queued or running
        selection = [list(key.path) for key in after.asset_selection]
        days = {k: v for k, v in after.tags.items() if k.startswith("dagster/") and "partition" in k}
        built = [after.run_id, client.submit_job_execution("models_job", asset_selection=selection, tags=days)]
        for run_id in [*onec_runs, *built]:
            wait_for(lambda run_id=run_id: instance.get_run_by_id(run_id).is_finished, 600, f"run {run_id}")
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS, run_id
        for run in [loads[0], after]:  # through the queue, not launched directly
            assert instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED)
        with psycopg.connect(site["url"]) as conn:
            assert conn.execute("select count(distinct file_path) from raw.ftp_counter_visits").fetchone()[0] > 0
            assert conn.execute("select count(*) from marts.store_traffic_daily").fetchone()[0] > 0
        onec_spans = step_spans(instance, onec_runs, lambda key: key.startswith("onec__"))
        assert len(onec_spans) == 4
        assert_no_overlap(onec_spans)
        # the 1C steps' pool is the base's, named from ONEC_API_URL; `glame serve` set its limit by that name
        pools = instance.event_log_storage
        assert pools.get_concurrency_info(onec_pool(env)).slot_count == 1
        assert "onec" not in pools.get_concurrency_keys()
        finished = [r.run_id for r in model_runs(instance) if r.is_finished]  # the 1C loads' ones too
        # The dbt build steps (pool `dbt`); a models run's other steps are the marts' anomaly checks (reads only)
        dbt_spans = step_spans(instance, finished, lambda key: key == "glame_dbt_models")
        assert len(dbt_spans) >= 2
        assert_no_overlap(dbt_spans)
    finally:
        elapsed = stop(topology) if topology.proc.poll() is None else 0
    assert elapsed < 15, f"stopping took {elapsed:.1f} s"


def clean_visits(site, paths: list[str]) -> list[tuple]:
    """The same files loaded once, undisturbed, into a database of their own."""
    from conftest import ftp_resource

    from glame_pipelines.defs.ftp_counters.assets import counter_files, visits
    from glame_pipelines.defs.warehouse import WarehouseResource

    name = f"glame_test_clean_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(site["server"], autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(site["server"], name)
    try:
        instance = dg.DagsterInstance.ephemeral()
        instance.add_dynamic_partitions(counter_files.name, paths)
        result = dg.materialize(
            [visits],
            instance=instance,
            tags={RANGE_START: paths[0], RANGE_END: paths[-1]},
            resources={"ftp_counters": ftp_resource(site["ftp"]), "warehouse": WarehouseResource(url=url)},
        )
        assert result.success
        with psycopg.connect(url) as conn:
            return conn.execute(VISITS).fetchall()
    finally:
        with psycopg.connect(site["server"], autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def test_a_run_lost_with_its_machine_is_failed_alerted_and_redone(site):
    """Power loss mid-load: every process SIGKILLed. The restarted daemon's run monitoring marks the run
    failed, the alert reaches the Telegram chat naming it, the automatic retry reloads its files and the
    table equals a clean load: nothing lost, nothing doubled."""
    instance, env = site["instance"], site["env"]
    topology = Topology(env, site["home"] / "serve-2.log")
    topology.start()
    try:
        before = {r.run_id for r in runs(instance, "ftp_counter_files_job")}
        # Each file is sent 0.2 s late: the batched load of 180 files lasts about 40 s, long enough to lose the
        # machine mid-way (at full speed it would be over in a second).
        site["ftp"].throttle(0.2)
        write_counter_files(site["world"], site["ftp"].root, date(2025, 3, 1), date(2025, 4, 30))
        run = wait_for(
            lambda: (
                topology.watch()
                and [
                    r
                    for r in runs(instance, "ftp_counter_files_job", [dg.DagsterRunStatus.STARTED])
                    if r.run_id not in before
                ]
            ),
            600,
            "the backlog's run",
        )[0]

        def loading() -> bool:
            topology.watch()
            with psycopg.connect(site["url"]) as conn:
                if not conn.execute("select to_regclass('raw.ftp_counter_files')").fetchone()[0]:
                    return False
                return (
                    conn.execute(
                        "select count(*) from raw.ftp_counter_files where _run_id = %s", (run.run_id,)
                    ).fetchone()[0]
                    >= 3
                )

        wait_for(loading, 120, "the run to be mid-load", poll=0.2)
        topology.kill_everything()
    except BaseException:
        stop(topology)
        raise
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # what a lost machine leaves
    topology.start()
    try:
        failed = wait_for(
            lambda: topology.watch() and instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE,
            300,
            "run monitoring to mark the lost run failed",
        )
        assert failed
        messages = wait_for(lambda: [m for m in site["telegram"].sent if run.run_id[:8] in m["text"]], 180, "the alert")
        assert messages[0]["chat_id"] == ALERT_CHAT and "ftp_counter_files_job" in messages[0]["text"]
        retry = wait_for(
            lambda: [
                r
                for r in instance.get_run_group(run.run_id)[1]
                if r.run_id != run.run_id and r.status == dg.DagsterRunStatus.SUCCESS
            ],
            600,
            "the retry",
        )
        assert retry[0].tags[RANGE_START] == run.tags[RANGE_START] and retry[0].tags[RANGE_END] == run.tags[RANGE_END]
    finally:
        stop(topology)
        site["ftp"].throttle(0)
    known = instance.get_dynamic_partitions("ftp_counter_files")
    paths = known[known.index(run.tags[RANGE_START]) : known.index(run.tags[RANGE_END]) + 1]
    with psycopg.connect(site["url"]) as conn:
        loaded = [row for row in conn.execute(VISITS).fetchall() if row[1] in set(paths)]
    assert loaded == clean_visits(site, paths)


def test_a_failed_load_of_the_daily_run_is_followed_by_the_models_it_did_not_feed(site):
    """The daily run through the daemon with one 1C register unpublished (HTTP 404, not retried): the run fails,
    its models' step is skipped, and `models_after_failed_loads` queues one models run over the daily run's days
    with the models downstream of the loads that succeeded and of no failed one; it succeeds and the sales marts
    hold the window's days. Nothing else builds them again (one build per day)."""
    from glame_pipelines.definitions import defs
    from glame_pipelines.defs.schedules import daily_run_request

    instance = site["instance"]
    env = {**site["env"], "ONEC_BONUS_POINTS_ENDPOINT": "AccumulationRegister_БонусныеБаллыНетТакого_RecordType"}
    graph = defs.resolve_asset_graph()
    request = daily_run_request(date(2025, 5, 10), graph, env)
    failing = dg.AssetKey(["onec", "bonus_points"])
    assert failing in request.asset_selection
    sales_daily = dg.AssetKey(["marts", "sales_daily"])
    before = {r.run_id for r in model_runs(instance)}
    topology = Topology(env, site["home"] / "serve-3.log")
    topology.start()
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=int(env["GLAME_UI_PORT"]))
        daily_id = client.submit_job_execution(
            "daily_analytics_job",
            asset_selection=[list(key.path) for key in request.asset_selection],
            tags=request.tags,
        )
        daily = wait_for(
            lambda: (
                topology.watch() and instance.get_run_by_id(daily_id).is_finished and instance.get_run_by_id(daily_id)
            ),
            600,
            "the daily run",
        )
        assert daily.status == dg.DagsterRunStatus.FAILURE
        failed_steps = {
            entry.step_key for entry in instance.all_logs(daily_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        }
        assert failed_steps == {"onec__bonus_points"}, failed_steps
        after = wait_for(
            lambda: (
                topology.watch()
                and runs(instance, "models_job")
                and [
                    r
                    for r in runs(instance, "models_job")
                    if r.tags.get("dagster/sensor_name") == "models_after_failed_loads"
                ]
            ),
            300,
            "the models run after the failed load",
        )
        assert len(after) == 1
        models = set(after[0].asset_selection)
        assert (after[0].tags[RANGE_START], after[0].tags[RANGE_END]) == (
            request.tags[RANGE_START],
            request.tags[RANGE_END],
        )
        held = dg.AssetSelection.assets(failing).downstream().resolve(graph)
        assert not models & held
        assert {sales_daily, dg.AssetKey(["staging", "stg_onec__sales"])} <= models
        done = wait_for(
            lambda: (
                topology.watch()
                and instance.get_run_by_id(after[0].run_id).is_finished
                and instance.get_run_by_id(after[0].run_id)
            ),
            600,
            "the models run",
        )
        assert done.status == dg.DagsterRunStatus.SUCCESS
        with psycopg.connect(site["url"]) as conn:
            days = conn.execute(
                "select count(distinct sale_date) from marts.sales_daily where sale_date between %s and %s",
                (request.tags[RANGE_START], request.tags[RANGE_END]),
            ).fetchone()[0]
        assert days == 7
        time.sleep(15)  # a further automation tick: nothing builds the models of those days again
        again = [
            r
            for r in model_runs(instance)
            if r.run_id not in before | {after[0].run_id} and sales_daily in (r.asset_selection or ())
        ]
        assert again == [], [(r.run_id[:8], r.tags) for r in again]
    finally:
        stop(topology)
