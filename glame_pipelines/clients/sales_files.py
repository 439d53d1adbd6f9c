"""Readers of 1C sales exports: row files (CSV, JSON, XLSX, XLS) and the brand's Excel pivot by month.

The pivot (`.xlsx` or `.xls`): A1 reads `Номенклатура, Единица, Артикул`; row 1 holds months (dates, Excel
serials or text such as `Январь 2025`). Two layouts, told apart by the header: either row 2 labels the
measures (`Количество | Сумма` under each month), or there is no such row and every column is a month of
units sold (a quantity-only export, whose amounts are unknown: null, never zero). Each product row
starts with `name, unit, article`, split on 1C's ", " from the right because names and articles carry
commas of their own. Negative values are returns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import orjson
import xlrd

EXCEL_EPOCH = date(1899, 12, 30)
_ALIASES = {
    "date": {"date", "дата", "период", "period", "day"},
    "product": {"product", "номенклатура", "товар", "name", "наименование"},
    "article": {"article", "артикул", "sku"},
    "quantity": {"quantity", "количество", "qty", "кол-во"},
    "amount": {"amount", "сумма", "revenue", "выручка"},
    "store": {"store", "склад", "магазин"},
    "unit": {"unit", "единица", "ед"},
}


class SalesFileError(ValueError):
    pass


@dataclass(frozen=True)
class SalesRow:
    row_no: int
    period_start: date
    period_end: date  # exclusive: a month for the pivot, a day for row files
    product: str | None
    unit: str | None
    article: str | None
    store: str | None
    quantity: Decimal | None
    amount: Decimal | None  # None: the file does not carry amounts (a quantity-only pivot)
    raw: dict = field(default_factory=dict)


@dataclass
class SalesFile:
    name: str
    content_hash: str
    layout: str
    rows: list[SalesRow]
    rejects: list[tuple[int, str, dict]]
    # month -> the measures the file carries for it: what the overlap rule of sales_monthly reads
    months: dict[date, frozenset[str]] = field(default_factory=dict)


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read(path: Path) -> SalesFile:
    content = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        layout, rows, rejects, months = _sheet("xlsx", _xlsx_table(content))
    elif suffix == ".xls":
        layout, rows, rejects, months = _sheet("xls", _xls_table(content))
    elif suffix == ".json":
        layout, rows, rejects, months = _records("json", _json_records(content))
    elif suffix in (".csv", ".txt"):
        layout, rows, rejects, months = _records("csv", _csv_records(content))
    else:
        raise SalesFileError(f"{path.name}: unsupported file type {suffix or '(none)'} (CSV, JSON, XLSX or XLS)")
    return SalesFile(path.name, content_hash(content), layout, rows, rejects, months)


def _number(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value))
    cleaned = str(value).replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def _date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return EXCEL_EPOCH + timedelta(days=int(value))
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date")


_MONTHS_RU = ("январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр")


def _month(value) -> date:
    """A month header: a date, an Excel serial, `01.2025`, `2025-01` or `Январь 2025 г.`."""
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if match := re.fullmatch(r"(\d{1,2})[./](\d{4})", text):
        return date(int(match[2]), int(match[1]), 1)
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        return date(int(match[1]), int(match[2]), 1)
    if match := re.fullmatch(r"([а-яё]+)\s+(\d{4})(\s*г\.?)?", text):
        word = match[1]
        number = next(
            (
                n
                for n, stem in enumerate(_MONTHS_RU, 1)
                if word.startswith(stem) and (stem != "ма" or word in ("май", "мая"))
            ),
            None,
        )
        if number:
            return date(int(match[2]), number, 1)
    return _date(value).replace(day=1)


def _canonical(header: str) -> str | None:
    key = re.sub(r"[^\wа-яё-]", "", str(header or "").strip().lower())
    return next((name for name, aliases in _ALIASES.items() if key in aliases), None)


def _records(layout: str, records) -> tuple[str, list[SalesRow], list, dict]:
    """Row files: a sale per row; the file carries amounts for every month it has rows in, and units
    where its rows have them."""
    rows, rejects = [], []
    for number, record in records:
        fields = {_canonical(k): v for k, v in record.items() if _canonical(k)}
        try:
            day = _date(fields["date"])
            amount = _number(fields.get("amount"))
            if amount is None:
                raise ValueError("no amount")
            rows.append(
                SalesRow(
                    number,
                    day,
                    day + timedelta(1),
                    _text(fields.get("product")),
                    _text(fields.get("unit")),
                    _text(fields.get("article")),
                    _text(fields.get("store")),
                    _number(fields.get("quantity")),
                    amount,
                    _jsonable(record),
                )
            )
        except (KeyError, ValueError) as error:
            rejects.append((number, f"{type(error).__name__}: {error}", _jsonable(record)))
    months: dict[date, set[str]] = {}
    for row in rows:
        months.setdefault(row.period_start.replace(day=1), {"amount"}).update(
            {"quantity"} if row.quantity is not None else set()
        )
    return layout, rows, rejects, {month: frozenset(measures) for month, measures in months.items()}


def _text(value) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _jsonable(record: dict) -> dict:
    return orjson.loads(orjson.dumps(record, default=str))


def _csv_records(content: bytes):
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SalesFileError("the CSV is neither UTF-8 nor cp1251")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    yield from enumerate(csv.DictReader(io.StringIO(text), delimiter=delimiter), 2)


def _json_records(content: bytes):
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise SalesFileError(f"not valid JSON: {error}") from None
    items = body.get("value") or body.get("rows") or body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise SalesFileError("JSON must be a list of records (or {value|rows|data: [...]})")
    yield from enumerate(items, 1)


def _xlsx_table(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _xls_table(content: bytes) -> list[list]:
    """The first sheet of an Excel 97-2003 workbook, cells as openpyxl gives them (dates as datetimes)."""
    try:
        book = xlrd.open_workbook(file_contents=content)
    except xlrd.XLRDError as error:
        raise SalesFileError(f"not a readable Excel 97-2003 (.xls) workbook: {error}") from None
    sheet = book.sheet_by_index(0)
    return [[_xls_value(cell, book.datemode) for cell in sheet.row(number)] for number in range(sheet.nrows)]


def _xls_value(cell, datemode: int):
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate_as_datetime(cell.value, datemode)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")  # a number cell holding an error: rejected
    if cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
        return int(cell.value)
    return cell.value


def _sheet(kind: str, table: list[list]) -> tuple[str, list[SalesRow], list, dict]:
    if not table:
        return kind, [], [], {}
    if str(table[0][0] or "").replace(" ", "").lower().startswith("номенклатура,единица"):
        return _pivot(kind, table)
    header = [str(h or "") for h in table[0]]
    return _records(kind, ((n, dict(zip(header, row, strict=False))) for n, row in enumerate(table[1:], 2)))


_MEASURES = {"количество": "quantity", "кол-во": "quantity", "сумма": "amount"}
_TOTALS = ("итого", "total", "всего")


def _measure(value) -> str | None:
    return _MEASURES.get(str(value or "").strip().lower().rstrip(":"))


def _pivot_columns(table: list[list]) -> tuple[dict[int, tuple[date, str]], int]:
    """Which month and measure each column holds, and the row products start on, read from the header.

    Row 2 labelling measures: each labelled column belongs to the nearest month on its left (1C merges
    a month's header across its measures). No such row: each column must be a month of units, or the
    file is refused rather than guessed (a pair layout without labels would turn quantities into amounts).
    """
    header = table[0]
    labels = table[1] if len(table) > 1 else []
    months: dict[int, date] = {}
    totals: set[int] = set()  # an `Итого` column: its measures belong to no month
    for column, value in enumerate(header[1:], 1):
        if value in (None, ""):
            continue
        if str(value).strip().lower().startswith(_TOTALS):
            totals.add(column)
            continue
        try:
            months[column] = _month(value)
        except ValueError:
            raise SalesFileError(f"pivot header, column {column + 1}: {value!r} is not a month") from None
    if not months:
        raise SalesFileError("pivot header: no month in row 1")
    labelled = {column: _measure(value) for column, value in enumerate(labels[1:], 1) if _measure(value)}
    if not labelled:
        last = max(months)
        gaps = [column + 1 for column in range(1, last) if column not in months and column not in totals]
        if gaps:
            raise SalesFileError(
                "pivot header: months are not in every column (none in column(s) "
                f"{', '.join(map(str, gaps[:5]))}) and row 2 does not label the measures "
                "(Количество | Сумма): the layout cannot be told, save the report with its measure row"
            )
        return {column: (month, "quantity") for column, month in months.items()}, 1
    columns: dict[int, tuple[date, str]] = {}
    for column, measure in sorted(labelled.items()):
        owner = max((c for c in (*months, *totals) if c <= column), default=None)
        if owner is None or owner in totals:
            continue  # under `Итого`, or left of the first month: no month to put it in
        if (months[owner], measure) in columns.values():
            raise SalesFileError(f"pivot header: {months[owner]:%Y-%m} has two «{labels[column]}» columns")
        columns[column] = (months[owner], measure)
    unlabelled = sorted(set(months.values()) - {month for month, _ in columns.values()})
    if unlabelled:
        raise SalesFileError(f"pivot header: no Количество or Сумма under {unlabelled[0]:%Y-%m} in row 2")
    return columns, 2


def _pivot(kind: str, table: list[list]) -> tuple[str, list[SalesRow], list, dict]:
    columns, first_row = _pivot_columns(table)
    by_month: dict[date, dict[str, int]] = {}
    for column, (month, measure) in columns.items():
        by_month.setdefault(month, {})[measure] = column
    rows, rejects = [], []
    for number, row in enumerate(table[first_row:], first_row + 1):
        label = str(row[0] or "").strip()
        if not label or label.lower().startswith(_TOTALS):
            continue
        name, unit, article = split_label(str(row[0]))
        for month, measures in by_month.items():
            cells = {measure: row[column] if column < len(row) else None for measure, column in measures.items()}
            if all(value in (None, "") for value in cells.values()):
                continue
            row_no = number * 1000 + min(measures.values())
            raw = {"label": label, "month": month.isoformat(), **{k: str(v) for k, v in cells.items()}}
            try:
                quantity, amount = _number(cells.get("quantity")), _number(cells.get("amount"))
                if "amount" in measures and amount is None:
                    raise ValueError("quantity without an amount")
                rows.append(
                    SalesRow(
                        row_no,
                        month,
                        (month + timedelta(32)).replace(day=1),
                        name,
                        unit,
                        article,
                        None,
                        quantity,
                        amount,
                        raw,
                    )
                )
            except ValueError as error:
                rejects.append((row_no, str(error), raw))
    carried = {month: frozenset(measures) for month, measures in by_month.items()}
    kinds = set().union(*carried.values())
    suffix = "" if kinds == {"quantity", "amount"} else "_" + "_".join(sorted(kinds))
    return f"{kind}_pivot{suffix}", rows, rejects, carried


def split_label(label: str) -> tuple[str | None, str | None, str | None]:
    """`name, unit, article` split on the ", " 1C writes, from the right: names keep their own commas
    (`Серьги Pearl (жемчуг, перламутр)`), articles their decimal comma (`77017-G/17,5`), and an empty
    unit (`Кольцо Geometry, , 74063-G`) stays empty. Anything else is all name."""
    text = re.sub(r",(?=,)", ", ", label.rstrip())  # `a,, b` is `a, , b`
    text = text + " " if text.endswith(",") else text  # an empty article
    parts = text.rsplit(", ", 2)
    if len(parts) != 3:
        return _text(label), None, None
    name, unit, article = (_text(part) for part in parts)
    return name, unit, article
