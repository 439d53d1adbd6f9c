"""Readers of 1C sales exports: row files (CSV, JSON, XLSX) and the brand's Excel pivot by month.

The pivot: A1 reads `Номенклатура, Единица, Артикул`; row 1 holds month starts (Excel serial dates or
dates), each spanning two columns labelled `Количество | Сумма` in row 2; each product row starts with
`name, unit, article` (e.g. `Чокер Crystal, шт, 73023`). Negative values are returns.
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
    amount: Decimal
    raw: dict = field(default_factory=dict)


@dataclass
class SalesFile:
    name: str
    content_hash: str
    layout: str
    rows: list[SalesRow]
    rejects: list[tuple[int, str, dict]]


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read(path: Path) -> SalesFile:
    content = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        layout, rows, rejects = _xlsx(content)
    elif suffix == ".json":
        layout, rows, rejects = _records("json", _json_records(content))
    elif suffix in (".csv", ".txt"):
        layout, rows, rejects = _records("csv", _csv_records(content))
    else:
        raise SalesFileError(f"{path.name}: unsupported file type {suffix or '(none)'} (CSV, JSON or XLSX)")
    return SalesFile(path.name, content_hash(content), layout, rows, rejects)


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


def _canonical(header: str) -> str | None:
    key = re.sub(r"[^\wа-яё-]", "", str(header or "").strip().lower())
    return next((name for name, aliases in _ALIASES.items() if key in aliases), None)


def _records(layout: str, records) -> tuple[str, list[SalesRow], list]:
    rows, rejects = [], []
    for number, record in records:
        fields = {_canonical(k): v for k, v in record.items() if _canonical(k)}
        try:
            day = _date(fields["date"])
            amount = _number(fields.get("amount"))
            if amount is None:
                raise ValueError("no amount")
            rows.append(SalesRow(number, day, day + timedelta(1), _text(fields.get("product")), _text(fields.get("unit")),
                                 _text(fields.get("article")), _text(fields.get("store")),
                                 _number(fields.get("quantity")), amount, _jsonable(record)))
        except (KeyError, ValueError) as error:
            rejects.append((number, f"{type(error).__name__}: {error}", _jsonable(record)))
    return layout, rows, rejects


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
    body = orjson.loads(content)
    items = body.get("value") or body.get("rows") or body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise SalesFileError("JSON must be a list of records (or {value|rows|data: [...]})")
    yield from enumerate(items, 1)


def _xlsx(content: bytes) -> tuple[str, list[SalesRow], list]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    if not table:
        return "xlsx", [], []
    if str(table[0][0] or "").replace(" ", "").lower().startswith("номенклатура,единица"):
        return ("xlsx_pivot", *_pivot(table))
    header = [str(h or "") for h in table[0]]
    return _records("xlsx", ((n, dict(zip(header, row))) for n, row in enumerate(table[1:], 2)))


def _pivot(table: list[list]) -> tuple[list[SalesRow], list]:
    months: list[tuple[int, date]] = []
    for column, value in enumerate(table[0][1:], 1):
        if value not in (None, ""):
            months.append((column, _date(value).replace(day=1)))
    rows, rejects = [], []
    for number, row in enumerate(table[2:], 3):
        label = str(row[0] or "").strip()
        if not label or label.lower().startswith(("итого", "total")):
            continue
        name, unit, article = (_split_label(label) + [None, None])[:3]
        for column, month in months:
            quantity, amount = (row[column] if column < len(row) else None,
                                row[column + 1] if column + 1 < len(row) else None)
            if quantity in (None, "") and amount in (None, ""):
                continue
            try:
                value = _number(amount)
                if value is None:
                    raise ValueError("quantity without an amount")
                next_month = (month + timedelta(32)).replace(day=1)
                rows.append(SalesRow(number * 1000 + column, month, next_month, name, unit, article, None,
                                     _number(quantity), value, {"label": label, "month": month.isoformat(),
                                                                "quantity": str(quantity), "amount": str(amount)}))
            except ValueError as error:
                rejects.append((number * 1000 + column, str(error), {"label": label, "month": month.isoformat()}))
    return rows, rejects


def _split_label(label: str) -> list[str | None]:
    parts = [p.strip() for p in label.rsplit(",", 2)]
    return parts if len(parts) == 3 else [label, None, None]
