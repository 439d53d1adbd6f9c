"""1C sales files: the Excel pivot by month, row files, re-imports that add nothing, the inbox sensor."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from openpyxl import Workbook

from glame_pipelines.clients.sales_files import read
from glame_pipelines.defs.onec_files.assets import InboxResource, import_sales_file, sales, sales_inbox_sensor
from glame_pipelines.defs.shared import WarehouseResource

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
    csv_file.write_text("Дата;Номенклатура;Артикул;Количество;Сумма;Склад\n01.03.2025;Чокер Crystal;73023;1;2 900,00;Ялта\n"
                        "нет даты;Кольцо;1;1;1;Ялта\n", encoding="cp1251")
    parsed = read(csv_file)
    assert [(r.period_start, r.amount, r.store) for r in parsed.rows] == [(date(2025, 3, 1), Decimal("2900.00"), "Ялта")]
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
    result = dg.materialize([sales], resources={"inbox": resource, "warehouse": WarehouseResource(url=warehouse_url)},
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert conn.execute("select count(*) from raw.onec_sales_files").fetchone()[0] == 4


def test_glame_import_sales_command(tmp_path, warehouse_url):
    pivot = make_pivot(tmp_path / "history.xlsx")
    env = {"GLAME_WAREHOUSE_URL": warehouse_url, "GLAME_DAGSTER_PG_URL": "postgresql+psycopg2://unused/none",
           "PATH": "/usr/bin:/bin"}
    run = lambda: subprocess.run([sys.executable, "-m", "glame_pipelines.cli", "import-sales", str(pivot)],  # noqa: E731
                                 env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    first, second = run(), run()
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith("OK") and "4 rows (xlsx_pivot), 1 rejected, total 18,700.00" in first.stdout
    assert second.stdout.startswith("SAME") and "nothing added" in second.stdout


@pytest.mark.parametrize("name", ["notes.docx", "broken.json"])
def test_unsupported_or_broken_files_are_reported(tmp_path, name):
    path = tmp_path / name
    path.write_text("{not json")
    with pytest.raises(Exception):
        read(path)
