"""1C assets materialised through Dagster against the sandbox and a real Postgres."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import pytest
from conftest import SANDBOX_TODAY, onec_resources

from glame_pipelines.defs.onec.assets import bonus_balances, catalog_assets, opening_balances, register_assets
from glame_pipelines.defs.onec.resources import OnecResource
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.sandbox.onec import expected_sales
from glame_pipelines.sandbox.retail import OPENING_BALANCES, PHYSICAL_STORES

SALES, CARD_SALES, BONUS_POINTS, RECEIPTS = register_assets
DAY = "2025-03-14"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def sales_table(conn):
    return conn.execute(
        "select recorder, line_number, period, amount, payload, _loaded_at from raw.onec_sales order by 1, 2"
    ).fetchall()


def materialize(assets, resources, **kwargs):
    return dg.materialize(assets, resources=resources, instance=dg.DagsterInstance.ephemeral(), **kwargs)


def test_a_day_of_sales_matches_the_register_to_the_kopeck(warehouse_url, onec_env, conn, world):
    result = materialize([SALES], onec_resources(warehouse_url, onec_env), partition_key=DAY)
    assert result.success
    expected = expected_sales(world, date(2025, 3, 14), date(2025, 3, 15))
    count, total = conn.execute("select count(*), sum(amount) from raw.onec_sales").fetchone()
    assert count == len(expected)
    assert total == sum(Decimal(str(r["Сумма"])) for r in expected)
    metadata = result.asset_materializations_for_node("onec__sales")[0].metadata
    assert metadata["dagster/row_count"].value == len(expected)


def test_rerunning_a_day_leaves_the_table_identical(warehouse_url, onec_env, conn):
    resources = onec_resources(warehouse_url, onec_env)
    materialize([SALES], resources, partition_key=DAY)
    before = sales_table(conn)
    materialize([SALES], resources, partition_key=DAY)
    assert sales_table(conn) == before


def test_documents_deleted_or_reposted_in_1c_are_reflected(warehouse_url, onec_env, onec_api, conn, world):
    resources = onec_resources(warehouse_url, onec_env)
    materialize([SALES], resources, partition_key=DAY)
    day = date(2025, 3, 14)
    deleted = world.shift_report_ref(PHYSICAL_STORES[0], day)
    reposted = world.shift_report_ref(PHYSICAL_STORES[1], day)
    onec_api.delete_document(deleted)
    onec_api.repost_line(reposted, 1, 1234.56)
    materialize([SALES], resources, partition_key=DAY)
    assert conn.execute("select count(*) from raw.onec_sales where recorder = %s", (deleted,)).fetchone()[0] == 0
    amount = conn.execute(
        "select amount from raw.onec_sales where recorder = %s and line_number = 1", (reposted,)
    ).fetchone()[0]
    assert amount == Decimal("1234.56")
    expected = expected_sales(world, day, day + timedelta(1))  # a fresh simulator: no changes applied
    assert conn.execute("select count(*) from raw.onec_sales").fetchone()[0] < len(expected)


def test_a_year_of_history_loads_every_row_in_one_backfill(warehouse_url, onec_env, conn, world):
    """The old integration only ever saw the newest 1,000 register rows; a year is tens of thousands."""
    first, last = SANDBOX_TODAY - timedelta(365), SANDBOX_TODAY - timedelta(1)
    result = materialize(
        [SALES],
        onec_resources(warehouse_url, onec_env),
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()},
    )
    assert result.success
    expected = expected_sales(world, first, last + timedelta(1))
    expected = [r for r in expected if OPENING_BALANCES not in r["Recorder_Type"]]
    count, total = conn.execute("select count(*), sum(amount) from raw.onec_sales").fetchone()
    assert len(expected) > 10_000
    assert count == len(expected)
    assert total == sum(Decimal(str(r["Сумма"])) for r in expected)
    days = conn.execute("select count(distinct period::date) from raw.onec_sales").fetchone()[0]
    assert days == (SANDBOX_TODAY - max(first, world.history_start)).days


def test_other_registers_load_their_day(warehouse_url, onec_env, conn):
    result = materialize(
        [CARD_SALES, BONUS_POINTS, RECEIPTS], onec_resources(warehouse_url, onec_env), partition_key=DAY
    )
    assert result.success
    for table in ("onec_card_sales", "onec_bonus_points", "onec_receipts"):
        assert conn.execute(f"select count(*) from raw.{table}").fetchone()[0] > 0
    receipts_day = conn.execute(
        "select min(document_date)::date, max(document_date)::date from raw.onec_receipts"
    ).fetchone()
    assert receipts_day == (date(2025, 3, 14), date(2025, 3, 14))


def test_opening_balances_catalogs_and_bonus_balances(warehouse_url, onec_env, conn, world):
    result = materialize([opening_balances, bonus_balances, *catalog_assets], onec_resources(warehouse_url, onec_env))
    assert result.success
    migrated = sum(len(entries) for _, entries in world.opening_balances())
    assert conn.execute("select count(*) from raw.onec_opening_balances").fetchone()[0] == migrated
    assert conn.execute("select count(*) from raw.onec_customers").fetchone()[0] == len(world.customers)
    assert conn.execute("select count(*) from raw.onec_discount_cards").fetchone()[0] == len(world.customers)
    assert conn.execute("select count(*) from raw.onec_stores").fetchone()[0] == 4
    assert conn.execute("select count(*) from raw.onec_bonus_balances").fetchone()[0] > 0
    assert conn.execute("select bool_or(deletion_mark) from raw.onec_products").fetchone()[0] is False


def test_unconfigured_source_names_the_missing_variable(warehouse_url):
    resources = {"onec": OnecResource(), "warehouse": WarehouseResource(url=warehouse_url)}
    result = materialize([SALES], resources, partition_key=DAY, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data
    assert "ONEC_API_URL" in failure.user_failure_data.description


def test_wrong_password_fails_the_asset_with_the_remedy_and_keeps_rows(warehouse_url, onec_env, conn):
    materialize([SALES], onec_resources(warehouse_url, onec_env), partition_key=DAY)
    before = sales_table(conn)
    bad = {**onec_env, "ONEC_PASSWORD": "expired"}
    result = materialize([SALES], onec_resources(warehouse_url, bad), partition_key=DAY, raise_on_error=False)
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert message.startswith("1C: 1C rejected the credentials") and "ONEC_USERNAME" in message
    assert "expired" not in message
    assert sales_table(conn) == before


@pytest.mark.parametrize("quirk", ["reject_filter_on", "reject_orderby_on"])
def test_a_set_refusing_filter_or_order_still_loads_exactly_the_day(
    warehouse_url, onec_env, onec_api, conn, world, quirk
):
    getattr(onec_api.quirks, quirk).add("AccumulationRegister_Продажи_RecordType")
    assert materialize([SALES], onec_resources(warehouse_url, onec_env), partition_key=DAY).success
    expected = expected_sales(world, date(2025, 3, 14), date(2025, 3, 15))
    assert conn.execute("select count(*) from raw.onec_sales").fetchone()[0] == len(expected)


def test_records_of_an_unexpected_type_are_quarantined_and_the_rest_load(
    warehouse_url, onec_env, onec_api, conn, world
):
    """A base edited by hand serves a line whose Сумма is text and one whose Количество is null: those two
    go to raw.load_rejects with the reason, every other line of the day loads, the run succeeds."""
    day = date(2025, 3, 14)
    report = world.shift_report_ref(PHYSICAL_STORES[0], day)
    onec_api.corrupt_line(report, 1, Сумма="двенадцать тысяч")
    onec_api.corrupt_line(report, 2, Количество=None)
    result = materialize([SALES], onec_resources(warehouse_url, onec_env), partition_key=DAY)
    assert result.success
    expected = expected_sales(world, day, day + timedelta(1))
    good = [r for r in expected if not (r["Recorder"] == report and r["LineNumber"] in (1, 2))]
    count, total = conn.execute("select count(*), sum(amount) from raw.onec_sales").fetchone()
    assert (count, total) == (len(good), sum(Decimal(str(r["Сумма"])) for r in good))
    rejects = conn.execute(
        "select partition, reason, payload -> 'record' ->> 'Recorder' from raw.load_rejects "
        "where source = 'onec/sales' order by record_no"
    ).fetchall()
    assert [(p, r) for p, r, _ in rejects] == [
        (DAY, "ValueError: not a number: 'двенадцать тысяч'"),
        (DAY, "ValueError: not a number: None"),
    ]
    assert {recorder for *_, recorder in rejects} == {report}
    assert result.asset_materializations_for_node("onec__sales")[0].metadata["rejected"].value == 2


def test_a_set_no_longer_published_fails_only_its_asset_and_keeps_its_table(warehouse_url, onec_env, onec_api, conn):
    """Someone unpublishes Catalog_Склады in 1C: the stores asset fails with one clear error naming the
    set and how to publish it; the other 1C assets of the run load; the stores table keeps its rows."""
    resources = onec_resources(warehouse_url, onec_env)
    assert materialize(catalog_assets, resources).success
    stores = "select * from raw.onec_stores order by ref_key"
    before = conn.execute(stores).fetchall()
    onec_api.quirks.unpublished.add("Catalog_Склады")
    result = materialize(catalog_assets, resources, raise_on_error=False)
    assert not result.success
    failures = {
        event.step_key: event.step_failure_data.user_failure_data.description
        for event in result.get_step_failure_events()
    }
    assert list(failures) == ["onec__stores"]
    message = failures["onec__stores"]
    assert "Catalog_Склады is not published" in message and "Настройка стандартного интерфейса OData" in message
    assert {e.step_key for e in result.get_step_success_events()} == {
        "onec__customers",
        "onec__discount_cards",
        "onec__products",
    }
    assert conn.execute(stores).fetchall() == before
