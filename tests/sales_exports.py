"""1C sales exports made in the tests: the same table written as a real .xlsx (openpyxl) or a real
Excel 97-2003 .xls (xlwt writes genuine BIFF8), in the pivot layouts 1C saves."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlwt
from openpyxl import Workbook

HEADER = "Номенклатура, Единица, Артикул"


def write_sheet(path: Path, table: list[list]) -> Path:
    """Write `table` (rows of cells, None for an empty cell) as the first sheet of `path` (.xlsx or .xls)."""
    if path.suffix == ".xls":
        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("TDSheet")  # the sheet name 1C gives
        as_date = xlwt.easyxf(num_format_str="MMMM YYYY")
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                if isinstance(value, (date, datetime)):
                    sheet.write(r, c, value, as_date)  # a date cell, as 1C writes month headers
                elif value is not None:
                    sheet.write(r, c, value)
        book.save(str(path))
    else:
        book = Workbook()
        for row in table:
            book.active.append(row)
        book.save(path)
    return path


def pairs_pivot(months: list, products: list[tuple[str, list]]) -> list[list]:
    """Months in row 1 every second column, `Количество | Сумма` in row 2; each product's cells are
    (quantity, amount) per month, flattened."""
    header = [HEADER]
    for month in months:
        header += [month, None]
    labels = [None] + ["Количество", "Сумма"] * len(months)
    return [header, labels, *([label, *cells] for label, cells in products)]


def quantity_pivot(months: list, products: list[tuple[str, list]]) -> list[list]:
    """A month in every column, no measure row: units sold."""
    return [[HEADER, *months], *([label, *cells] for label, cells in products)]
