"""dbt's one-new-day build of this checkout against another commit's, side by side on one machine.

Machines differ by more than a regression, so a figure is compared with the same build of another commit run
here, alternated: `git worktree add /tmp/other <commit>`, then
`GLAME_TEST_DATABASE_URL=… .venv/bin/python bench/dbt_side_by_side.py /tmp/other --lines 5000000 --rounds 3`.
Each trial follows bench/run.py's dbt step: a database copied from a template holding the year (made once per
size), a full build, the new day's lines, then three builds of that day (the first is a new window's, what the
schedule runs each day). `vacuum analyze` before each build: a server with autovacuum off otherwise slows down
build after build from the catalog's dead rows. Prints each trial's walls and slowest nodes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import configured_server  # noqa: E402
from sales_history import add_catalogs, add_sales  # noqa: E402

from glame_pipelines.defs.dbt.assets import build_args, build_env  # noqa: E402
from glame_pipelines.warehouse.connection import dbt_env, with_database  # noqa: E402
from glame_pipelines.warehouse.loader import ensure_table  # noqa: E402
from glame_pipelines.warehouse.tables import all_raw_tables  # noqa: E402

FIRST_DAY = date(2025, 1, 1)
NEW_DAY = FIRST_DAY + timedelta(365)
BUILDS = 3


def admin(base: str, sql: str) -> None:
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def template(base: str, lines: int) -> str:
    """A database holding the raw tables and a year of `lines` sales lines, made once per size."""
    name = f"glame_side_by_side_{lines}"
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            return name
    admin(base, f'create database "{name}_making"')
    with psycopg.connect(with_database(base, f"{name}_making"), autocommit=True) as conn:
        for table in all_raw_tables():
            ensure_table(conn, table)
        add_catalogs(conn, customers=lines // 40)
        add_sales(conn, lines, FIRST_DAY, 365, customers=lines // 40)
        conn.execute("vacuum analyze")
    admin(base, f'alter database "{name}_making" rename to "{name}"')
    return name


def window_by_environment(checkout: Path) -> bool:
    """Since 2026-11-30 the window comes in GLAME_DBT_START_DATE/END_DATE; before, as `--vars`."""
    return "GLAME_DBT_" in (checkout / "dbt_project" / "macros" / "windows.sql").read_text()


def day_build(checkout: Path) -> tuple[list[str], dict[str, str | None]]:
    if checkout == ROOT:
        return build_args(), build_env((str(NEW_DAY), str(NEW_DAY)))
    if window_by_environment(checkout):
        return ["build"], {"GLAME_DBT_START_DATE": str(NEW_DAY), "GLAME_DBT_END_DATE": str(NEW_DAY)}
    return ["build", "--vars", json.dumps({"start_date": str(NEW_DAY), "end_date": str(NEW_DAY)})], {}


def dbt(checkout: Path, url: str, args: list[str], extra: dict[str, str | None]) -> tuple[float, list[dict]]:
    env = {**os.environ, **dbt_env(url)}
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    project, target = checkout / "dbt_project", Path("/tmp") / f"glame-side-by-side-{checkout.name}"
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args, "--project-dir", str(project), "--profiles-dir",
         str(project), "--target-path", str(target)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"dbt failed in {checkout}:\n{done.stdout[-3000:]}")
    return wall, json.loads((target / "run_results.json").read_text())["results"]


def trial(base: str, checkout: Path, lines: int) -> tuple[list[float], list[dict]]:
    name = f"glame_side_by_side_trial_{checkout.name}"
    admin(base, f'drop database if exists "{name}" with (force)')
    admin(base, f'create database "{name}" template "{template(base, lines)}"')
    url = with_database(base, name)
    try:
        dbt(checkout, url, ["build", "--full-refresh"], {})
        with psycopg.connect(url, autocommit=True) as conn:
            add_sales(conn, lines // 365, NEW_DAY, 1, customers=lines // 40, prefix="new")
        walls, nodes = [], []
        for _ in range(BUILDS):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("vacuum analyze")
            wall, nodes = dbt(checkout, url, *day_build(checkout))
            walls.append(wall)
        return walls, nodes
    finally:
        admin(base, f'drop database if exists "{name}" with (force)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="a checkout of the other commit (git worktree add …)")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = configured_server()
    if not base:
        sys.exit("needs GLAME_WAREHOUSE_URL or GLAME_TEST_DATABASE_URL (a Postgres server)")
    walls: dict[str, list[float]] = {"this": [], "other": []}
    for _ in range(args.rounds):
        for label, checkout in (("this", ROOT), ("other", args.other.resolve())):
            times, nodes = trial(base, checkout, args.lines)
            walls[label] += times
            slowest = sorted(nodes, key=lambda node: -node["execution_time"])[:5]
            print(
                f"{label} {args.lines:,} lines: {', '.join(f'{t:.2f}' for t in times)} s; {len(nodes)} nodes; "
                + ", ".join(f"{n['unique_id'].split('.')[-1]} {n['execution_time']:.2f}" for n in slowest),
                flush=True,
            )
    for label, times in walls.items():
        firsts = times[::BUILDS]
        print(
            f"{label}: median {statistics.median(times):.2f} s of {len(times)}; "
            f"first builds of a window {', '.join(f'{t:.2f}' for t in firsts)} s"
        )


if __name__ == "__main__":
    main()
