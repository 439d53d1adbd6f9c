"""The dashboards as a user meets them: the demo's data loaded by `glame run` from the sandbox, Superset set
up and served by the project's own launcher (once for the module), each dashboard opened in headless
Chromium. Screenshots are kept in tests/artifacts/bi/."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import requests

from glame_pipelines.bi import catalog, launcher
from glame_pipelines.settings import moscow_today
from glame_pipelines.warehouse.connection import with_database

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "bi"
RENDER = ROOT / "glame_pipelines" / "bi" / "render.py"
DAYS = 7
LOOKUP_CHARTS = {"Покупатель по телефону", "История покупок покупателя"}  # empty until a phone is typed
# charts that list exceptions: empty exactly when the mart has none in the default period
EXCEPTIONS = {
    "Дни без файла счётчика": "select count(*) from marts.store_traffic_daily where is_mapped and "
    "not has_counter_data and visit_date >= current_date - 29"
}

pytestmark = pytest.mark.skipif(
    not (launcher.VENV_BI / "bin" / "superset").exists(),
    reason="Superset's .venv-bi is missing: `make test` creates it (make bi-venv)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_demo(url: str) -> None:
    """`glame run` over the sandbox for the last DAYS Moscow days, as `glame demo` does."""
    from glame_pipelines.sandbox.build import build_sandbox
    from glame_pipelines.sandbox.retail import RetailWorld

    yesterday = moscow_today() - timedelta(1)
    server, sandbox_env = build_sandbox(world=RetailWorld(customers=400))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEC_", "GLAME_BI_"))}
    env.update(
        sandbox_env, GLAME_WAREHOUSE_URL=url, GLAME_DAGSTER_PG_URL="postgresql+psycopg2://" + url.split("://", 1)[1]
    )
    with server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "glame_pipelines.cli",
                "run",
                "--start",
                str(yesterday - timedelta(DAYS - 1)),
                "--end",
                str(yesterday),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _capture(failures: list, function, *args) -> None:
    try:
        function(*args)
    except BaseException as error:
        failures.append(error)


@pytest.fixture(scope="module")
def bi(pg_server_url, tmp_path_factory):
    name = f"glame_bi_{uuid.uuid4().hex[:8]}"
    metadata_db = f"{name}_superset"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = with_database(pg_server_url, name)
    home = tmp_path_factory.mktemp("bi-home")
    process = None
    try:
        settings = launcher.settings(url, port=free_port(), home=home, metadata_db=metadata_db)
        # Superset's set-up does not read the marts: it runs while the demo's data loads
        failures: list[BaseException] = []
        setup = threading.Thread(target=lambda: _capture(failures, launcher.set_up, settings))
        setup.start()
        load_demo(url)
        setup.join()
        if failures:
            raise failures[0]
        process = launcher.start_server(settings, log_file=home / "superset.log")
        yield {"url": url, "settings": settings, "base": f"http://127.0.0.1:{settings.port}", "home": home}
    finally:
        if process is not None:
            launcher.stop_server(process)
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            for db in (name, metadata_db):
                admin.execute(f'drop database if exists "{db}" with (force)')


@pytest.fixture(scope="module")
def api(bi) -> requests.Session:
    """An API session logged in as the admin (JWT, as scripts use it)."""
    session = requests.Session()
    token = session.post(
        f"{bi['base']}/api/v1/security/login",
        json={
            "username": launcher.ADMIN_USER,
            "password": bi["settings"].admin_password,
            "provider": "db",
            "refresh": False,
        },
        timeout=30,
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    csrf = session.get(f"{bi['base']}/api/v1/security/csrf_token/", timeout=30).json()["result"]
    session.headers.update({"X-CSRFToken": csrf, "Referer": bi["base"]})
    session.base = bi["base"]  # type: ignore[attr-defined]
    return session


@pytest.fixture(scope="module")
def rendered(bi) -> dict[str, dict]:
    """Every dashboard opened once in headless Chromium: timings, errors, chart-data calls, screenshots."""
    slugs = [d.slug for d in catalog.dashboards()]
    result = subprocess.run(
        [str(launcher.VENV_BI / "bin" / "python"), str(RENDER), bi["base"], str(ARTIFACTS), *slugs],
        env={**os.environ, "GLAME_BI_ADMIN_PASSWORD": bi["settings"].admin_password},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {page["slug"]: page for page in json.loads(result.stdout)}


def chart_names(api) -> dict[int, str]:
    charts = api.get(f"{api.base}/api/v1/chart/", params={"q": "(page_size:500,columns:!(id,slice_name))"}, timeout=30)
    return {c["id"]: c["slice_name"] for c in charts.json()["result"]}


def post_chart_data(api, body: dict) -> dict:
    response = api.post(f"{api.base}/api/v1/chart/data", json=body, timeout=60)
    assert response.status_code == 200, response.text[:2000]
    return response.json()["result"][0]


def call_of(rendered, api, slug: str, name: str) -> dict:
    names = chart_names(api)
    return next(c for c in rendered[slug]["calls"] if names.get(c["request"]["form_data"].get("slice_id")) == name)


def test_every_chart_of_every_dashboard_returns_rows_through_the_chart_data_api(rendered, api, bi):
    names = chart_names(api)
    with psycopg.connect(bi["url"]) as conn:
        may_be_empty = LOOKUP_CHARTS | {
            name for name, query in EXCEPTIONS.items() if conn.execute(query).fetchone()[0] == 0
        }
    for dashboard in catalog.dashboards():
        calls = rendered[dashboard.slug]["calls"]
        answered = {}
        for call in calls:
            if "slice_id" not in call["request"]["form_data"]:
                assert call["status"] == 200 and not call["errors"], (dashboard.title, "filter values", call["errors"])
                continue  # a filter loading its values
            name = names[call["request"]["form_data"]["slice_id"]]
            assert call["status"] == 200 and not call["errors"], (dashboard.title, name, call["errors"])
            answered[name] = max(answered.get(name, 0), *call["rowcounts"])
        assert set(answered) == set(dashboard.charts), dashboard.title
        empty = {name for name, rows in answered.items() if rows < 1} - may_be_empty
        assert not empty, (dashboard.title, empty)


def test_each_dashboard_renders_without_a_chart_in_error_state(rendered):
    for dashboard in catalog.dashboards():
        page = rendered[dashboard.slug]
        assert page["errors"] == [], (dashboard.title, page["errors"])
        assert page["charts"] == len(dashboard.charts), dashboard.title
        assert dashboard.title in page["title"]
        assert (ARTIFACTS / f"{dashboard.slug}.png").stat().st_size > 20_000


def test_overview_revenue_per_day_equals_unified_daily(rendered, api, bi):
    result = post_chart_data(api, call_of(rendered, api, "overview", "Выручка по дням")["request"])
    shown = {
        date.fromtimestamp(row["date"] / 1000)
        if isinstance(row["date"], (int, float))
        else date.fromisoformat(str(row["date"])[:10]): row["Выручка, ₽"]
        for row in result["data"]
    }
    with psycopg.connect(bi["url"]) as conn:
        mart = dict(
            conn.execute(
                "select date, revenue from marts.unified_daily where date >= %s", (moscow_today() - timedelta(29),)
            ).fetchall()
        )
    yesterday = moscow_today() - timedelta(1)
    assert shown[yesterday] > 0
    assert {day: Decimal(str(value)) for day, value in shown.items()} == mart


def test_sql_lab_through_the_registered_database_is_refused_outside_marts(api, bi):
    databases = api.get(f"{api.base}/api/v1/database/", timeout=30).json()["result"]
    database_id = next(d["id"] for d in databases if d["database_name"] == "glame_warehouse")

    def sql_lab(query: str) -> dict:
        return api.post(
            f"{api.base}/api/v1/sqllab/execute/",
            json={"database_id": database_id, "sql": query, "runAsync": False, "schema": "marts"},
            timeout=60,
        ).json()

    with psycopg.connect(bi["url"]) as conn:
        days = conn.execute("select count(*) from marts.unified_daily").fetchone()[0]
    ok = sql_lab("select count(*) as n from marts.unified_daily")
    assert ok.get("status") == "success" and ok["data"][0]["n"] == days >= DAYS, ok
    for query in (
        "select count(*) from raw.onec_sales",
        "select * from staging.stg_onec__sales limit 1",
        "select * from public.runs limit 1",
    ):  # Dagster's run storage, in this warehouse here
        refused = json.dumps(sql_lab(query), ensure_ascii=False)
        assert "permission denied" in refused, (query, refused[:500])
    refused = json.dumps(sql_lab("delete from marts.unified_daily"), ensure_ascii=False)
    assert "error" in refused.lower() and "success" not in refused, refused[:500]
    with (
        psycopg.connect(bi["settings"].reader_url.replace("+psycopg2", "")) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("delete from marts.unified_daily")
    with psycopg.connect(bi["url"]) as conn:
        assert conn.execute("select count(*) from marts.unified_daily").fetchone()[0] == days


def test_phone_typed_in_any_format_finds_the_same_customer(rendered, api, bi):
    with psycopg.connect(bi["url"]) as conn:
        key, phone = conn.execute(
            "select p.customer_key, p.phone from marts.customer_profile p where p.orders > 0 "
            "and p.phone like '+79%%' order by p.lifetime_revenue desc limit 1"
        ).fetchone()
        purchases = conn.execute(
            "select count(*) from marts.customer_purchases where customer_key = %s", (key,)
        ).fetchone()[0]
    digits = phone[2:]
    typed_forms = [
        f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
        phone,
        f"+7 {digits[:3]} {digits[3:6]} {digits[6:8]} {digits[8:]}",
        digits,
    ]
    profile = call_of(rendered, api, "customers", "Покупатель по телефону")["request"]
    history = call_of(rendered, api, "customers", "История покупок покупателя")["request"]
    for typed in typed_forms:
        for body in (profile, history):
            body["queries"][0]["filters"] = [f for f in body["queries"][0].get("filters", []) if f["col"] != "phone"]
            body["queries"][0]["filters"].append({"col": "phone", "op": "IN", "val": [typed]})
        found = post_chart_data(api, profile)["data"]
        assert [row["phone"] for row in found] == [phone], typed
        assert post_chart_data(api, history)["rowcount"] == purchases, typed


def test_setting_up_again_keeps_one_copy_and_export_after_import_changes_no_file(bi, api, tmp_path):
    launcher.set_up(bi["settings"])
    files = {p.relative_to(catalog.ASSETS_DIR): p.read_bytes() for p in catalog.ASSETS_DIR.rglob("*.yaml")}
    expected = {kind: sum(1 for p in files if p.parts[0] == kind) for kind in ("dashboards", "charts", "datasets")}
    for kind, endpoint in (("dashboards", "dashboard"), ("charts", "chart"), ("datasets", "dataset")):
        count = api.get(f"{api.base}/api/v1/{endpoint}/", params={"q": "(page_size:1)"}, timeout=30).json()["count"]
        assert count == expected[kind], kind
    assert expected["dashboards"] == 8
    out = tmp_path / "assets"
    launcher.export(bi["settings"], out)
    exported = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.yaml")}
    assert set(exported) == set(files)
    changed = [str(p) for p in files if files[p] != exported[p]]
    assert changed == []
    database = (out / "databases" / "glame_warehouse.yaml").read_text(encoding="utf-8")
    assert bi["settings"].reader_password not in database and "XXXXXXXXXX" in database


def test_a_chart_computed_by_one_worker_is_served_from_the_cache_by_every_worker(rendered, api, bi):
    """Superset runs several gunicorn workers: an in-process cache was one per worker, so the next reader's
    request, landing on another worker, queried the mart again. The file cache is shared."""
    body = call_of(rendered, api, "overview", "Выручка по дням")["request"]
    body = {**body, "force": False}
    post_chart_data(api, body)
    answers = [post_chart_data(api, body) for _ in range(6)]  # the workers take turns
    assert all(answer["is_cached"] for answer in answers)
    assert any((launcher.cache_dir(bi["settings"]) / "data").iterdir())


def test_superset_logs_one_action_row_per_chart_request_not_one_per_stage(rendered, bi):
    """Each stage of a chart request (execute_sql, load_into_dataframe, …) was a row and a commit in the
    metadata database: a fifth of the request. The request itself is still in the action log."""
    metadata = bi["settings"].metadata_url.replace("postgresql+psycopg2://", "postgresql://")
    with psycopg.connect(metadata) as conn:
        actions = dict(conn.execute("select action, count(*) from logs group by action").fetchall())
    assert actions.get("ChartDataRestApi.data", 0) >= sum(len(d.charts) for d in catalog.dashboards())
    # the stages of a chart request (SQL Lab's own execute_sql row is outside any request's event: it stays)
    stages = {"load_into_dataframe", "QueryObject.post_processing", "ChartDataRestApi.json_dumps", "_get_data_response"}
    assert not stages & set(actions), actions


def test_the_phone_lookup_mart_has_statistics_as_soon_as_it_is_built(bi):
    """Without them the phone filter's list was a hash aggregate over every customer (80 ms at 5M lines)."""
    with psycopg.connect(bi["url"]) as conn:
        analysed = conn.execute(
            "select last_analyze from pg_stat_user_tables where schemaname = 'marts' and relname = 'customer_profile'"
        ).fetchone()[0]
    assert analysed is not None
