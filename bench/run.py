"""`make bench`: measures on this machine and writes bench/results.md. Every comparison is measured side by
side in the same run; each figure is the median of several runs unless the table says otherwise.

`BENCH_SMOKE=1` (`make bench-smoke`, run by .ci/run) runs every step at tiny sizes and writes
bench/results-smoke.md instead: it proves the bench still runs end to end, its figures mean nothing."""

from __future__ import annotations

import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import serve_bench  # noqa: E402
from dashboards import bench_bi  # noqa: E402
from onec_server import row  # noqa: E402
from sales_history import add_catalogs, add_sales  # noqa: E402

from glame_pipelines.defs.dbt.assets import build_args, build_env  # noqa: E402
from glame_pipelines.defs.onec.assets import sales_row  # noqa: E402
from glame_pipelines.defs.onec.tables import ONEC_SALES  # noqa: E402
from glame_pipelines.warehouse.connection import (  # noqa: E402
    dbt_env,
    ensure_database,
    start_embedded,
    stop_embedded,
    with_database,
)
from glame_pipelines.warehouse.loader import ensure_table  # noqa: E402
from glame_pipelines.warehouse.tables import all_raw_tables  # noqa: E402

SMOKE = os.environ.get("BENCH_SMOKE", "") not in ("", "0")


def setting(name: str, real: str, smoke: str) -> str:
    """A bench parameter: its variable when set, else the real size, or the smoke size under BENCH_SMOKE."""
    return os.environ.get(name) or (smoke if SMOKE else real)


RUNS = int(setting("BENCH_RUNS", "3", "1"))
RESYNC_RUNS = int(setting("BENCH_RESYNC_RUNS", "2", "1"))
DBT_RUNS = int(setting("BENCH_DBT_RUNS", "3", "1"))
DLT_RUNS = int(setting("BENCH_DLT_RUNS", "3", "1"))
SIZES = [int(n) for n in setting("BENCH_SIZES", "100000,1000000", "12000").split(",")]
DBT_SIZES = [int(n) for n in setting("BENCH_DBT_SIZES", "1000000,5000000", "20000").split(",")]
HISTORY = int(setting("BENCH_HISTORY", "1000000", "36500"))  # the year already in the table before a day's load
DEMO_DAYS = int(setting("BENCH_DEMO_DAYS", "30", "3"))
DATA = ROOT / "bench" / "data" / ("smoke" if SMOKE else "")  # git-ignored; made by main() on a fresh clone
RESULTS = ROOT / "bench" / "results-smoke.md" if SMOKE else None
PY = sys.executable


EMBEDDED_PGDATA = ROOT / ".glame" / "bench-pgdata"


def configured_server() -> str | None:
    return os.environ.get("GLAME_WAREHOUSE_URL") or os.environ.get("GLAME_TEST_DATABASE_URL")


def fresh_db(base: str) -> str:
    return ensure_database(with_database(base, "postgres"), f"glame_bench_{uuid.uuid4().hex[:8]}")


def drop_db(base: str, url: str) -> None:
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{url.rsplit("/", 1)[1].split("?")[0]}" with (force)')


