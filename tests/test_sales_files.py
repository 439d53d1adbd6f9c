"""1C sales files: the Excel pivots by month (.xlsx and .xls, both layouts), row files, re-imports that add
nothing, the inbox sensor."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from openpyxl import Workbook
from sales_exports import HEADER, pairs_pivot, quantity_pivot, write_sheet

from glame_pipelines.clients.sales_files import SalesFileError, read, split_label
from glame_pipelines.defs.onec_files.assets import InboxResource, import_sales_file, sales, sales_inbox_sensor
from glame_pipelines.defs.warehouse import WarehouseResource

ROOT = Path(__file__).resolve().parents[1]


def make_pivot(path: Path) -> Path:
    """The brand's layout: months as Excel serial dates in row 1 spanning Количество|Сумма, products below."""
    book = Workbook()
    sheet = book.active
    sheet["A1"] = "Номенклатура, Единица, Артикул"
    sheet["B1"], sheet["D1"] = 45658, datetime(2025, 2, 1)  # 45658 is 2025-01-01 as an Excel serial
    sheet["B2"], sheet["C2"], sheet["D2"], sheet["E2"] = "Количество", "Сумма", "Количество", "Сумма"
    sheet.append(["Чокер Crystal, шт, 73023", 3, 8700, -1, -2900])
    sheet.append(["Серьги Luna, позолота, пара, 51234", 2, 9800, None, None])
    sheet.append(["Кольцо Vega, шт, 11111", "два", 100, 1, 3100])
    sheet.append(["Итого", 5, 18500, 0, 200])
    book.save(path)
    return path


def test_pivot_layout_becomes_monthly_rows(tmp_path):
    parsed = read(make_pivot(tmp_path / "history.xlsx"))
    assert parsed.layout == "xlsx_pivot"
    rows = {(r.product, r.article, r.period_start): (r.quantity, r.amount) for r in parsed.rows}
    assert rows == {
        ("Чокер Crystal", "73023", date(2025, 1, 1)): (Decimal(3), Decimal(8700)),
        ("Чокер Crystal", "73023", date(2025, 2, 1)): (Decimal(-1), Decimal(-2900)),  # a return
        ("Серьги Luna, позолота", "51234", date(2025, 1, 1)): (Decimal(2), Decimal(9800)),
        ("Кольцо Vega", "11111", date(2025, 2, 1)): (Decimal(1), Decimal(3100)),
    }
    assert all(r.period_end == date(2025, r.period_start.month + 1, 1) for r in parsed.rows)
    assert [reason for _, reason, _ in parsed.rejects] == ["'два' is not a number"]


def test_row_files_csv_and_json(tmp_path):
    csv_file = tmp_path / "march.csv"
    csv_file.write_text(
        "Дата;Номенклатура;Артикул;Количество;Сумма;Склад\n01.03.2025;Чокер Crystal;73023;1;2 900,00;Ялта\n"
        "нет даты;Кольцо;1;1;1;Ялта\n",
        encoding="cp1251",
    )
    parsed = read(csv_file)
    assert [(r.period_start, r.amount, r.store) for r in parsed.rows] == [
        (date(2025, 3, 1), Decimal("2900.00"), "Ялта")
    ]
    assert len(parsed.rejects) == 1
    json_file = tmp_path / "april.json"
    json_file.write_text('[{"date": "2025-04-02", "product": "Серьги", "article": "1", "quantity": 2, "amount": 5000}]')
    assert read(json_file).rows[0].amount == Decimal(5000)


def test_the_same_file_twice_adds_nothing(tmp_path, conn):
    """The old importer duplicated every row on each run."""
    pivot = make_pivot(tmp_path / "history.xlsx")
    _, new = import_sales_file(conn, pivot, "r1")
    before = conn.execute("select * from raw.onec_sales_files order by row_no").fetchall()
    copy = tmp_path / "history (1).xlsx"
    copy.write_bytes(pivot.read_bytes())
    _, again = import_sales_file(conn, copy, "r2")
    assert new and not again
    assert conn.execute("select * from raw.onec_sales_files order by row_no").fetchall() == before
    assert conn.execute("select sum(amount) from raw.onec_sales_files").fetchone()[0] == Decimal(18700)
    assert conn.execute("select count(*) from raw.load_rejects where source = 'onec_files/sales'").fetchone()[0] == 1


