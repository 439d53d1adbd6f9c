"""Every mart against hand-computed figures on a small fixed dataset (tests/marts_fixture.py), built by a
real `dbt build` (its own tests included), once for the module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml
from marts_fixture import C1, C2, CENTRUM, D1, D2, K1, ONLINE, P1, YALTA, at, load_fixture
from sales_exports import pairs_pivot, quantity_pivot, write_sheet

from glame_pipelines.clients.sales_files import read
from glame_pipelines.defs.onec_files.assets import import_sales_file
from glame_pipelines.warehouse.connection import dbt_env, with_database

ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(url: str, *args: str, target: Path, window: tuple[date, date] | None = None) -> subprocess.CompletedProcess:
    """dbt against the database at `url`; `window`: the run's days passed as Dagster passes them."""
    env = {**os.environ, **dbt_env(url)}
    if window:
        env.update(GLAME_DBT_START_DATE=str(window[0]), GLAME_DBT_END_DATE=str(window[1]))
    return subprocess.run(
        [
            DBT,
            *args,
            "--project-dir",
            str(ROOT / "dbt_project"),
            "--profiles-dir",
            str(ROOT / "dbt_project"),
            "--target-path",
            str(target),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def marts(pg_server_url, tmp_path_factory):
    name = f"glame_marts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = with_database(pg_server_url, name)
    target = tmp_path_factory.mktemp("dbt-target")
    with psycopg.connect(url, autocommit=True) as conn:
        load_fixture(conn)
        build = dbt(url, "build", target=target)
        assert build.returncode == 0, build.stdout[-4000:]
        yield {"conn": conn, "url": url, "target": target, "build": build}
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


def rows(conn, query: str, *params) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def test_dbt_build_ran_every_test(marts):
    """Singular tests and the unit tests (which Dagster's builds leave out: they prove the models' code on
    fixed inputs, so they run here)."""
    assert "ERROR=0" in marts["build"].stdout and "PASS=" in marts["build"].stdout
    tests = {path.stem for path in (ROOT / "dbt_project" / "tests").glob("*.sql")}
    assert tests and all(f"PASS {name}" in marts["build"].stdout for name in tests)  # multi-parent ones too
    unit_tests = {
        f"{test['model']}::{test['name']}"
        for doc in (ROOT / "dbt_project" / "models").rglob("*.yml")
        for test in (yaml.safe_load(doc.read_text()) or {}).get("unit_tests", [])
    }
    assert len(unit_tests) >= 8 and all(f"PASS {name} " in marts["build"].stdout for name in unit_tests)


def test_sales_daily_revenue_with_returns_and_order_counts(marts):
    got = rows(
        marts["conn"],
        "select sale_date, store_key, channel, revenue, returns_amount, order_count, "
        "order_count_source, items_sold, average_order_value, discount_amount, "
        "non_merchandise_revenue from marts.sales_daily order by 1, 2",
    )
    assert got == sorted(
        [
            (
                D1,
                CENTRUM,
                "offline",
                Decimal(5050),
                Decimal(5000),
                2,
                "receipts",
                Decimal(2),
                Decimal("2525.00"),
                Decimal(500),
                Decimal(50),
            ),
            (
                D1,
                YALTA,
                "offline",
                Decimal(7000),
                Decimal(0),
                1,
                "documents",
                Decimal(1),
                Decimal("7000.00"),
                Decimal(0),
                Decimal(0),
            ),
            (
                D1,
                ONLINE,
                "online",
                Decimal(4000),
                Decimal(0),
                1,
                "documents",
                Decimal(1),
                Decimal("4000.00"),
                Decimal(0),
                Decimal(0),
            ),
            (
                D2,
                CENTRUM,
                "offline",
                Decimal(3000),
                Decimal(0),
                1,
                "documents",
                Decimal(1),
                Decimal("3000.00"),
                Decimal(0),
                Decimal(0),
            ),
        ],
        key=lambda row: (row[0], row[1]),
    )


def test_store_traffic_day_without_a_counter_file_is_null_not_zero(marts):
    got = {
        (r[0], r[1]): r[2:]
        for r in rows(
            marts["conn"],
            "select visit_date, counter_folder, visitors, visitors_out, receipts, revenue, conversion, "
            "revenue_per_visitor, has_counter_data from marts.store_traffic_daily",
        )
    }
    assert got[(D1, "CENTRUM")] == (100, 98, 2, Decimal(5050), Decimal("0.0200"), Decimal("50.50"), True)
    assert got[(D1, "YALTA")] == (None, None, None, Decimal(7000), None, None, False)
    assert got[(D2, "CENTRUM")][0] is None and got[(D2, "CENTRUM")][-1] is False


def test_customer_with_migrated_history(marts):
    got = {
        r[0]: r[1:]
        for r in rows(
            marts["conn"],
            "select customer_key, phone, card_number, city, orders, items, lifetime_revenue, "
            "migrated_revenue, has_migrated_history, average_check, bonus_balance, segment "
            "from marts.customer_profile",
        )
    }
    assert got[C1] == (
        "+79781234567",
        "79781234567",
        "Ялта",
        2,
        Decimal(7),
        Decimal(44050),
        Decimal(30000),
        True,
        Decimal("7025.00"),
        Decimal(300),
        got[C1][-1],
    )
    assert got[C2] == (
        "+79787654321",
        None,
        "Керчь",
        0,
        Decimal(1),
        Decimal(12000),
        Decimal(12000),
        True,
        None,
        Decimal(0),
        "history_only",
    )
    first, last = rows(
        marts["conn"],
        "select first_purchase_at, last_purchase_at from marts.customer_profile where customer_key = %s",
        C1,
    )[0]
    assert (first.hour, last.hour) == (12, 14)  # the migration's placeholder date is not a purchase date


def test_customer_purchases_count_each_line_once(marts):
    got = rows(
        marts["conn"],
        "select customer_key, document_ref, is_migrated, amount, store_key "
        "from marts.customer_purchases order by 1, 2, amount",
    )
    assert got == [
        (C1, "ob1", True, Decimal(30000), CENTRUM),
        (C1, "ord1", False, Decimal(4000), ONLINE),
        (C1, "r1", False, Decimal(50), CENTRUM),
        (C1, "r1", False, Decimal(10000), CENTRUM),
        (C2, "ob1", True, Decimal(12000), CENTRUM),
    ]


def test_unified_daily(marts):
    got = rows(
        marts["conn"],
        "select web_visits, web_users, instagram_reach, instagram_engagement, "
        "instagram_followers, vk_reach, vk_engagement, vk_members, telegram_subscribers, "
        "store_visitors, revenue, orders, average_order_value, store_conversion "
        "from marts.unified_daily where date = %s",
        D1,
    )
    assert got == [
        (50, 40, 500, 70, 1000, 300, 14, 1500, 200, 100, Decimal(16050), 4, Decimal("4012.50"), Decimal("0.0200"))
    ]


def test_web_traffic_and_social(marts):
    web = rows(
        marts["conn"],
        "select traffic_source, visits, bounce_rate, page_depth, ecommerce_revenue "
        "from marts.web_traffic_daily order by 1",
    )
    assert web == [
        ("Direct traffic", 20, Decimal("50.00"), Decimal("2.00"), None),
        ("Search engine traffic", 30, Decimal("20.00"), Decimal("3.00"), Decimal(4000)),
    ]
    social = rows(
        marts["conn"], "select platform, metric_type, followers, reach, views from marts.social_daily order by 1, 2"
    )
    assert social == [
        ("instagram", "account", 1000, 500, 900),
        ("telegram", "account", 200, None, None),
        ("vk", "account", 1500, 300, 100),
        ("vk", "post", None, None, None),
    ]


def test_sales_monthly_takes_files_only_where_the_api_is_silent(marts):
    assert rows(marts["conn"], "select month::text, revenue, source from marts.sales_monthly order by 1") == [
        ("2025-02-01", Decimal(9000), "file"),
        ("2025-03-01", Decimal(19050), "api"),
    ]


def test_bi_role_reads_marts_only(marts):
    conn = marts["conn"]
    assert rows(
        conn,
        "select has_table_privilege('glame_bi', 'marts.sales_daily', 'select'), "
        "has_table_privilege('glame_bi', 'raw.onec_sales', 'select')",
    ) == [(True, False)]


def test_rebuild_is_idempotent_and_reflects_a_deleted_document(marts):
    conn = marts["conn"]
    before = {m: rows(conn, f"select * from marts.{m} order by 1, 2") for m in ("sales_daily", "unified_daily")}
    again = dbt(marts["url"], "build", "--select", "marts", target=marts["target"])
    assert again.returncode == 0, again.stdout[-3000:]
    assert {m: rows(conn, f"select * from marts.{m} order by 1, 2") for m in before} == before
    conn.execute("delete from raw.onec_sales where recorder = 'sr2'")  # the Yalta shift report, deleted in 1C
    window = json.dumps({"start_date": str(D1), "end_date": str(D1)})
    rebuilt = dbt(marts["url"], "build", "--select", "+sales_daily+", "--vars", window, target=marts["target"])
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert rows(conn, "select count(*) from marts.sales_daily where store_key = %s", YALTA) == [(0,)]
    assert rows(conn, "select revenue from marts.sales_daily where sale_date = %s and store_key = %s", D2, CENTRUM) == [
        (Decimal(3000),)
    ]


def test_rebuilding_a_staging_view_keeps_the_views_built_on_it(marts):
    """dbt's default swap drops the old view with `cascade`, taking every view built on it: a models run that
    rebuilt stg_onec__products dropped int_sales_lines_enriched, which another run had built and a third read.
    The project's view materialization replaces a view in place when its columns keep their shape."""
    conn = marts["conn"]
    oid = rows(conn, "select 'intermediate.int_sales_lines_enriched'::regclass::oid")
    conn.execute("comment on view staging.stg_onec__products is null")  # no fingerprint: it is rebuilt
    again = dbt(marts["url"], "run", "--select", "stg_onec__products", target=marts["target"])
    assert again.returncode == 0, again.stdout[-3000:]
    assert rows(conn, "select to_regclass('intermediate.int_sales_lines_enriched')::oid") == oid  # the same view
    assert rows(conn, "select count(*) > 0 from intermediate.int_sales_lines_enriched") == [(True,)]


@pytest.fixture
def built(pg_server_url, tmp_path):
    """A database of its own with the fixture loaded and fully built: for tests that change the source."""
    name = f"glame_marts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = with_database(pg_server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        load_fixture(conn)
        build = dbt(url, "build", target=tmp_path)
        assert build.returncode == 0, build.stdout[-4000:]
        yield {"conn": conn, "url": url, "target": tmp_path}
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


def test_a_view_that_would_come_out_the_same_is_not_rebuilt(built):
    """A build leaves a view alone when its SQL and the columns of what it reads are unchanged (no DDL, no
    lock the dashboards' queries would wait on); a column added to the raw table it reads rebuilds it."""
    conn = built["conn"]
    rule = "select xmin::text from pg_rewrite where ev_class = 'staging.stg_onec__products'::regclass"

    def build() -> None:
        result = dbt(built["url"], "run", "--select", "stg_onec__products", target=built["target"])
        assert result.returncode == 0, result.stdout[-3000:]

    build()
    made = rows(conn, rule)
    build()
    assert rows(conn, rule) == made  # the view's rule was not rewritten
    conn.execute("alter table raw.onec_products add column glame_probe text")
    build()
    assert rows(conn, rule) != made
    assert rows(conn, "select count(*) > 0 from staging.stg_onec__products") == [(True,)]


WINDOWED = (
    "marts.sales_daily",
    "marts.sales_monthly",
    "marts.store_traffic_daily",
    "marts.unified_daily",
    "marts.customer_purchases",
    "marts.customer_profile",
    "marts.customer_activity_daily",
    "intermediate.int_document_stores",
    "intermediate.int_customer_totals",
)


def snapshot(conn) -> dict[str, list[tuple]]:
    return {table: sorted(rows(conn, f"select * from {table}"), key=repr) for table in WINDOWED}


def test_window_builds_give_what_a_full_rebuild_gives(built):
    """New sales, a deleted order and a receipt re-dated in 1C, then a build of the window only: every
    incremental table ends exactly as a full rebuild from scratch makes it."""
    conn = built["conn"]
    conn.execute("delete from raw.onec_sales where recorder = 'ord1'")  # C1's online order, deleted in 1C
    for table, column in (("onec_receipts", "document_date"), ("onec_card_sales", "period")):
        conn.execute(
            f"update raw.{table} set {column} = %s where {'ref' if table == 'onec_receipts' else 'recorder'} = 'r1'",
            (at(D2, 12),),
        )  # the receipt moved to the next day
    conn.execute(
        "insert into raw.onec_card_sales (recorder, line_number, recorder_type, period, active, card_key, "
        "owner_key, product_key, quantity, amount, discount, payload) values ('r9', 1, "
        "'StandardODATA.Document_ЧекККМ', %s, true, 'k2', %s, %s, 1, 2000, 100, '{}')",
        (at(D2, 15), C2, P1),
    )
    conn.execute(
        "insert into raw.onec_receipts (ref, document_type, document_date, customer_key, store_key, amount, "
        "payload) values ('r9', 'StandardODATA.Document_ЧекККМ', %s, %s, %s, 2000, '{}')",
        (at(D2, 15), C2, YALTA),
    )
    conn.execute(
        "insert into raw.onec_sales (recorder, line_number, recorder_type, period, active, store_key, "
        "product_key, quantity, amount, payload) values ('sr4', 1, %s, %s, true, %s, %s, 1, 2000, '{}')",
        ("StandardODATA.Document_ОтчетОРозничныхПродажах", at(D2, 22), YALTA, P1),
    )

    window = json.dumps({"start_date": str(D1), "end_date": str(D2)})
    incremental = dbt(built["url"], "build", "--vars", window, target=built["target"])
    assert incremental.returncode == 0, incremental.stdout[-4000:]
    after_window = snapshot(conn)
    full = dbt(built["url"], "build", "--full-refresh", target=built["target"])
    assert full.returncode == 0, full.stdout[-4000:]
    assert after_window == snapshot(conn)

    purchases = rows(
        conn,
        "select customer_key, document_ref, purchase_date, store_key from marts.customer_purchases "
        "where not is_migrated order by 1, 2",
    )
    assert purchases == [(C1, "r1", D2, CENTRUM), (C1, "r1", D2, CENTRUM), (C2, "r9", D2, YALTA)]
    assert rows(
        conn, "select customer_key, orders, segment <> 'history_only' from marts.customer_profile order by 1"
    ) == [(C1, 1, True), (C2, 1, True)]


def test_a_first_purchase_deleted_in_the_window_relabels_the_days_after_it(built):
    """customer_activity_daily rebuilds from the window's first day on: when the lines of a customer's first
    day are deleted in 1C, the next day they bought on becomes their first, and a build of the first day's
    window alone must relabel it 'new', exactly as a full rebuild does."""
    conn = built["conn"]
    conn.execute(
        "insert into raw.onec_card_sales (recorder, line_number, recorder_type, period, active, card_key, "
        "owner_key, product_key, quantity, amount, discount, payload) values ('r8', 1, "
        "'StandardODATA.Document_ЧекККМ', %s, true, %s, %s, %s, 1, 3000, 0, '{}')",
        (at(D2, 11), K1, C1, P1),
    )
    conn.execute(
        "insert into raw.onec_receipts (ref, document_type, document_date, customer_key, store_key, amount, "
        "payload) values ('r8', 'StandardODATA.Document_ЧекККМ', %s, %s, %s, 3000, '{}')",
        (at(D2, 11), C1, CENTRUM),
    )
    second_day = dbt(built["url"], "build", target=built["target"], window=(D2, D2))
    assert second_day.returncode == 0, second_day.stdout[-4000:]
    activity = "select date, customer_type, customers from marts.customer_activity_daily order by 1, 2"
    assert (D2, "returning", 1) in rows(conn, activity)

    conn.execute("delete from raw.onec_sales where recorder = 'ord1'")
    conn.execute("delete from raw.onec_card_sales where recorder = 'r1'")
    conn.execute("delete from raw.onec_receipts where ref = 'r1'")
    first_day = dbt(built["url"], "build", target=built["target"], window=(D1, D1))
    assert first_day.returncode == 0, first_day.stdout[-4000:]
    after_window = rows(conn, activity)
    assert (D2, "new", 1) in after_window and (D2, "returning", 1) not in after_window
    full = dbt(built["url"], "build", "--full-refresh", target=built["target"])
    assert full.returncode == 0, full.stdout[-4000:]
    assert rows(conn, activity) == after_window


def test_a_window_build_tests_its_window(built):
    """dbt tests of incremental marts look at the run's window (the days before were tested when built);
    without a window they look at everything."""
    conn = built["conn"]
    conn.execute("insert into marts.sales_daily select * from marts.sales_daily where sale_date = %s", (D1,))

    def test_sales_daily(*extra: str) -> subprocess.CompletedProcess:
        return dbt(built["url"], "test", "--select", "sales_daily", *extra, target=built["target"])

    on_d2 = test_sales_daily("--vars", json.dumps({"start_date": str(D2), "end_date": str(D2)}))
    assert on_d2.returncode == 0, on_d2.stdout[-3000:]
    on_d1 = test_sales_daily("--vars", json.dumps({"start_date": str(D1), "end_date": str(D1)}))
    assert on_d1.returncode == 1 and "unique_combination_sales_daily" in on_d1.stdout
    assert test_sales_daily().returncode == 1


def test_a_window_from_the_environment_is_the_same_window_and_keeps_partial_parsing(built):
    """Dagster passes the run's days in GLAME_DBT_START_DATE/END_DATE: the same window as the vars, and a new
    day's build re-parses only what reads them (new vars made dbt parse the whole project every time)."""
    conn = built["conn"]
    conn.execute("insert into marts.sales_daily select * from marts.sales_daily where sale_date = %s", (D1,))

    def test_sales_daily(day: date) -> subprocess.CompletedProcess:
        return dbt(built["url"], "test", "--select", "sales_daily", target=built["target"], window=(day, day))

    on_d2, on_d1 = test_sales_daily(D2), test_sales_daily(D1)
    assert on_d2.returncode == 0, on_d2.stdout[-3000:]
    assert on_d1.returncode == 1 and "unique_combination_sales_daily" in on_d1.stdout
    assert "Unable to do partial parsing" not in on_d1.stdout, on_d1.stdout[:3000]


def overlapping_exports(folder: Path) -> list[Path]:
    """Three exports of 2024 as the brand keeps them: the history pivot, a corrected re-export of Feb–Mar
    saved as .xls, and a quantity-only .xls of Mar–May (May in the header, nothing sold)."""
    ring, pearl, geometry = (
        "Кольцо Iris (роз.), шт, 77017-G/17,5 ",
        "Серьги Pearl (культивированный жемчуг, перламутр), шт, GL10020-G",
        "Кольцо Geometry, , 74063-G",
    )
    jan, feb, mar, apr, may = (date(2024, m, 1) for m in range(1, 6))
    return [
        write_sheet(
            folder / "history.xlsx",
            pairs_pivot([jan, feb, mar], [(ring, [1, 1000, 2, 2000, 3, 3000]), (pearl, [1, 500, None, None, 1, 500])]),
        ),
        write_sheet(
            folder / "history.xls",
            pairs_pivot([feb, mar], [(ring, [2, 2100, 4, 4200]), (geometry, [1, 700, None, None])]),
        ),
        write_sheet(
            folder / "units.xls", quantity_pivot([mar, apr, may], [(ring, [5, 6, None]), (pearl, [1, None, None])])
        ),
    ]


def by_the_rule(files: list[Path]) -> dict[date, tuple]:
    """sales_monthly's file rule computed in Python from the files as read, in load order: for each month
    and measure, the last loaded file carrying it gives that measure; no file carrying it, null."""
    parsed = [read(path) for path in files]
    result = {}
    for month in sorted({m for f in parsed for m in f.months}):

        def newest(measure: str, month=month) -> tuple:
            chosen = next((f for f in reversed(parsed) if measure in f.months.get(month, ())), None)
            if chosen is None:
                return None, None
            total = sum((getattr(r, measure) or 0) for r in chosen.rows if r.period_start == month)
            return Decimal(total), chosen.name

        (revenue, revenue_file), (items, items_file) = newest("amount"), newest("quantity")
        result[month] = (revenue, items, revenue_file, items_file)
    return result


@pytest.mark.parametrize("order", ["oldest first", "newest first"])
def test_sales_monthly_takes_the_newest_export_per_month_and_measure(order, warehouse_url, tmp_path):
    """Two exports of the same months used to double them. Loaded in either order, each month's revenue
    and units come from the last loaded file that carries them; the older files stay in raw. The dbt test
    that recomputes the rule fails on a doubled month."""
    files = overlapping_exports(tmp_path)
    files = files if order == "oldest first" else files[::-1]
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        load_fixture(conn)  # API sales in March 2025 and a legacy pivot of Feb–Mar 2025: both rules together
        for path in files:
            assert import_sales_file(conn, path, "test")[1]
        build = dbt(
            warehouse_url,
            "build",
            "--select",
            "+sales_monthly",
            "--indirect-selection",
            "cautious",
            target=tmp_path / "target",
        )
        assert build.returncode == 0, build.stdout[-4000:]
        got = {
            month: tuple(values)
            for month, *values in rows(
                conn,
                "select month, revenue, items_sold, revenue_file, items_sold_file from marts.sales_monthly "
                "where month < '2025-01-01' order by 1",
            )
        }
        expected = {
            "oldest first": {
                date(2024, 1, 1): (1500, 2, "history.xlsx", "history.xlsx"),
                date(2024, 2, 1): (2800, 3, "history.xls", "history.xls"),
                date(2024, 3, 1): (4200, 6, "history.xls", "units.xls"),
                date(2024, 4, 1): (None, 6, None, "units.xls"),
                date(2024, 5, 1): (None, 0, None, "units.xls"),
            },
            "newest first": {
                date(2024, 1, 1): (1500, 2, "history.xlsx", "history.xlsx"),
                date(2024, 2, 1): (2000, 2, "history.xlsx", "history.xlsx"),
                date(2024, 3, 1): (3500, 4, "history.xlsx", "history.xlsx"),
                date(2024, 4, 1): (None, 6, None, "units.xls"),
                date(2024, 5, 1): (None, 0, None, "units.xls"),
            },
        }[order]
        assert got == {m: tuple(v) for m, v in by_the_rule(files).items()} == expected
        assert rows(
            conn, "select month::text, revenue, source from marts.sales_monthly where month >= '2025-01-01' order by 1"
        ) == [("2025-02-01", Decimal(9000), "file"), ("2025-03-01", Decimal(19050), "api")]
        assert rows(conn, "select count(distinct file_hash) from raw.onec_sales_files") == [(4,)]  # all kept

        if order == "newest first":
            return  # the dbt test's teeth are shown once, below
        conn.execute("update marts.sales_monthly set revenue = revenue * 2 where month = '2024-02-01'")
        check = dbt(
            warehouse_url,
            "test",
            "--select",
            "assert_sales_monthly_counts_the_newest_file_per_measure",
            target=tmp_path / "target",
        )
        assert check.returncode == 1 and "FAIL 1" in check.stdout, check.stdout[-3000:]