class BenchServer:
    def __init__(self, rows: int, changed: float = 0.0):
        self.process = subprocess.Popen(
            [PY, str(ROOT / "bench" / "onec_server.py"), "--rows", str(rows), "--changed", str(changed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def ingest(url: str, warehouse: str) -> dict:
    out = subprocess.run(
        [PY, str(ROOT / "bench" / "ingest.py"), "--url", url, "--warehouse", warehouse],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def reset_table(warehouse: str) -> None:
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("drop table if exists raw.onec_sales")
        ensure_table(conn, ONEC_SALES)


def csv_file(rows: int) -> Path:
    """The same rows as the server sends, as a CSV of the table's columns (the raw COPY reference)."""
    path = DATA / f"onec_sales_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        for n in range(rows):
            record = row(n, 0)
            writer.writerow([*(v if v is not None else "" for v in sales_row(record)), orjson.dumps(record).decode()])
    return path


def raw_copy(path: Path, warehouse: str) -> float:
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("drop table if exists raw.copy_reference")
        conn.execute("create table raw.copy_reference (like raw.onec_sales including defaults)")
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "copy raw.copy_reference (recorder, line_number, recorder_type, period, active, store_key, "
                "product_key, "
                "counterparty_key, quantity, amount, payload) from stdin with (format csv)"
            ) as copy,
            path.open("rb") as f,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        return time.perf_counter() - started


def median(values):
    return statistics.median(values)


def dlt_warehouse(warehouse: str) -> str:
    """The warehouse as a URL dlt accepts: dlt requires a host and a password, and the embedded server's URL has
    its socket directory in `?host=`. libpq reads a percent-encoded socket directory in the host part, so the
    URL is rebuilt from the parameters psycopg actually connected with (any password: local trust auth)."""
    with psycopg.connect(warehouse) as conn:
        info = conn.info
        host, port, user, password, dbname = info.host, info.port, info.user, info.password, info.dbname
    return (
        f"postgresql://{quote(user, safe='')}:{quote(password or 'bench', safe='')}@{quote(host, safe='')}:{port}"
        f"/{quote(dbname, safe='')}"
    )


def run_dlt(url: str, warehouse: str) -> dict | None:
    """One dlt run into an empty dataset, or None when its virtualenv is missing (`make bench` makes it)."""
    python = ROOT / os.environ.get("GLAME_DLT_PYTHON", "bench/.venv-dlt/bin/python")  # relative: to the project
    if not python.exists():
        if SMOKE:
            raise RuntimeError(f"dlt's virtualenv is missing ({python}): `make bench-smoke` creates it")
        return None
    with psycopg.connect(warehouse, autocommit=True) as conn:
        for schema in ("dlt_bench", "dlt_bench_staging"):
            conn.execute(f"drop schema if exists {schema} cascade")
    out = subprocess.run(
        [str(python), str(ROOT / "bench" / "dlt_peer.py"), "--url", url, "--warehouse", dlt_warehouse(warehouse)],
        capture_output=True,
        text=True,
        cwd=DATA,
    )
    if out.returncode != 0:
        raise RuntimeError("dlt failed:\n" + out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    with psycopg.connect(warehouse) as conn:
        result["loaded"] = conn.execute("select count(*) from dlt_bench.onec_sales").fetchone()[0]
    return result


def bench_ingestion(base: str) -> list[str]:
    lines = [
        "## 1C sales ingestion (real client + loader, sandbox at full speed, page size 5,000)",
        "",
        "One day of N sales-register rows from the bench server (bench/onec_server.py) into an empty "
        "raw.onec_sales (primary key and period index), through the real OnecClient and loader. Raw COPY: "
        "the same rows from a CSV file into an empty table without keys or indexes (the floor). dlt: its "
        "REST API source and Postgres destination in merge mode on the same server and bench server "
        "(bench/dlt_peer.py, dlt 1.31.0 in its own virtualenv). CPU µs a row: the ingesting process's own "
        "CPU time (client and loader, all its threads) per row; it moves less than the wall time with the bench "
        "server's and Postgres's share of the cores, so it is the figure to compare between commits.",
        "",
        "| rows | ours, rows/s | raw COPY, rows/s | ours ÷ raw COPY | ours, CPU µs a row | dlt, rows/s | ours ÷ dlt "
        "| peak RSS ours, MB | peak RSS dlt, MB | runs |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    warehouse = fresh_db(base)
    dlt_missing = False
    try:
        for rows in SIZES:
            server = BenchServer(rows)
            ours, cpu, rss = [], [], []
            for _ in range(RUNS):
                reset_table(warehouse)
                result = ingest(server.url, warehouse)
                assert result["rows"] == rows == result["inserted"], result
                ours.append(rows / result["seconds"])
                cpu.append(result["cpu_seconds"] / rows * 1e6)
                rss.append(result["rss_mb"])
            peers = []
            for _ in range(DLT_RUNS):
                peer = run_dlt(server.url, warehouse)
                if peer is None:
                    dlt_missing = True
                    break
                assert peer["rows"] == rows == peer["loaded"], peer
                peers.append(peer)
            server.close()
            path = csv_file(rows)
            copies = [rows / raw_copy(path, warehouse) for _ in range(RUNS)]
            dlt_rate = median([rows / p["seconds"] for p in peers]) if peers else None
            dlt_cells = (
                f"{dlt_rate:,.0f} | {median(ours) / dlt_rate:.1f} | {max(p['rss_mb'] for p in peers):.0f}"
                if peers
                else "not measured | – | –"
            )
            lines.append(
                f"| {rows:,} | {median(ours):,.0f} | {median(copies):,.0f} | {median(ours) / median(copies):.2f} "
                f"| {dlt_cells.split(' | ')[0]} | {dlt_cells.split(' | ')[1]} | {max(rss):.0f} "
                f"| {dlt_cells.split(' | ')[2]} | {RUNS} (dlt {len(peers)}) |"
            )
        lines.append("")
        if dlt_missing:
            lines += ["dlt was not measured: its virtualenv (bench/.venv-dlt) is missing; `make bench` creates it.", ""]
        lines += bench_resync(warehouse, max(SIZES))
    finally:
        drop_db(base, warehouse)
    return lines


def bench_resync(warehouse: str, rows: int) -> list[str]:
    base_server, changed_server = BenchServer(rows), BenchServer(rows, changed=1.0)
    reset_table(warehouse)
    ingest(base_server.url, warehouse)
    unchanged, changed = [], []
    for _ in range(RESYNC_RUNS):
        result = ingest(base_server.url, warehouse)
        assert result["inserted"] == result["updated"] == 0, result
        unchanged.append(rows / result["seconds"])
        result = ingest(changed_server.url, warehouse)
        assert result["updated"] == rows // 100, result
        changed.append(rows / result["seconds"])
        ingest(base_server.url, warehouse)  # back to the original for the next round
    base_server.close()
    changed_server.close()
    return [
        "## Re-sync of the same day",
        "",
        "| rows | nothing changed, rows/s | 1% changed, rows/s | runs |",
        "| ---: | ---: | ---: | ---: |",
        f"| {rows:,} | {median(unchanged):,.0f} | {median(changed):,.0f} | {RESYNC_RUNS} |",
        "",
        *bench_day_after_history(warehouse, HISTORY),
    ]


def bench_day_after_history(warehouse: str, history: int) -> list[str]:
    """A daily run's load of one day (a year's average of rows) into an empty table and into a table that
    already holds a year: the cost must follow the day, not the year."""
    day_rows = history // 365
    server = BenchServer(day_rows)
    seconds: dict[str, tuple[list[float], list[float]]] = {}
    for label, fill in (("empty", False), (f"a year, {history:,} rows", True)):
        first, again = [], []
        for _ in range(RESYNC_RUNS):
            reset_table(warehouse)
            if fill:
                with psycopg.connect(warehouse, autocommit=True) as conn:
                    for table in all_raw_tables():
                        ensure_table(conn, table)
                    conn.execute("truncate raw.onec_card_sales, raw.onec_receipts")
                    add_sales(conn, history, date(2024, 1, 1), 365, customers=history // 40)
                    conn.execute("analyze raw.onec_sales")
            first.append(ingest(server.url, warehouse)["seconds"])
            result = ingest(server.url, warehouse)
            assert result["inserted"] == result["updated"] == 0, result
            again.append(result["seconds"])
        seconds[label] = (first, again)
    server.close()
    lines = [
        f"A daily run loads one day per window and replaces only that day. One day of {day_rows:,} rows "
        f"(a year's average at {history:,} rows a year), loaded into raw.onec_sales when the table is empty "
        "and when it holds a year of history:",
        "",
        "| table before the load | first load of the day, s | re-load of the day, s | runs |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {median(first):.3f} | {median(again):.3f} | {RESYNC_RUNS} |"
        for label, (first, again) in seconds.items()
    ]
    return [*lines, ""]


def dbt(warehouse: str, *args: str, extra_env: dict[str, str | None] | None = None) -> tuple[float, float]:
    """Runs dbt; returns its wall time and the warehouse's part (models and tests, from run_results.json)."""
    env = {**os.environ, **dbt_env(warehouse)}
    for name, value in (extra_env or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    started = time.perf_counter()
    result = subprocess.run(
        [
            str(Path(PY).with_name("dbt")),
            *args,
            "--project-dir",
            str(ROOT / "dbt_project"),
            "--profiles-dir",
            str(ROOT / "dbt_project"),
            "--target-path",
            str(DATA / "dbt-target"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError("dbt failed:\n" + result.stdout[-3000:])
    nodes = json.loads((DATA / "dbt-target" / "run_results.json").read_text())["results"]
    return wall, sum(node["execution_time"] for node in nodes)


def slowest_nodes(count: int = 4) -> str:
    nodes = json.loads((DATA / "dbt-target" / "run_results.json").read_text())["results"]
    top = sorted(nodes, key=lambda node: node["execution_time"], reverse=True)[:count]
    return ", ".join(f"{node['unique_id'].split('.')[2]} {node['execution_time']:.2f} s" for node in top)


def bench_dbt(base: str) -> list[str]:
    lines = [
        "## dbt build of all models and their tests",
        "",
        "A year of sales in the raw tables (bench/sales_history.py: receipts of 4 lines in 3 stores, returns, "
        "online orders, a third of receipts on discount cards, one customer per 40 lines). Full = `dbt build "
        "--full-refresh`; one new day = the day's lines added, then `dbt build` with that day as the "
        "window, as the models' asset runs it (the day in GLAME_DBT_START_DATE/END_DATE, unit tests left to `make "
        'test`). Wall time includes dbt\'s start and parse; "nodes" is the sum of '
        "the models' and tests' own times from run_results.json (dbt runs nodes in parallel threads, "
        "so a full build's sum "
        "exceeds its wall time; for a day's build it is mostly dbt's fixed cost of about 30 ms per node, "
        "175 nodes).",
        "",
        "| sales lines | full: wall, s | full: nodes, s | one new day: wall, s | one new day: nodes, s | runs |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    first_day = date(2025, 1, 1)
    for size in DBT_SIZES:
        warehouse = fresh_db(base)
        try:
            with psycopg.connect(warehouse, autocommit=True) as conn:
                for table in all_raw_tables():
                    ensure_table(conn, table)
                add_catalogs(conn, customers=size // 40)
                add_sales(conn, size, first_day, 365, customers=size // 40)
                conn.execute("analyze")
            full = [dbt(warehouse, "build", "--full-refresh") for _ in range(DBT_RUNS)]
            day = first_day + timedelta(365)
            with psycopg.connect(warehouse, autocommit=True) as conn:
                add_sales(conn, size // 365, day, 1, customers=size // 40, prefix="new")
            # As the models' asset runs it: its arguments, the day in the environment (dbt_project/macros/windows.sql)
            daily = [dbt(warehouse, *build_args(), extra_env=build_env((str(day), str(day)))) for _ in range(DBT_RUNS)]
            lines.append(
                f"| {size:,} | {median(w for w, _ in full):.1f} | {median(d for _, d in full):.1f} "
                f"| {median(w for w, _ in daily):.1f} | {median(d for _, d in daily):.1f} | {DBT_RUNS} |"
            )
        finally:
            drop_db(base, warehouse)
    lines += [
        "",
        "A day's build reads the day's rows through the raw tables' period index: incremental marts "
        "(sales_daily, customer_purchases, customer_activity_daily, int_document_stores) rebuild the window, "
        "int_customer_totals recomputes only the customers the window touched, the tests of incremental models "
        "check the window, and a view whose SQL and inputs are unchanged is left as it is (one catalog query "
        "instead of its re-creation). What is left is dbt's own start and per-node cost, and customer_profile, "
        "which ranks every "
        "customer (its cost follows the number of customers: 25,000 at 1M lines, 125,000 at 5M). The "
        "slowest nodes of the last one-new-day build at the largest size: " + slowest_nodes() + ".",
        "",
    ]
    return lines


def bench_definitions() -> list[str]:
    # A fresh clone has no manifest yet; the figure is a load with it prepared. In a subprocess: importing
    # dagster here would raise this process's RSS, which the measured children inherit in ru_maxrss.
    subprocess.run(
        [PY, "-c", "from glame_pipelines.defs.dbt.manifest import ensure_manifest; ensure_manifest()"],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(
            [PY, "-c", "from glame_pipelines.definitions import defs"], check=True, capture_output=True, cwd=ROOT
        )
        times.append(time.perf_counter() - started)
    return [
        "## Definitions load",
        "",
        f"`python -c 'from glame_pipelines.definitions import defs'` (interpreter start "
        f"included, manifest prepared): median {median(times):.2f} s over {RUNS} runs "
        f"(min {min(times):.2f}, max {max(times):.2f}).",
        "",
    ]


def bench_demo(base: str) -> list[str]:
    warehouse = fresh_db(base)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONEC_", "YANDEX_", "INSTAGRAM_", "VK_", "TELEGRAM_", "FTP_"))
    }
    env.update({"GLAME_WAREHOUSE_URL": warehouse, "DAGSTER_HOME": str(ROOT)})
    env.pop("GLAME_DAGSTER_PG_URL", None)
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(PY).with_name("glame")), "demo", "--days", str(DEMO_DAYS)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    drop_db(base, warehouse)
    if SMOKE and result.returncode != 0:
        raise RuntimeError(f"glame demo failed ({result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    status = "succeeded" if result.returncode == 0 else f"failed ({result.returncode})"
    return [
        "## Demo",
        "",
        f"`glame demo` ({DEMO_DAYS} days, every source, dbt build) against this Postgres from a "
        f"warm venv: {seconds:.0f} s, one run, {status}.",
        "",
    ]


def machine(base: str) -> list[str]:
    with psycopg.connect(base) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    header = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {date.today()}: {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}, PostgreSQL {version}, "
        f"{platform.machine()} Linux. Every figure comes from this run.",
        "",
    ]
    if SMOKE:
        header[2] = (
            f"Smoke run (`make bench-smoke`, BENCH_SMOKE=1) on {date.today()}: every step at tiny sizes, "
            "to prove the bench runs end to end. These figures mean nothing; bench/results.md holds the "
            "real ones."
        )
    return header


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)  # git-ignored: absent on a fresh clone
    configured = configured_server()
    base = configured or start_embedded(EMBEDDED_PGDATA)
    try:
        measure(base)
    finally:
        if not configured:
            stop_embedded(EMBEDDED_PGDATA)  # started with cleanup_mode=None: it would outlive the bench


def measure(base: str) -> None:
    started = time.perf_counter()
    sections = machine(base)
    steps = (
        ("ingestion", lambda: bench_ingestion(base)),
        ("dbt", lambda: bench_dbt(base)),
        ("definitions", bench_definitions),
        ("demo", lambda: bench_demo(base)),
        ("bi", lambda: bench_bi(base, fresh_db, drop_db, add_catalogs, add_sales, dbt, DBT_SIZES)),
        # glame serve's steps (a year of counter files, a daily run, an hour of ticks) have no smoke size yet
        *((f"serve-{name}", lambda fn=fn: fn(base)) for name, fn in serve_bench.STEPS.items() if not SMOKE),
    )
    only = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=dbt while working on one part; results.md is then partial
    for name, step in steps:
        if only and name not in only.split(","):
            continue
        print(f"bench: {name}…", flush=True)
        step_started = time.perf_counter()
        section = step()
        print("\n".join(section), flush=True)
        print(f"bench: {name} took {time.perf_counter() - step_started:.0f} s", flush=True)
        sections += section
    sections.append(f"Total bench time: {time.perf_counter() - started:.0f} s.")
    results = RESULTS or ROOT / "bench" / ("results-partial.md" if only else "results.md")
    results.write_text("\n".join(sections) + "\n")
    print("\n".join(sections))


if __name__ == "__main__":
    main()