def test_inbox_sensor_waits_for_a_settled_file_and_the_asset_imports_it(tmp_path, warehouse_url, conn):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    resource = InboxResource(directory=str(inbox))
    context = dg.build_sensor_context(resources={"inbox": resource})
    assert not sales_inbox_sensor(context).run_requests
    make_pivot(inbox / "history.xlsx")
    first = sales_inbox_sensor(dg.build_sensor_context(resources={"inbox": resource}))
    assert not first.run_requests
    second = sales_inbox_sensor(dg.build_sensor_context(cursor=first.cursor, resources={"inbox": resource}))
    assert len(second.run_requests) == 1 and "history.xlsx" in second.run_requests[0].run_key
    result = dg.materialize(
        [sales],
        resources={"inbox": resource, "warehouse": WarehouseResource(url=warehouse_url)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert conn.execute("select count(*) from raw.onec_sales_files").fetchone()[0] == 4


def test_glame_import_sales_command(tmp_path, warehouse_url):
    pivot = make_pivot(tmp_path / "history.xlsx")
    env = {
        "GLAME_WAREHOUSE_URL": warehouse_url,
        "GLAME_DAGSTER_PG_URL": "postgresql+psycopg2://unused/none",
        "PATH": "/usr/bin:/bin",
    }

    def run():
        return subprocess.run(
            [sys.executable, "-m", "glame_pipelines.cli", "import-sales", str(pivot)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first, second = run(), run()
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith("OK") and "4 rows (xlsx_pivot), 1 rejected, total 18,700.00" in first.stdout
    assert second.stdout.startswith("SAME") and "nothing added" in second.stdout


@pytest.mark.parametrize("name", ["notes.docx", "broken.json"])
def test_unsupported_or_broken_files_are_reported(tmp_path, name):
    path = tmp_path / name
    path.write_text("{not json")
    with pytest.raises(SalesFileError, match=r"unsupported file type|not valid JSON"):
        read(path)


RING = "Кольцо Iris (роз.), шт, 77017-G/17,5   "  # a decimal comma in the article, trailing spaces
PEARL = "Серьги Pearl (культивированный жемчуг, перламутр), шт, GL10020-G"  # commas inside the name
GEOMETRY = "Кольцо Geometry, , 74063-G"  # no unit
JAN, FEB, MAR = datetime(2025, 1, 1), datetime(2025, 2, 1), datetime(2025, 3, 1)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_pairs_pivot_in_xlsx_and_xls(tmp_path, suffix):
    """.xls was refused as an unsupported type; both formats read the Количество | Сумма layout alike."""
    table = pairs_pivot(
        [JAN, FEB],
        [(RING, [2, 9800, None, None]), (PEARL, [1, 12500, -1, -12500]), (GEOMETRY, [None, None, 3, 8700.5])],
    )
    parsed = read(write_sheet(tmp_path / f"pairs{suffix}", table))
    assert parsed.layout == f"{suffix[1:]}_pivot"
    assert sorted((r.product, r.unit, r.article, r.period_start, r.quantity, r.amount) for r in parsed.rows) == sorted(
        [
            ("Кольцо Iris (роз.)", "шт", "77017-G/17,5", date(2025, 1, 1), Decimal(2), Decimal(9800)),
            (
                "Серьги Pearl (культивированный жемчуг, перламутр)",
                "шт",
                "GL10020-G",
                date(2025, 1, 1),
                Decimal(1),
                Decimal(12500),
            ),
            (
                "Серьги Pearl (культивированный жемчуг, перламутр)",
                "шт",
                "GL10020-G",
                date(2025, 2, 1),
                Decimal(-1),
                Decimal(-12500),
            ),
            ("Кольцо Geometry", None, "74063-G", date(2025, 2, 1), Decimal(3), Decimal("8700.5")),
        ]
    )
    assert parsed.rejects == []
    assert parsed.months == {date(2025, 1, 1): {"quantity", "amount"}, date(2025, 2, 1): {"quantity", "amount"}}


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_quantity_only_pivot_has_null_amounts(tmp_path, suffix):
    """A month in every column and no measure row was read as pairs: every second month's units became
    "amounts" and the rest were rejected as "quantity without an amount"."""
    table = quantity_pivot(
        [JAN, FEB, MAR], [(RING, [2, 5, 1]), (PEARL, [None, 4, -1]), (GEOMETRY, [7, None, None]), ("Итого", [9, 9, 0])]
    )
    parsed = read(write_sheet(tmp_path / f"units{suffix}", table))
    assert parsed.layout == f"{suffix[1:]}_pivot_quantity"
    assert parsed.rejects == []
    assert all(r.amount is None for r in parsed.rows)  # unknown, never 0, never another month's units
    got = {(r.article, r.period_start): r.quantity for r in parsed.rows}
    assert got == {
        ("77017-G/17,5", date(2025, 1, 1)): 2,
        ("77017-G/17,5", date(2025, 2, 1)): 5,
        ("77017-G/17,5", date(2025, 3, 1)): 1,
        ("GL10020-G", date(2025, 2, 1)): 4,
        ("GL10020-G", date(2025, 3, 1)): -1,
        ("74063-G", date(2025, 1, 1)): 7,
    }
    assert parsed.months == {m.date(): {"quantity"} for m in (JAN, FEB, MAR)}


def test_xls_is_a_genuine_excel_97_2003_workbook(tmp_path):
    """The .xls the tests make is BIFF in an OLE2 compound file (what Excel 97-2003 and 1C write), not a
    renamed .xlsx: the reader goes through xlrd's BIFF parser."""
    path = write_sheet(tmp_path / "units.xls", quantity_pivot([JAN], [(RING, [1])]))
    assert path.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    renamed = tmp_path / "renamed.xls"
    renamed.write_bytes(write_sheet(tmp_path / "real.xlsx", quantity_pivot([JAN], [(RING, [1])])).read_bytes())
    with pytest.raises(SalesFileError, match="Excel 97-2003"):
        read(renamed)


@pytest.mark.parametrize(
    "label, expected",
    [
        (PEARL, ("Серьги Pearl (культивированный жемчуг, перламутр)", "шт", "GL10020-G")),
        (RING, ("Кольцо Iris (роз.)", "шт", "77017-G/17,5")),
        (GEOMETRY, ("Кольцо Geometry", None, "74063-G")),
        ("Кольцо Geometry,, 74063-G", ("Кольцо Geometry", None, "74063-G")),
        ("Чокер Crystal, шт, 73023", ("Чокер Crystal", "шт", "73023")),
        ("Пакет подарочный, шт, ", ("Пакет подарочный", "шт", None)),
        ("Сертификат", ("Сертификат", None, None)),
    ],
)
def test_label_splits_on_comma_space_from_the_right(label, expected):
    """The ring used to become name `Кольцо Iris (роз.), шт`, unit `77017-G/17`, article `5`."""
    assert split_label(label) == expected


def test_month_headers_as_text_and_a_totals_column(tmp_path):
    table = pairs_pivot(["Январь 2025", "февраль 2025 г."], [(RING, [1, 100, 2, 200])])
    table[0] += ["Итого", None]
    table[1] += ["Количество", "Сумма"]
    table[2] += [3, 300]
    parsed = read(write_sheet(tmp_path / "text.xlsx", table))
    assert {(r.period_start, r.quantity, r.amount) for r in parsed.rows} == {
        (date(2025, 1, 1), 1, 100),
        (date(2025, 2, 1), 2, 200),
    }


def test_months_every_second_column_without_a_measure_row_is_refused(tmp_path):
    """Guessing would turn units into amounts or the reverse: the file is refused with the reason."""
    table = [[HEADER, JAN, None, FEB, None], [RING, 1, 100, 2, 200]]
    with pytest.raises(SalesFileError, match="row 2 does not label the measures"):
        read(write_sheet(tmp_path / "ambiguous.xlsx", table))


def test_import_sales_reports_a_quantity_only_xls(tmp_path, warehouse_url):
    path = write_sheet(tmp_path / "units.xls", quantity_pivot([JAN, FEB], [(RING, [2, 5]), (GEOMETRY, [1, None])]))
    env = {
        "GLAME_WAREHOUSE_URL": warehouse_url,
        "GLAME_DAGSTER_PG_URL": "postgresql+psycopg2://unused/none",
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(
        [sys.executable, "-m", "glame_pipelines.cli", "import-sales", str(path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (
        "OK   " + str(path) + ": loaded; 3 rows (xls_pivot_quantity), 0 rejected, no amounts (quantity only), "
        "8 units, months 2025-01..2025-02"
    ) in run.stdout
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*), count(amount) from raw.onec_sales_files").fetchone() == (3, 0)
        assert conn.execute(
            "select month, has_quantity, has_amount from raw.onec_sales_file_months order by 1"
        ).fetchall() == [(date(2025, 1, 1), True, False), (date(2025, 2, 1), True, False)]


def test_inbox_loads_files_dropped_together_oldest_first(tmp_path, warehouse_url, conn):
    """The inbox used to load in name order, so of two exports of a month dropped at once the one whose
    name sorted last won, whatever its age. Now the most recently saved file is loaded last."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    newer = write_sheet(inbox / "a-correction.xls", pairs_pivot([JAN], [(RING, [2, 2000])]))
    older = write_sheet(inbox / "b-history.xlsx", pairs_pivot([JAN], [(RING, [1, 1000])]))
    os.utime(older, (1_700_000_000, 1_700_000_000))
    os.utime(newer, (1_700_000_600, 1_700_000_600))
    resource = InboxResource(directory=str(inbox))
    assert [p.name for p in resource.files()] == ["b-history.xlsx", "a-correction.xls"]
    result = dg.materialize(
        [sales],
        resources={"inbox": resource, "warehouse": WarehouseResource(url=warehouse_url)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert conn.execute("select file_name from raw.onec_sales_file_months order by _loaded_at").fetchall() == [
        ("b-history.xlsx",),
        ("a-correction.xls",),
    ]


def test_a_month_without_its_measure_labels_is_refused(tmp_path):
    """Its cells would otherwise be dropped without a word."""
    table = [[HEADER, JAN, None, FEB], [None, "Количество", "Сумма", None], [RING, 1, 100, 2]]
    with pytest.raises(SalesFileError, match="no Количество or Сумма under 2025-02"):
        read(write_sheet(tmp_path / "half.xlsx", table))


def test_xls_row_file(tmp_path):
    """An .xls without the pivot header is read as rows, like an .xlsx."""
    table = [
        ["Дата", "Номенклатура", "Артикул", "Количество", "Сумма", "Склад"],
        [datetime(2025, 3, 1), "Чокер Crystal", "73023", 1, 2900.5, "Ялта"],
    ]
    parsed = read(write_sheet(tmp_path / "march.xls", table))
    assert parsed.layout == "xls"
    assert [(r.period_start, r.article, r.quantity, r.amount, r.store) for r in parsed.rows] == [
        (date(2025, 3, 1), "73023", 1, Decimal("2900.5"), "Ялта")
    ]
    assert parsed.months == {date(2025, 3, 1): {"quantity", "amount"}}


def test_quantity_only_pivot_with_a_measure_row(tmp_path):
    """Units only, but with `Количество` under each month: the measure row decides, amounts stay null."""
    table = [[HEADER, JAN, FEB], [None, "Количество", "Количество"], [RING, 2, 5]]
    parsed = read(write_sheet(tmp_path / "units.xls", table))
    assert parsed.layout == "xls_pivot_quantity"
    assert [(r.period_start, r.quantity, r.amount) for r in parsed.rows] == [
        (date(2025, 1, 1), 2, None),
        (date(2025, 2, 1), 5, None),
    ]
