"""`make bench`, dashboards step: every chart's query through Superset's chart-data API on a year of sales
(1M and 5M lines, bench/sales_history.py, ending yesterday so the dashboards' default period has data), and
the first render of Обзор in headless Chromium. A module of its own so bench/run.py only lists it."""

from __future__ import annotations

import copy
import json
import os
import socket
import statistics
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import requests

from glame_pipelines.bi import launcher
from glame_pipelines.settings import moscow_today
from glame_pipelines.warehouse.connection import with_database
from glame_pipelines.warehouse.loader import ensure_table
from glame_pipelines.warehouse.tables import all_raw_tables

ROOT = Path(__file__).resolve().parents[1]
RENDER = ROOT / "glame_pipelines" / "bi" / "render.py"
CHART_RUNS = int(os.environ.get("BENCH_BI_RUNS", "5"))
RENDER_RUNS = int(os.environ.get("BENCH_BI_RENDER_RUNS", "3"))
TARGET_MS, RENDER_TARGET_S = 300, 5.0
# the phone lookup's charts, timed with a customer's phone typed into the filter they read (filter_values)
LOOKUP_CHARTS = {"Покупатель по телефону", "История покупок покупателя"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render(base: str, password: str, slugs: list[str], out: Path) -> list[dict]:
    """A new headless Chromium (cold browser cache) opening the dashboards; see glame_pipelines/bi/render.py."""
    result = subprocess.run(
        [str(launcher.VENV_BI / "bin" / "python"), str(RENDER), base, str(out), *slugs],
        env={**os.environ, "GLAME_BI_ADMIN_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"render.py {' '.join(slugs)} exited with {result.returncode}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def api_session(base: str, password: str) -> requests.Session:
    session = requests.Session()
    token = session.post(
        f"{base}/api/v1/security/login",
        json={"username": launcher.ADMIN_USER, "password": password, "provider": "db", "refresh": False},
        timeout=60,
    )
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return session


def with_period(body: dict, period: str | None, phone: str | None) -> dict:
    """The page's own request, uncached, over another period and with the lookup's phone typed in."""
    body = copy.deepcopy(body)
    body["force"] = True
    for query in body["queries"]:
        if period:
            query["time_range"] = period
            for item in query.get("filters", []):
                if item.get("op") == "TEMPORAL_RANGE":
                    item["val"] = period
        if phone:
            query["filters"] = [f for f in query.get("filters", []) if f["col"] != "phone"]
            query["filters"].append({"col": "phone", "op": "IN", "val": [phone]})
    return body


def time_charts(
    session: requests.Session,
    base: str,
    pages: list[dict],
    period: str | None,
    phone: str,
    names: dict[int, str],
    force: bool = True,
) -> list[tuple[str, str, float, float, int]]:
    """Each chart's request CHART_RUNS times: with `force` Superset queries the mart each time (its cache is
    bypassed), without it the runs after the first are answered from the cache."""
    rows = []
    for page in pages:
        for call in page["calls"]:
            if "slice_id" not in call["request"]["form_data"]:
                continue  # a filter loading its values, not a chart
            name = names.get(call["request"]["form_data"].get("slice_id"), "?")
            body = with_period(call["request"], period, phone if name in LOOKUP_CHARTS else None)
            body["force"] = force
            times, count = [], 0
            for _ in range(CHART_RUNS):
                started = time.perf_counter()
                response = session.post(f"{base}/api/v1/chart/data", json=body, timeout=120)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                count = response.json()["result"][0]["rowcount"]
            rows.append((page["slug"], name, statistics.median(times), max(times), count))
    return rows


def bench_size(base_url: str, warehouse: str, size: int, home: Path) -> list[str]:
    settings = launcher.settings(
        warehouse, port=free_port(), home=home, metadata_db=f"{warehouse.rsplit('/', 1)[1].split('?')[0]}_superset"
    )
    launcher.set_up(settings)
    process = launcher.start_server(settings, log_file=home / "superset.log")
    base = f"http://127.0.0.1:{settings.port}"
    try:
        cold = render(base, settings.admin_password, ["overview"], home / "shots")[0]
        load_cold = os.getloadavg()[0]
        pages = launcher.warm(settings)  # what `glame bi` does once it serves: every dashboard, once
        if pages is None:
            raise RuntimeError("the dashboards bench needs headless Chromium (GLAME_CHROMIUM, GLAME_CHROMEDRIVER)")
        first = [render(base, settings.admin_password, ["overview"], home / "shots")[0] for _ in range(RENDER_RUNS)]
        load_warm = os.getloadavg()[0]
        session = api_session(base, settings.admin_password)
        charts = session.get(f"{base}/api/v1/chart/", params={"q": "(page_size:500,columns:!(id,slice_name))"}).json()
        names = {c["id"]: c["slice_name"] for c in charts["result"]}
        with psycopg.connect(warehouse) as conn:
            phone = conn.execute(
                "select phone from marts.customer_profile where orders > 0 order by orders desc limit 1"
            ).fetchone()[0]
        yesterday = moscow_today() - timedelta(1)
        year = f"{yesterday - timedelta(364)} : {yesterday + timedelta(1)}"
        loads = [os.getloadavg()[0]]
        month = time_charts(session, base, pages, None, phone, names)
        whole = time_charts(session, base, pages, year, phone, names)
        cached = time_charts(session, base, pages, None, phone, names, force=False)
        loads.append(os.getloadavg()[0])
    finally:
        launcher.stop_server(process)
        with psycopg.connect(with_database(base_url, "postgres"), autocommit=True) as conn:
            conn.execute(
                f'drop database if exists "{settings.metadata_url.rsplit("/", 1)[1].split("?")[0]}" with (force)'
            )
    renders = [page["seconds"] for page in first]
    lines = [
        f"### {size:,} sales lines",
        "",
        f"First render of Обзор ({len(first[0]['calls'])} charts, a new headless Chromium each time, from "
        f"navigation to the last chart drawn; target under {RENDER_TARGET_S:.0f} s): "
        f"**{statistics.median(renders):.2f} s** median, worst {max(renders):.2f} s over {len(renders)} renders "
        f"after the launcher's warm-up, as `glame bi` serves it (1-minute load average {load_warm:.1f}); "
        f"{cold['seconds']:.2f} s on a freshly started Superset with an empty cache, before any warm-up "
        f"(load {load_cold:.1f}). Chart timings at a load average of {min(loads):.1f}–{max(loads):.1f}.",
        "",
        "| dashboard | chart | default period (30 days): median ms | worst ms | rows | whole year: median ms "
        "| worst ms | rows | cached, default period: median ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (slug, name, med, worst, count), (_, _, y_med, y_worst, y_count), cache in zip(
        month, whole, cached, strict=True
    ):
        lines.append(
            f"| {slug} | {name} | {med:.0f} | {worst:.0f} | {count} | {y_med:.0f} | {y_worst:.0f} | {y_count} "
            f"| {cache[2]:.0f} |"
        )
    over = [
        f"{s}/{n}" for (s, n, _, w, _), (_, _, _, yw, _) in zip(month, whole, strict=True) if max(w, yw) > TARGET_MS
    ]
    lines += [
        "",
        f"Charts over {TARGET_MS} ms at their worst: {', '.join(over) if over else 'none'}. Median of all "
        f"charts: {statistics.median(r[2] for r in whole):.0f} ms over the whole year.",
        "",
    ]
    return lines


def bench_bi(base: str, fresh_db, drop_db, add_catalogs, add_sales, dbt, sizes: list[int]) -> list[str]:
    """The step bench/run.py calls; it passes its own helpers so the data is the dbt step's."""
    workers, threads = launcher.server_concurrency()
    lines = [
        "## Dashboards (Superset 6.1 over the marts)",
        "",
        f"A year of sales ending yesterday, built by dbt, served by `glame bi`'s launcher (gunicorn, {workers} "
        f"workers of {threads} threads, file cache under the BI home). Each chart's own request, as the "
        f"dashboard sends it, replayed with `force` (Superset's cache bypassed, the mart queried) through "
        f"`/api/v1/chart/data`, {CHART_RUNS} times: the dashboard's default period and the whole year; the "
        f"lookup charts with a customer's phone typed in; the last column replays the default period without "
        f"`force`, as a reader's browser asks once the launcher has warmed the dashboards. The web, social and "
        f"store-counter marts are empty in this data set (only 1C sales are generated), so their charts time "
        f"Superset's overhead.",
        "",
    ]
    first_day = moscow_today() - timedelta(365)
    for size in sizes:
        warehouse = fresh_db(base)
        home = ROOT / "bench" / "data" / f"bi-{size}"
        home.mkdir(parents=True, exist_ok=True)
        try:
            with psycopg.connect(warehouse, autocommit=True) as conn:
                for table in all_raw_tables():
                    ensure_table(conn, table)
                add_catalogs(conn, customers=size // 40)
                add_sales(conn, size, first_day, 365, customers=size // 40)
                conn.execute("analyze")
            dbt(warehouse, "build", "--full-refresh")
            lines += bench_size(base, warehouse, size, home)
        finally:
            drop_db(base, warehouse)
    return lines
