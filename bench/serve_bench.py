"""`make bench`, production part: what goes through `glame serve`'s daemon.

- backlog: a year of counter files of 3 stores (1,095) dropped on the sandbox FTP while `glame serve`
  runs; wall time until the store-traffic marts are built (one load run, one models run);
- daily: the daily schedule's run request (yesterday plus the trailing week, every source) submitted
  through the queue over a year of 1C history in the warehouse; wall time from the tick to the last
  mart built after it (the marts' materialisations, whatever runs the models: sensor or automation);
- memory: RSS of each long-running process (code server, webserver, daemon) sampled while the sensors
  tick (the FTP sensor every 30 s, the others every minute).

Run alone: `.venv/bin/python bench/serve_bench.py [backlog|daily|memory ...] [--memory-minutes 60]`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psutil
import psycopg
from dagster_graphql import DagsterGraphQLClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sales_history import add_catalogs, add_sales  # noqa: E402

from glame_pipelines.defs.ftp_counters.sensors import POLL_SECONDS  # noqa: E402
from glame_pipelines.defs.schedules import daily_run_request  # noqa: E402
from glame_pipelines.orchestration import MODEL_GROUPS  # noqa: E402
from glame_pipelines.sandbox.build import build_sandbox  # noqa: E402
from glame_pipelines.sandbox.ftp import FtpSandbox, write_counter_files  # noqa: E402
from glame_pipelines.sandbox.retail import RetailWorld  # noqa: E402
from glame_pipelines.warehouse.connection import dbt_env, ensure_database, sqlalchemy_url, with_database  # noqa: E402
from glame_pipelines.warehouse.loader import ensure_table  # noqa: E402
from glame_pipelines.warehouse.tables import all_raw_tables  # noqa: E402

PY = sys.executable


def daily_asset_graph():
    """The code location's asset graph, loaded once the bench's environment is set."""
    from glame_pipelines.definitions import defs

    return defs.resolve_asset_graph()


SOURCE_PREFIXES = ("ONEC_", "YANDEX_", "INSTAGRAM_", "VK_", "TELEGRAM_", "FTP_", "GLAME_", "DAGSTER_")
MEMORY_MINUTES = float(os.environ.get("BENCH_MEMORY_MINUTES", "60"))
HISTORY_LINES = int(os.environ.get("BENCH_HISTORY_LINES", "1000000"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_db(base: str, prefix: str) -> str:
    import uuid

    return ensure_database(with_database(base, "postgres"), f"glame_bench_{prefix}_{uuid.uuid4().hex[:8]}")


def drop_db(base: str, url: str) -> None:
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{url.rsplit("/", 1)[1].split("?")[0]}" with (force)')


IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
TRAFFIC_MARTS = {dg.AssetKey(["marts", "store_traffic_daily"]), dg.AssetKey(["marts", "unified_daily"])}


@dataclass(frozen=True)
class MartsBuilt:
    at: float  # the last mart's materialisation
    runs: set[str]  # the runs whose materialisations those were


def marts_downstream(graph, keys) -> set[dg.AssetKey]:
    """The marts a load of `keys` feeds: what the dashboards wait for after it."""
    return {k for k in dg.AssetSelection.assets(*keys).downstream().resolve(graph) if k.path[0] == "marts"}


class Serve:
    """`glame serve` in a temporary home, with its instance in the bench's warehouse database."""

    def __init__(self, warehouse: str, sources: dict[str, str]):
        self.home = Path(tempfile.mkdtemp(prefix="glame-serve-bench-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(SOURCE_PREFIXES)}
        env.update(
            {
                "DAGSTER_HOME": str(ROOT),
                "GLAME_HOME": str(self.home),
                "GLAME_WAREHOUSE_URL": warehouse,
                "GLAME_DAGSTER_PG_URL": sqlalchemy_url(warehouse),
                "GLAME_DAGSTER_ARTIFACTS": str(self.home / "artifacts"),
                "GLAME_DAGSTER_COMPUTE_LOGS": str(self.home / "compute_logs"),
                "GLAME_LOG_DIR": str(self.home / "logs"),
                "GLAME_UI_PORT": str(free_port()),
                "GLAME_GRPC_PORT": str(free_port()),
                **sources,
            }
        )
        self.env = env
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Serve:
        self.proc = subprocess.Popen(
            [PY, "-m", "glame_pipelines.cli", "serve"],
            env=self.env,
            cwd=self.home,
            stdout=(self.home / "serve.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", int(self.env["GLAME_UI_PORT"])), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.home / "serve.log").read_text()[-2000:]) from None
                time.sleep(1)
        saved = {
            k: os.environ.get(k)
            for k in ("DAGSTER_HOME", "GLAME_DAGSTER_PG_URL", "GLAME_DAGSTER_ARTIFACTS", "GLAME_DAGSTER_COMPUTE_LOGS")
        }
        os.environ.update({k: self.env[k] for k in saved})
        self.instance = dg.DagsterInstance.get()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return self

    def __exit__(self, *exc) -> None:
        self.instance.dispose()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)

    def client(self) -> DagsterGraphQLClient:
        return DagsterGraphQLClient("127.0.0.1", port_number=int(self.env["GLAME_UI_PORT"]))

    def long_running(self) -> dict[str, psutil.Process]:
        """The three supervised processes (the code server with its gRPC child) by name."""
        found = {}
        for child in psutil.Process(self.proc.pid).children():
            line = " ".join(child.cmdline())
            name = "code server" if "code-server" in line else "webserver" if "dagster-webserver" in line else "daemon"
            found[name] = child
        return found

    def wait_runs(self, job: str, count: int, since: float, timeout: float = 900) -> list[dg.DagsterRun]:
        """Runs of `job` created since `since`; for "models_job", the models automation's runs (the models
        are built by the `models_automation` sensor, whose runs carry its name)."""
        deadline = time.monotonic() + timeout
        filters = (
            dg.RunsFilter(tags={"dagster/sensor_name": "models_automation"})
            if job == "models_job"
            else dg.RunsFilter(job_name=job)
        )
        while time.monotonic() < deadline:
            runs = [
                r
                for r in self.instance.get_runs(filters)
                if self.instance.get_run_record_by_id(r.run_id).create_timestamp.timestamp() >= since
            ]
            done = [r for r in runs if r.is_finished]
            if len(done) >= count and all(r.is_finished for r in runs):
                return done
            time.sleep(1)
        raise TimeoutError(f"{job}: {count} runs not finished in {timeout} s")

    def wait_marts(self, marts: set[dg.AssetKey], since: float, timeout: float = 900) -> MartsBuilt:
        """Until every mart has been materialised after `since` and no run still in progress builds any of
        them; whichever way the models are triggered (a run-status sensor's models_job, or declarative
        automation), this is when the dashboards have the new data."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            latest = {key: self.instance.get_latest_materialization_event(key) for key in marts}
            fresh = {key: e for key, e in latest.items() if e is not None and e.timestamp >= since}
            if len(fresh) == len(marts) and not self.building(marts):
                return MartsBuilt(max(e.timestamp for e in fresh.values()), {e.run_id for e in fresh.values()})
            time.sleep(1)
        missing = sorted(k.to_user_string() for k, e in latest.items() if e is None or e.timestamp < since)
        raise TimeoutError(f"marts not built in {timeout} s: {', '.join(missing) or 'a build still running'}")

    def building(self, marts: set[dg.AssetKey]) -> bool:
        """A run queued or in progress that selects any of the marts."""
        waiting = self.instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS))
        return any(marts & set(run.asset_selection or ()) for run in waiting)


RUN_WORKER_WORDS = ("multiprocessing", "dbt", "execute_run", "execute_step")  # a run's processes, not a server's


def tree_rss(proc: psutil.Process, exclude_runs: bool = True) -> int:
    """RSS of a process and its persistent children (run workers and dbt are not the server's memory)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            line = " ".join(p.cmdline())
            if exclude_runs and p is not proc and any(word in line for word in RUN_WORKER_WORDS):
                continue
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def finished_at(instance: dg.DagsterInstance, run: dg.DagsterRun) -> float:
    return instance.get_run_record_by_id(run.run_id).end_time


def build_models(warehouse: str) -> None:
    """Every raw table and every model built once, as on an installation already running (untimed)."""
    with psycopg.connect(warehouse, autocommit=True) as conn:
        for table in all_raw_tables():
            ensure_table(conn, table)
    subprocess.run(
        [
            str(Path(PY).with_name("dbt")),
            "build",
            "--full-refresh",
            "--quiet",
            "--project-dir",
            str(ROOT / "dbt_project"),
            "--profiles-dir",
            str(ROOT / "dbt_project"),
        ],
        env={**os.environ, **dbt_env(warehouse)},
        cwd=ROOT / "dbt_project",
        check=True,
        capture_output=True,
    )


def run_timeline(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dict[str, float]:
    """When each part of a load run happened, from its event log: the planned events the daemon writes
    when it creates the run, the run process starting, the files loaded, the materialisations, the check."""
    stamps: dict[str, list[float]] = {}
    for entry in instance.all_logs(run.run_id):
        if entry.dagster_event:
            stamps.setdefault(entry.dagster_event.event_type_value, []).append(entry.timestamp)
    record = instance.get_run_record_by_id(run.run_id)
    return {
        "created": record.create_timestamp.timestamp(),
        "planned_first": min(stamps.get("ASSET_MATERIALIZATION_PLANNED", [0])),
        "planned_last": max(stamps.get("ASSET_MATERIALIZATION_PLANNED", [0])),
        "enqueued": min(stamps.get("PIPELINE_ENQUEUED", [0])),
        "started": record.start_time,
        "step_started": min(stamps.get("STEP_START", [0])),
        "first_materialised": min(stamps.get("ASSET_MATERIALIZATION", [0])),
        "last_materialised": max(stamps.get("ASSET_MATERIALIZATION", [0])),
        "finished": record.end_time,
    }


RUN_PARTS = [
    ("planned events written by the daemon when it created the run", "planned_first", "planned_last"),
    ("created -> run process started (queue, definitions load)", "created", "started"),
    ("run process started -> the step started", "started", "step_started"),
    ("the files read and loaded (step start -> first materialisation)", "step_started", "first_materialised"),
    ("the materialisation events, one per partition", "first_materialised", "last_materialised"),
    ("the coverage check and the run's end", "last_materialised", "finished"),
]


def bench_backlog(base: str) -> list[str]:
    warehouse = fresh_db(base, "backlog")
    world = RetailWorld()
    root = Path(tempfile.mkdtemp(prefix="glame-ftp-bench-"))
    load_before = os.getloadavg()
    try:
        build_models(warehouse)
        with FtpSandbox(root) as ftp, Serve(warehouse, ftp.env()) as serve:
            started = time.time()
            files = write_counter_files(world, root, world.today - timedelta(365), world.today)
            loads = serve.wait_runs("ftp_counter_files_job", 1, started)
            built = serve.wait_marts(TRAFFIC_MARTS, max(finished_at(serve.instance, r) for r in loads))
            models = [serve.instance.get_run_by_id(run_id) for run_id in built.runs if run_id != loads[0].run_id]
            loaded_at = max(finished_at(serve.instance, r) for r in loads)
            built_at = built.at
            largest = max(loads, key=lambda r: int(r.tags.get("glame/files", "1")))
            parts = run_timeline(serve.instance, largest)
            created_at = created_at_of(serve, loads)
            load_after = os.getloadavg()
            single_started = time.time()  # one more day's file arrives on an installation already loaded
            write_counter_files(world, root, world.today, world.today + timedelta(1))
            single = serve.wait_runs("ftp_counter_files_job", 1, single_started)
            single_at = max(finished_at(serve.instance, r) for r in single)
            ok = all(r.status == dg.DagsterRunStatus.SUCCESS for r in [*loads, *models, *single])
            with psycopg.connect(warehouse) as conn:
                loaded = conn.execute("select count(*) from raw.ftp_counter_files where status = 'loaded'").fetchone()[
                    0
                ]
                days = conn.execute("select count(*) from marts.store_traffic_daily").fetchone()[0]
    finally:
        drop_db(base, warehouse)
    return [
        "## Counter-file backlog through `glame serve`",
        "",
        f"{len(files):,} files (3 stores x 365 days) dropped on the sandbox FTP while `glame serve` runs "
        f"(sensor every {POLL_SECONDS} s, a file ready at its second sight): {len(loads)} load run(s) and "
        f"{len(models)} run(s) building the marts after it, {'all succeeded' if ok else 'NOT ALL SUCCEEDED'}; "
        f"{loaded:,} files loaded, "
        f"{days:,} store-days in marts.store_traffic_daily. Load average (1 / 5 min) before: "
        f"{load_before[0]:.1f} / {load_before[1]:.1f}, after the backlog: {load_after[0]:.1f} / {load_after[1]:.1f}.",
        "",
        "| from the files' arrival to | wall, s |",
        "| --- | ---: |",
        "| the load run created (two looks, then the daemon checks each of the 1,095 partitions and adds them) "
        f"| {created_at - started:.0f} |",
        f"| the load run started (queue, run process) | {parts['started'] - started:.0f} |",
        f"| the last file loaded (run finished) | {loaded_at - started:.0f} |",
        f"| the store-traffic marts built (their last materialisation) | {built_at - started:.0f} |",
        "",
        f"The largest load run ({largest.tags.get('glame/files', '1')} files), part by part:",
        "",
        "| part | s |",
        "| --- | ---: |",
        *(f"| {label} | {parts[last] - parts[first]:.1f} |" for label, first, last in RUN_PARTS),
        "",
        f"One more day's files (3) dropped afterwards, on the loaded installation: their load run finished "
        f"{single_at - single_started:.0f} s after they arrived (target: within a minute).",
        "",
    ]


def created_at_of(serve: Serve, runs: list[dg.DagsterRun]) -> float:
    return min(serve.instance.get_run_record_by_id(r.run_id).create_timestamp.timestamp() for r in runs)


def bench_daily(base: str) -> list[str]:
    warehouse = fresh_db(base, "daily")
    world = RetailWorld()
    first_day = world.today - timedelta(365 + 30)
    load_before = os.getloadavg()
    try:
        with psycopg.connect(warehouse, autocommit=True) as conn:
            for table in all_raw_tables():
                ensure_table(conn, table)
            add_catalogs(conn, customers=HISTORY_LINES // 40)
            add_sales(conn, HISTORY_LINES, first_day, 365, customers=HISTORY_LINES // 40)
            conn.execute("analyze")
        build_models(warehouse)
        sandbox, env = build_sandbox(world=world, counter_days=0)
        env.pop("FTP_HOST", None)  # the counter files are the backlog bench's; here the daily sources
        with sandbox, Serve(warehouse, env) as serve:
            graph = daily_asset_graph()
            request = daily_run_request(world.today, graph, env)
            marts = marts_downstream(graph, request.asset_selection)
            tick = time.time()
            serve.client().submit_job_execution(
                "daily_analytics_job",
                tags=dict(request.tags),
                asset_selection=[list(k.path) for k in request.asset_selection],
            )
            loads = serve.wait_runs("daily_analytics_job", 1, tick)
            loaded_at = finished_at(serve.instance, loads[0])
            built = serve.wait_marts(marts, tick)  # in the daily run itself, or after it when a load failed
            models = [serve.instance.get_run_by_id(run_id) for run_id in built.runs if run_id != loads[0].run_id]
            ok = all(r.status == dg.DagsterRunStatus.SUCCESS for r in [*loads, *models])
            timelines = [run_timeline(serve.instance, r) for r in [loads[0], *models]]
            steps = step_durations(serve.instance, [loads[0], *models])
            built_by_run = [materialized_keys(serve.instance, r) & set(graph.get_all_asset_keys()) for r in models]
            in_run = {k for k in materialized_keys(serve.instance, loads[0]) if graph.get(k).group_name in MODEL_GROUPS}
            handoff = automation_handoff(serve.instance, loaded_at)
            built_at = built.at
            load_after = os.getloadavg()
    finally:
        drop_db(base, warehouse)
    return [
        "## The daily schedule's run through the daemon, over a year of history",
        "",
        f"{HISTORY_LINES:,} 1C sales lines of a year already in the warehouse and built into the marts; the "
        f"schedule's run request for {world.today} (yesterday and the trailing week, every source of the sandbox "
        "but the FTP counters) submitted through the run queue at the tick; then the marts downstream of what it "
        f"loaded ({len(marts)}) built: {len(in_run)} models in the daily run itself, "
        f"{len(models)} later run(s) building {' + '.join(str(len(keys)) for keys in built_by_run) or 'none'}; "
        f"{built_more_than_once([in_run, *built_by_run])}). "
        f"{'All succeeded' if ok else 'NOT ALL SUCCEEDED'}. Load average (1 / 5 min) before: {load_before[0]:.1f} / "
        f"{load_before[1]:.1f}, at the end: {load_after[0]:.1f} / {load_after[1]:.1f}.",
        "",
        "| from the tick to | wall, s |",
        "| --- | ---: |",
        f"| the daily run finished (its loads, then its models) | {loaded_at - tick:.0f} |",
        f"| the last mart built | {built_at - tick:.0f} |",
        "",
        "Each run, from the tick (s):",
        "",
        "| run | created | queued | started (run process) | first step started | finished |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {run.job_name} {run.run_id[:8]} | {t['created'] - tick:.1f} | {t['enqueued'] - tick:.1f} "
            f"| {t['started'] - tick:.1f} "
            f"| {t['step_started'] - tick:.1f} | {t['finished'] - tick:.1f} |"
            for run, t in zip([loads[0], *models], timelines, strict=True)
        ),
        "",
        "From the load run's end to the models run: the `models_automation` sensor's ticks and any backfill they "
        "requested (assets asking for different days; one range for all is one run), s from the tick:",
        "",
        "| event | at | until | requested |",
        "| --- | ---: | ---: | --- |",
        *(f"| {what} | {at - tick:.1f} | {until} | {detail} |" for what, at, until, detail in handoff(tick)),
        "",
        "Each step (s from the tick; steps of one run may overlap, one pool each):",
        "",
        "| run | step | start | end | duration |",
        "| --- | --- | ---: | ---: | ---: |",
        *(
            f"| {job} | {step} | {start - tick:.1f} | {end - tick:.1f} | {end - start:.1f} |"
            for job, step, start, end in steps
        ),
        "",
    ]


def automation_handoff(instance: dg.DagsterInstance, since: float):
    """The automation sensor's ticks and the backfills created after `since`, as table rows (relative to a
    time given later): where the wait between a load and its models run goes."""
    rows = []
    for state in instance.all_instigator_state():
        if state.name != "models_automation":
            continue
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id, after=since - 60):
            data = tick.tick_data
            requested = len(data.run_requests or ())
            rows.append(
                ("automation tick", data.timestamp, data.end_timestamp, f"{requested} request(s), {data.status.value}")
            )
    for backfill in instance.get_backfills():
        if backfill.backfill_timestamp >= since - 60:
            rows.append(("backfill created", backfill.backfill_timestamp, None, backfill.backfill_id))
    rows.sort(key=lambda row: row[1])

    def relative(tick: float) -> list[tuple[str, float, str, str]]:
        return [(what, at, "" if until is None else f"{until - tick:.1f}", detail) for what, at, until, detail in rows]

    return relative


def materialized_keys(instance: dg.DagsterInstance, run: dg.DagsterRun) -> set[dg.AssetKey]:
    return {
        entry.dagster_event.asset_key
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    }


def built_more_than_once(built_by_run: list[set[dg.AssetKey]]) -> str:
    """Whether a model was built by two of the runs that followed one daily load (the automation's promise)."""
    seen: set[dg.AssetKey] = set()
    twice = set()
    for keys in built_by_run:
        twice |= seen & keys
        seen |= keys
    return (
        "each built once"
        if not twice
        else f"{len(twice)} built more than once: " + ", ".join(sorted(k.to_user_string() for k in twice))
    )


def step_durations(instance: dg.DagsterInstance, runs: list[dg.DagsterRun]) -> list[tuple[str, str, float, float]]:
    """(job, step, start, end) of every step of the runs, from their event logs, in start order: where a
    run's time goes (a source, dbt, an asset check)."""
    out = []
    for run in runs:
        starts: dict[str, float] = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if not event or not entry.step_key:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                starts[entry.step_key] = entry.timestamp
            elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                out.append((run.job_name, entry.step_key, starts.get(entry.step_key, entry.timestamp), entry.timestamp))
    return sorted(out, key=lambda row: row[2])


MEMORY_SAMPLE_SECONDS = 30
MEMORY_WARMUP_SECONDS = 120


def bench_memory(base: str, minutes: float | None = None) -> list[str]:
    """RSS of each long-running process over `minutes` (default BENCH_MEMORY_MINUTES, an hour) of sensor
    ticks. Each sample is printed as it is taken, so a run cut short still leaves its figures in the log."""
    minutes = MEMORY_MINUTES if minutes is None else minutes
    warehouse = fresh_db(base, "memory")
    world = RetailWorld()
    root = Path(tempfile.mkdtemp(prefix="glame-ftp-bench-"))
    write_counter_files(world, root, world.today - timedelta(3), world.today)
    samples: dict[str, list[tuple[float, int]]] = {}
    load_before = os.getloadavg()
    try:
        with FtpSandbox(root) as ftp, Serve(warehouse, ftp.env()) as serve:
            time.sleep(MEMORY_WARMUP_SECONDS)  # the first load and models run pass: steady state is measured
            started = time.time()
            while True:
                elapsed = time.time() - started
                for name, proc in sorted(serve.long_running().items()):
                    rss = tree_rss(proc)
                    samples.setdefault(name, []).append((elapsed, rss))
                    print(f"memory-sample\t{elapsed:.0f}\t{name}\t{rss}", flush=True)
                if elapsed >= minutes * 60:
                    break
                time.sleep(min(MEMORY_SAMPLE_SECONDS, max(minutes * 60 - elapsed, 1)))
            ticks = sensor_tick_count(serve.instance, started)
    finally:
        drop_db(base, warehouse)
    return memory_report(samples, minutes, ticks, load_before, os.getloadavg())


def sensor_tick_count(instance: dg.DagsterInstance, since: float) -> dict[str, int]:
    """How many ticks each sensor made during the measured span: the memory figures are per this much work."""
    counts = {}
    for state in instance.all_instigator_state():
        if state.instigator_type.value != "SENSOR":
            continue
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=since, limit=100_000)
        counts[state.instigator_name] = len(ticks)
    return counts


def rss_at(points: list[tuple[float, int]], seconds: float) -> float:
    """The sample nearest to `seconds` into the span, in MB."""
    return min(points, key=lambda p: abs(p[0] - seconds))[1] / 2**20


def slope_mb_per_hour(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time: one number for 'growing or flat' that a single sample's
    noise (a run's import, a garbage collection) does not swing."""
    if len(points) < 2:
        return 0.0
    xs = [p[0] / 3600 for p in points]
    ys = [p[1] / 2**20 for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def memory_report(
    samples: dict[str, list[tuple[float, int]]],
    minutes: float,
    ticks: dict[str, int],
    load_before: tuple[float, ...],
    load_after: tuple[float, ...],
) -> list[str]:
    """The memory section: RSS at each quarter of the span, the whole-span slope and the second half's
    slope (a warm-up shows in the first, a leak in both)."""
    marks = [minutes * 60 * q / 4 for q in range(5)]
    header = " | ".join(f"{m / 60:g} min, MB" for m in marks)
    lines = [
        "## Memory of the long-running processes while the sensors tick",
        "",
        f"RSS (each process with its persistent children; run workers and dbt excluded) sampled every "
        f"{MEMORY_SAMPLE_SECONDS} s for {minutes:g} minutes after a {MEMORY_WARMUP_SECONDS // 60}-minute warm-up "
        f"under `glame serve` (sensor ticks in the span: "
        f"{', '.join(f'{name} {count}' for name, count in sorted(ticks.items())) or 'none recorded'}). "
        f"Load average (1 / 5 min) before: {load_before[0]:.1f} / {load_before[1]:.1f}, at the end: "
        f"{load_after[0]:.1f} / {load_after[1]:.1f}.",
        "",
        f"| process | {header} | max, MB | slope, MB/h | slope of the second half, MB/h |",
        "| --- |" + " ---: |" * (len(marks) + 3),
    ]
    for name, points in sorted(samples.items()):
        half = [p for p in points if p[0] >= minutes * 30]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{rss_at(points, m):.0f}" for m in marks)
            + f" | {max(p[1] for p in points) / 2**20:.0f} | {slope_mb_per_hour(points):+.1f}"
            f" | {slope_mb_per_hour(half):+.1f} |"
        )
    return [*lines, ""]


STEPS = {"backlog": bench_backlog, "daily": bench_daily, "memory": bench_memory}


def parse_args(argv: list[str]):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steps", nargs="*", help=f"steps to run among {', '.join(STEPS)} (default: all)")
    parser.add_argument(
        "--memory-minutes", type=float, default=MEMORY_MINUTES, help="span of the memory step (default 60)"
    )
    args = parser.parse_args(argv)
    unknown = [step for step in args.steps if step not in STEPS]
    if unknown:
        parser.error(f"unknown step(s): {', '.join(unknown)}")
    return args


if __name__ == "__main__":
    from run import configured_server

    args = parse_args(sys.argv[1:])
    base_url = configured_server()
    if not base_url:
        sys.exit("serve_bench.py alone needs GLAME_WAREHOUSE_URL or GLAME_TEST_DATABASE_URL (a Postgres server)")
    for step in args.steps or list(STEPS):
        section = bench_memory(base_url, args.memory_minutes) if step == "memory" else STEPS[step](base_url)
        print("\n".join(section), flush=True)
        (ROOT / "bench" / f"results-serve-{step}.md").write_text("\n".join(section) + "\n")
