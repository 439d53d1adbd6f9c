"""1C entity sets as real bases publish them: names written with a leading slash, optional sets a base has
not got (no bonus program), and what a failed or turned-off set does to the models built after it."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import psycopg
import pytest
from conftest import fast_retry, onec_resources
from test_chaos import BUILD_TIME_MARTS
from test_cli import _sqlalchemy, glame
from test_marts import dbt

from glame_pipelines.clients.onec import OnecNotPublished, normalize_entity_set
from glame_pipelines.definitions import defs
from glame_pipelines.defs.onec.assets import onec_assets
from glame_pipelines.defs.onec.resources import ENTITY_SET_DEFAULTS, OnecResource, turned_off_sets
from glame_pipelines.sources import env_fields

BONUS_SETS = ("AccumulationRegister_БонусныеБаллы_RecordType", "AccumulationRegister_БонусныеБаллы/Balance")
BONUS_ASSETS = {dg.AssetKey(["onec", "bonus_points"]), dg.AssetKey(["onec", "bonus_balances"])}
BONUS_OFF = {"ONEC_BONUS_POINTS_ENDPOINT": "", "ONEC_BONUS_BALANCES_ENDPOINT": ""}
MODEL_SCHEMAS = ("staging", "intermediate", "marts")


@pytest.mark.parametrize(
    "written",
    [
        "/Catalog_Контрагенты",
        " Catalog_Контрагенты ",
        '"/Catalog_Контрагенты"',
        "'Catalog_Контрагенты'",
        "Catalog_Контрагенты",
    ],
)
def test_a_set_name_is_the_same_set_however_it_is_written(written):
    assert normalize_entity_set(written) == "Catalog_Контрагенты"


def test_a_leading_slash_makes_no_double_slash_in_the_url(onec_client):
    url = onec_client.url("/Catalog_Склады", {"$top": 1})
    assert "odata//" not in url and "standard.odata/Catalog_" in url
    assert onec_client.probe("/Catalog_Склады") == 1


def test_not_published_names_the_url_it_asked_and_never_the_credentials(sandbox, onec_api, onec_env):
    from glame_pipelines.clients.onec import OnecClient, OnecError, basic_token, requested_location

    login, password = onec_env["ONEC_USERNAME"], onec_env["ONEC_PASSWORD"]
    client = OnecClient(onec_env["ONEC_API_URL"], basic_token(login, password), timeout=5)
    with pytest.raises(OnecNotPublished) as error:
        client.probe("/Catalog_Контрагентыы")  # a typo
    message = str(error.value)
    assert f"for {onec_env['ONEC_API_URL']}/Catalog_Контрагентыы)" in message  # host and path, as written
    assert password not in message and basic_token(login, password) not in message
    assert "leave that variable empty to turn it off" in message
    # Credentials written into ONEC_API_URL never show either.
    with_userinfo = onec_env["ONEC_API_URL"].replace("http://", "http://integration:s3cret-pw@")
    assert "s3cret" not in requested_location(with_userinfo + "/Catalog_X")
    with pytest.raises(OnecError) as error:
        OnecClient(with_userinfo, "dG9rZW4=", timeout=5, retry=fast_retry(max_attempts=1)).probe("Catalog_X")
    assert "s3cret-pw" not in str(error.value) and "integration:" not in str(error.value)


def test_every_set_loads_when_written_with_a_leading_slash(warehouse_url, onec_env, conn):
    slashed = {field: f"/{default}" for field, (_, default) in ENTITY_SET_DEFAULTS.items()}
    resources = onec_resources(warehouse_url, onec_env, **slashed)
    daily = [a for a in onec_assets if a.partitions_def is not None]
    whole = [a for a in onec_assets if a.partitions_def is None]
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(daily, resources=resources, partition_key="2025-03-14", instance=instance).success
    assert dg.materialize(whole, resources=resources, instance=instance).success
    for table in (
        "onec_sales",
        "onec_card_sales",
        "onec_bonus_points",
        "onec_receipts",
        "onec_bonus_balances",
        "onec_discount_cards",
        "onec_customers",
        "onec_products",
        "onec_stores",
        "onec_opening_balances",
    ):
        assert conn.execute(f"select count(*) from raw.{table}").fetchone()[0] > 0, table


def test_an_empty_variable_turns_an_optional_set_off_and_only_an_optional_one(monkeypatch):
    monkeypatch.setenv("ONEC_BONUS_POINTS_ENDPOINT", "")
    monkeypatch.setenv("ONEC_RECEIPTS_ENDPOINT", " ")
    monkeypatch.setenv("ONEC_SALES_ENDPOINT", "")  # required: empty keeps the default name
    monkeypatch.delenv("ONEC_BONUS_BALANCES_ENDPOINT", raising=False)  # unset: the default name
    fields = env_fields(OnecResource, {f: v for f, (v, _) in ENTITY_SET_DEFAULTS.items()})
    resource = OnecResource(**fields)
    assert resource.turned_off() == ["bonus_points", "receipts"]
    assert resource.entity_set("sales_endpoint") == ENTITY_SET_DEFAULTS["sales_endpoint"][1]
    assert set(turned_off_sets()) == {"bonus_points", "receipts"}


def test_a_turned_off_asset_materialises_nothing_and_succeeds(warehouse_url, onec_env, conn):
    from glame_pipelines.defs.onec.assets import bonus_balances, register_assets

    resources = onec_resources(warehouse_url, onec_env, bonus_points_endpoint="", bonus_balances_endpoint="")
    bonus_points = next(a for a in register_assets if a.key.path[-1] == "bonus_points")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([bonus_points], resources=resources, partition_key="2025-03-14", instance=instance)
    assert result.success and not result.get_asset_materialization_events()
    result = dg.materialize([bonus_balances], resources=resources, instance=instance)
    assert result.success and not result.get_asset_materialization_events()


def test_daily_schedule_skips_turned_off_sets_by_name():
    from datetime import date

    from glame_pipelines.definitions import defs
    from glame_pipelines.defs.schedules import daily_run_request

    env = {"ONEC_API_URL": "http://x/odata/standard.odata", "ONEC_API_TOKEN": "t", **BONUS_OFF}
    request = daily_run_request(date(2025, 6, 10), defs.resolve_asset_graph(), env=env)
    assert not set(request.asset_selection) & BONUS_ASSETS
    assert dg.AssetKey(["onec", "sales"]) in request.asset_selection
    assert "onec/bonus_points (turned off: ONEC_BONUS_POINTS_ENDPOINT is empty" in request.tags["glame/skipped_sources"]


# --- a base without the bonus register, end to end through `glame run` -------------------------------


def model_fingerprints(url: str, leave_out: set[str]) -> dict[str, str]:
    """md5 over every row of every model relation (tables and views) not in `leave_out`."""
    with psycopg.connect(url) as conn:
        relations = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = any(%s)",
            (list(MODEL_SCHEMAS),),
        ).fetchall()
        return {
            name: conn.execute(
                f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {schema}.\"{name}\" t"
            ).fetchone()[0]
            for schema, name in relations
            if name not in leave_out | BUILD_TIME_MARTS
        }


def downstream_model_names(keys: set[dg.AssetKey]) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {k.path[-1] for k in dg.AssetSelection.assets(*keys).downstream().resolve(graph)} - {
        k.path[-1] for k in keys
    }


@pytest.fixture
def base_without_bonus(onec_api, onec_env):
    onec_api.quirks.unpublished.update(BONUS_SETS)
    return onec_env


def run_env(warehouse_url: str, onec_env: dict, **extra) -> dict:
    return {
        **onec_env,
        "GLAME_WAREHOUSE_URL": warehouse_url,
        "GLAME_DAGSTER_PG_URL": _sqlalchemy(warehouse_url),
        **extra,
    }


def test_without_a_bonus_register_the_bonus_assets_fail_by_name_and_every_other_model_is_built(
    warehouse_url, base_without_bonus, tmp_path
):
    result = glame(
        "run",
        "--start",
        "2025-03-13",
        "--end",
        "2025-03-14",
        env=run_env(warehouse_url, base_without_bonus),
        cwd=tmp_path,
    )
    out = result.stdout
    assert result.returncode == 1, out + result.stderr[-3000:]
    failed = sorted(line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("  FAIL"))
    assert failed == ["onec__bonus_balances", "onec__bonus_points"], out
    assert "is not published in 1C (HTTP 404 for http://" in out
    assert "ok    marts/sales_daily" in out or "sales_daily" in out
    left_out = downstream_model_names(BONUS_ASSETS)
    assert "customer_profile" in left_out and "sales_daily" not in left_out
    built = model_fingerprints(warehouse_url, left_out)
    assert {"sales_daily", "unified_daily", "customer_purchases", "store_traffic_daily"} <= set(built)
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select sum(revenue) from marts.sales_daily").fetchone()[0] > 0
        assert conn.execute("select to_regclass('marts.customer_profile')").fetchone()[0] is None  # left out
    # What a full build over the same raw tables gives, for every model the partial run built.
    full = dbt(warehouse_url, "build", "--full-refresh", target=tmp_path / "dbt-target")
    assert full.returncode == 0, full.stdout[-3000:]
    assert model_fingerprints(warehouse_url, left_out) == built


def test_with_the_bonus_sets_turned_off_the_run_succeeds_and_bonus_balances_are_null(
    warehouse_url, base_without_bonus, tmp_path
):
    result = glame(
        "run", "--start", "2025-03-14", env=run_env(warehouse_url, base_without_bonus, **BONUS_OFF), cwd=tmp_path
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "skip  onec/bonus_points: turned off: ONEC_BONUS_POINTS_ENDPOINT is empty" in out
    assert "skip  onec/bonus_balances: turned off: ONEC_BONUS_BALANCES_ENDPOINT is empty" in out
    assert "FAIL" not in out
    with psycopg.connect(warehouse_url) as conn:
        customers, with_balance, revenue = conn.execute(
            "select count(*), count(bonus_balance), sum(lifetime_revenue) from marts.customer_profile"
        ).fetchone()
        discounts = conn.execute("select count(discount_amount) from marts.sales_daily").fetchone()[0]
    assert customers > 0 and revenue > 0
    assert with_balance == 0  # null, not zero: the base has no bonus program
    assert discounts > 0  # card sales are still on


def test_check_prints_a_line_per_set(base_without_bonus, tmp_path):
    env = {**base_without_bonus, "ONEC_CUSTOMERS_ENDPOINT": "/Catalog_Контрагенты", "ONEC_RECEIPTS_ENDPOINT": ""}
    result = glame("check", "--only", "onec", env=env, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL onec") and "2 entity set(s) not published" in lines[0]
    by_state = {}
    for line in lines[1:]:
        state = line.split()[0]
        by_state.setdefault(state, []).append(line)
    assert len(by_state["published"]) == 6 and "     published      Catalog_Контрагенты" in lines
    assert len(by_state["NOT"]) == 2 and all("leave it empty to turn it off" in line for line in by_state["NOT"])
    assert any(
        "БонусныеБаллы_RecordType (ONEC_BONUS_POINTS_ENDPOINT) is not published in 1C: HTTP 404 for http://" in line
        for line in by_state["NOT"]
    )
    assert by_state["off"] == [
        "     off            ONEC_RECEIPTS_ENDPOINT is empty: this base has no such set (turned off)"
    ]
    turned_off = glame("check", "--only", "onec", env={**env, **BONUS_OFF}, cwd=tmp_path)
    assert turned_off.returncode == 0 and turned_off.stdout.startswith("OK   onec"), turned_off.stdout


# --- partial builds run only the tests whose parents were all built ----------------------------------


def test_a_partial_build_runs_no_test_whose_parent_was_left_out(pg_server_url, tmp_path):
    """unified_daily is left out (a social source failed) and stale, sales_daily is rebuilt: with dbt's
    default indirect selection the reconciliation test of the two would run and fail."""
    import uuid

    from dagster_dbt import DbtCliResource
    from marts_fixture import D2, load_fixture

    from glame_pipelines.definitions import defs
    from glame_pipelines.defs.dbt.assets import glame_dbt_models
    from glame_pipelines.defs.dbt.manifest import dbt_executable
    from glame_pipelines.defs.dbt.project import dbt_project
    from glame_pipelines.defs.warehouse import WarehouseResource
    from glame_pipelines.warehouse.connection import with_database

    name = f"glame_partial_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = with_database(pg_server_url, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            load_fixture(conn)
            assert dbt(url, "build", target=tmp_path / "t").returncode == 0
            # A late line in 1C: sales_daily will change, the left-out unified_daily will not.
            conn.execute(
                "create temp table late as select * from raw.onec_sales where recorder = 'sr3' and line_number = 1"
            )
            conn.execute("update late set line_number = 99, amount = 777")
            conn.execute("insert into raw.onec_sales select * from late")
            # What the automation builds after a load of 1C and VK where VK failed (test_automation): the
            # models downstream of 1C's sales, without those downstream of VK's group stats.
            graph = defs.resolve_asset_graph()
            models = (
                dg.AssetSelection.assets(dg.AssetKey(["onec", "sales"])).downstream()
                - dg.AssetSelection.assets(dg.AssetKey(["vk", "group_stats"])).downstream()
            )
            request = sorted((models & dg.AssetSelection.groups("staging", "intermediate", "marts")).resolve(graph))
            selected = {k.path[-1] for k in request}
            assert "sales_daily" in selected and "unified_daily" not in selected
            resources = {
                "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
                "warehouse": WarehouseResource(url=url),
                "onec": OnecResource(),
            }
            result = dg.materialize(
                [glame_dbt_models],
                selection=request,
                resources=resources,
                instance=dg.DagsterInstance.ephemeral(),
                raise_on_error=False,
                partition_key=D2.isoformat(),
            )
            assert result.success
            sales, unified = conn.execute(
                "select (select sum(revenue) from marts.sales_daily), (select sum(revenue) from marts.unified_daily)"
            ).fetchone()
            assert sales == unified + Decimal(777)  # stale unified_daily: the eager test would have failed
            counts = {
                m.asset_key.path[-1]: m.metadata.get("dagster/row_count")
                for m in result.asset_materializations_for_node("glame_dbt_models")
            }
            assert counts["sales_daily"].value == conn.execute("select count(*) from marts.sales_daily").fetchone()[0]
            checks = {e.check_name for e in result.get_asset_check_evaluations()}
            assert checks and not any("unified" in c for c in checks)
            # dbt's default (eager) selection would have run it beside sales_daily, and failed.
            eager = dbt(url, "test", "--select", "sales_daily", "--indirect-selection", "eager", target=tmp_path / "t")
            assert eager.returncode != 0 and "FAIL 1 assert_unified_revenue_equals_sales_daily" in eager.stdout, (
                eager.stdout
            )
            # A full build runs every test, that one included: test_marts.test_dbt_build_ran_every_test.
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
