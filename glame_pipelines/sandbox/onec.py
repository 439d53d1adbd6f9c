"""A simulator of 1C:Enterprise's standard OData interface (УНФ on 1C Fresh) over the retail world.

It follows what a real base does: Basic auth, `$format=json` with the `odata.metadata`/`value`
envelope, `$select`, `$filter` with typed literals, `$orderby`, `$top`/`$skip` without a nextLink,
`odata.error` envelopes, HTTP 400 for a filter on a field the set lacks. Quirks seen in real bases
can be switched on: a set that rejects a `Period` filter or any `$orderby`, a page served twice.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from glame_pipelines.sandbox.retail import (
    EMPTY_REF,
    MIGRATION_DATE,
    ONLINE_ORDER,
    OPENING_BALANCES,
    PHYSICAL_STORES,
    RECEIPT,
    RETURN_RECEIPT,
    SHIFT_REPORT,
    STORES,
    Receipt,
    RetailWorld,
    ref,
)
from glame_pipelines.sandbox.server import Api, Request, Response

DEFAULT_LOGIN = "Администратор"
DEFAULT_PASSWORD = "sandbox-password"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def _money(kopecks: int) -> float:
    return round(kopecks / 100, 2)


def _odata_date(moment: datetime) -> str:
    return moment.strftime(DATE_FORMAT)


# --- $filter: a small parser for the subset 1C clients send --------------------------------------

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<lit>datetime'[^']*'|guid'[^']*'|'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false|null)"
    r"|(?P<op>\(|\))|(?P<word>[\w@/]+))",
    re.UNICODE,
)
_COMPARISONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}


class FilterError(ValueError):
    pass


def _literal(text: str):
    if text.startswith("datetime'"):
        value = text[9:-1]
        try:
            return datetime.strptime(value, DATE_FORMAT)
        except ValueError as error:
            raise FilterError(f"Неверный формат литерала даты {text}") from error
    if text.startswith("guid'"):
        return text[5:-1].lower()
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    return float(text)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError(f"Ошибка разбора выражения $filter в позиции {pos}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


@dataclass
class Comparison:
    field: str
    op: str
    value: object


@dataclass
class BoolOp:
    op: str  # and / or
    parts: list


def parse_filter(text: str):
    tokens = _tokens(text)
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else (None, None)

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expression(level: str = "or"):
        left = term() if level == "and" else expression("and")
        parts = [left]
        while peek() == ("word", level):
            take()
            parts.append(term() if level == "and" else expression("and"))
        return parts[0] if len(parts) == 1 else BoolOp(level, parts)

    def term():
        kind, value = peek()
        if (kind, value) == ("op", "("):
            take()
            inner = expression()
            if take() != ("op", ")"):
                raise FilterError("Ожидалась закрывающая скобка в $filter")
            return inner
        if kind != "word":
            raise FilterError(f"Ожидалось имя поля в $filter, получено {value!r}")
        take()
        _op_kind, op = take() if position < len(tokens) else (None, None)
        if op not in _COMPARISONS:
            raise FilterError(f"Неизвестная операция {op!r} в $filter")
        lit_kind, literal = take() if position < len(tokens) else (None, None)
        if lit_kind != "lit":
            raise FilterError(f"Ожидался литерал после {value} {op}")
        return Comparison(value, op, _literal(literal))

    tree = expression()
    if position != len(tokens):
        raise FilterError("Лишние символы в конце выражения $filter")
    return tree


def fields_of(tree) -> set[str]:
    if isinstance(tree, Comparison):
        return {tree.field}
    return set().union(*(fields_of(part) for part in tree.parts))


def evaluate(tree, record: dict) -> bool:
    if isinstance(tree, BoolOp):
        results = (evaluate(part, record) for part in tree.parts)
        return all(results) if tree.op == "and" else any(results)
    value = record.get(tree.field)
    if isinstance(tree.value, datetime) and isinstance(value, str):
        value = datetime.strptime(value[:19], DATE_FORMAT)
    elif isinstance(value, str) and isinstance(tree.value, str):
        value = value.lower() if tree.field.endswith("_Key") or tree.field in ("Ref", "Recorder") else value
    return _COMPARISONS[tree.op](value, tree.value)


def date_bounds(tree, field_name: str) -> tuple[datetime | None, datetime | None]:
    """[low, high) implied by top-level conjunctions on a date field, to generate only those days."""
    low = high = None
    parts = tree.parts if isinstance(tree, BoolOp) and tree.op == "and" else [tree]
    for part in parts:
        if isinstance(part, Comparison) and part.field == field_name and isinstance(part.value, datetime):
            if part.op in ("ge", "gt", "eq"):
                low = part.value if low is None else max(low, part.value)
            if part.op in ("lt", "le", "eq"):
                bound = part.value + timedelta(seconds=1) if part.op != "lt" else part.value
                high = bound if high is None else min(high, bound)
    return low, high


# --- the entity sets ------------------------------------------------------------------------------


@dataclass
class EntitySet:
    name: str
    fields: tuple[str, ...]
    records: Callable[[datetime | None, datetime | None], Iterable[dict]]
    date_field: str | None = None


@dataclass
class OnecQuirks:
    """Switchable behaviours of real bases."""

    reject_filter_on: set[str] = field(default_factory=set)  # sets whose date filter answers 400
    reject_orderby_on: set[str] = field(default_factory=set)  # sets that answer 400 to any $orderby
    repeat_page_at_skip: set[int] = field(default_factory=set)  # serve the previous page once here
    unpublished: set[str] = field(default_factory=set)
    max_top: int = 5000  # 1C Fresh fails on big pages


class OnecApi(Api):
    prefix = "/onec/odata/standard.odata/"

    def __init__(self, world: RetailWorld, login: str = DEFAULT_LOGIN, password: str = DEFAULT_PASSWORD):
        self.world = world
        self.login, self.password = login, password
        self.quirks = OnecQuirks()
        self.deleted_documents: set[str] = set()  # documents deleted (or un-posted) in 1C
        self.amount_overrides: dict[tuple[str, int], float] = {}  # re-posted lines: (Recorder, LineNumber)
        self.field_overrides: dict[tuple[str, int], dict] = {}  # lines a base serves with odd values
        self._last_page: dict[tuple, list] = {}
        self._results: dict[tuple, list[dict]] = {}
        self._lock = threading.Lock()
        self.version = 0
        self.sets = {s.name: s for s in self._entity_sets()}

    # -- protocol --

    def handle(self, request: Request) -> Response:
        if not self._authorised(request.headers.get("authorization", "")):
            return Response(401, b"Unauthorized", {"WWW-Authenticate": 'Basic realm="1C:Enterprise"'})
        name = request.path.strip("/")
        if name == "":
            return Response.json(
                {
                    "odata.metadata": self._metadata_url(""),
                    "value": [{"name": n, "url": n} for n in self.sets if n not in self.quirks.unpublished],
                }
            )
        if request.query.get("$format") != "json":
            return Response(
                200,
                b'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"/>',
                {"Content-Type": "application/atom+xml;type=feed;charset=utf-8"},
            )
        entity = self.sets.get(name)
        if entity is None or name in self.quirks.unpublished:
            return self.error(404, "9", f"Не найден ресурс '{name}'")
        try:
            return self._query(entity, request.query)
        except FilterError as error:
            return self.error(400, "6", str(error))

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            login, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (login, password) == (self.login, self.password)

    def _metadata_url(self, name: str) -> str:
        return f"http://sandbox/onec/odata/standard.odata/$metadata#{name}"

    def error(self, status: int, code: str, message: str) -> Response:
        return Response.json({"odata.error": {"code": code, "message": {"lang": "ru", "value": message}}}, status)

    def rate_limit_response(self) -> Response:
        return self.error(503, "-1", "Сервис временно недоступен: превышено число одновременных сеансов")

    def server_error_response(self, status: int) -> Response:
        return self.error(
            status,
            "-1",
            "Произошла внутренняя ошибка OData сервиса. Дополнительные сведения можно найти в технологическом журнале.",
        )

    def _query(self, entity: EntitySet, query: dict[str, str]) -> Response:
        tree = parse_filter(query["$filter"]) if query.get("$filter") else None
        if tree is not None:
            unknown = sorted(fields_of(tree) - set(entity.fields))
            if unknown:
                return self.error(400, "6", f"Ошибка разбора $filter: не найден сегмент пути '{unknown[0]}'")
            if entity.name in self.quirks.reject_filter_on and entity.date_field in fields_of(tree):
                return self.error(
                    400, "6", f"Неправильный сегмент пути '{entity.date_field}' для отбора в {entity.name}"
                )
        orderby = [f.strip().split(" ")[0] for f in query.get("$orderby", "").split(",") if f.strip()]
        if orderby and entity.name in self.quirks.reject_orderby_on:
            return self.error(400, "14", f"Упорядочивание не поддерживается для {entity.name}")
        for name in orderby:
            if name not in entity.fields:
                return self.error(400, "6", f"Ошибка разбора $orderby: не найден сегмент пути '{name}'")
        top = int(query.get("$top", 1000))
        skip = int(query.get("$skip", 0))
        if top > self.quirks.max_top:
            return self.server_error_response(500)
        cache_key = (entity.name, query.get("$filter"), query.get("$orderby"))
        page = self._result(entity, tree, orderby, cache_key)[skip : skip + top]
        if skip in self.quirks.repeat_page_at_skip and cache_key in self._last_page:
            self.quirks.repeat_page_at_skip.discard(skip)
            page = self._last_page[cache_key]
        self._last_page[cache_key] = page
        if query.get("$select"):
            wanted = [f.strip() for f in query["$select"].split(",")]
            page = [{k: r[k] for k in wanted if k in r} for r in page]
        return Response.json({"odata.metadata": self._metadata_url(entity.name), "value": page})

    def _result(self, entity: EntitySet, tree, orderby: list[str], cache_key: tuple) -> list[dict]:
        """The query's whole result, kept for its following pages (as a real server's cursor would)."""
        key = (*cache_key, self.version)
        if key in self._results:
            return self._results[key]
        low, high = date_bounds(tree, entity.date_field) if tree is not None and entity.date_field else (None, None)
        records: Iterable[dict] = entity.records(low, high)
        if tree is not None:
            records = (r for r in records if evaluate(tree, r))
        if orderby:
            records = sorted(records, key=lambda r: tuple(_sort_key(r.get(f)) for f in orderby))
        with self._lock:
            self._results[key] = result = list(records)
            while len(self._results) > 8:
                self._results.pop(next(iter(self._results)))
        return result

    # -- changes made in 1C after a load (tests use them) --

    def delete_document(self, recorder: str) -> None:
        self.deleted_documents.add(recorder)
        self.version += 1

    def repost_line(self, recorder: str, line_number: int, amount: float) -> None:
        self.amount_overrides[(recorder, line_number)] = amount
        self.version += 1

    def corrupt_line(self, recorder: str, line_number: int, **fields) -> None:
        """Serve a register line with values of an unexpected type (a configuration changed by hand)."""
        self.field_overrides[(recorder, line_number)] = fields
        self.version += 1

    # -- data --

    def _days(self, low: datetime | None, high: datetime | None):
        start = low.date() if low else self.world.history_start
        end = (high - timedelta(microseconds=1)).date() + timedelta(1) if high else self.world.today
        return self.world.days(start, end)

    def _entity_sets(self) -> list[EntitySet]:
        register_head = ("Period", "Recorder", "Recorder_Type", "LineNumber", "Active")
        return [
            EntitySet(
                "AccumulationRegister_Продажи_RecordType",
                (
                    *register_head,
                    "Номенклатура_Key",
                    "Характеристика_Key",
                    "Склад_Key",
                    "Контрагент_Key",
                    "Организация_Key",
                    "Количество",
                    "Сумма",
                ),
                self._sales,
                "Period",
            ),
            EntitySet(
                "AccumulationRegister_ПродажиПоДисконтнымКартам_RecordType",
                (
                    *register_head,
                    "ДисконтнаяКарта_Key",
                    "ВладелецКарты_Key",
                    "Номенклатура_Key",
                    "Характеристика_Key",
                    "Количество",
                    "Сумма",
                    "Скидка",
                ),
                self._card_sales,
                "Period",
            ),
            EntitySet(
                "AccumulationRegister_БонусныеБаллы_RecordType",
                (*register_head, "RecordType", "БонуснаяКарта_Key", "Начислено", "КСписанию"),
                self._bonus_points,
                "Period",
            ),
            EntitySet(
                "AccumulationRegister_БонусныеБаллы/Balance",
                ("БонуснаяКарта_Key", "НачисленоBalance", "КСписаниюBalance"),
                self._bonus_balance,
            ),
            EntitySet(
                "DocumentJournal_РозничныеПродажи",
                (
                    "Ref",
                    "Type",
                    "Date",
                    "Number",
                    "Posted",
                    "DeletionMark",
                    "Покупатель_Key",
                    "Склад_Key",
                    "СуммаДокумента",
                ),
                self._receipts,
                "Date",
            ),
            EntitySet(
                "Catalog_ДисконтныеКарты",
                (
                    "Ref_Key",
                    "DataVersion",
                    "DeletionMark",
                    "Code",
                    "Description",
                    "КодКартыШтрихкод",
                    "ВладелецКарты_Key",
                ),
                self._cards,
            ),
            EntitySet(
                "Catalog_Контрагенты",
                (
                    "Ref_Key",
                    "DataVersion",
                    "DeletionMark",
                    "Code",
                    "Description",
                    "ОсновныеСведения",
                    "Parent_Key",
                    "IsFolder",
                ),
                self._customers,
            ),
            EntitySet(
                "Catalog_Номенклатура",
                (
                    "Ref_Key",
                    "DataVersion",
                    "DeletionMark",
                    "Code",
                    "Description",
                    "Артикул",
                    "Parent_Key",
                    "IsFolder",
                    "КатегорияНоменклатуры_Key",
                ),
                self._products,
            ),
            EntitySet(
                "Catalog_Склады", ("Ref_Key", "DataVersion", "DeletionMark", "Code", "Description"), self._stores
            ),
        ]

    def _line_amount(self, recorder: str, line_number: int, kopecks: int) -> float:
        return self.amount_overrides.get((recorder, line_number), _money(kopecks))

    def _sales(self, low, high) -> Iterator[dict]:
        if low is None or low <= MIGRATION_DATE:
            yield from self._opening_balance_rows()
        for day in self._days(low, high):
            by_store: dict[str, list[Receipt]] = {}
            for receipt in day.receipts:
                by_store.setdefault(receipt.store.code, []).append(receipt)
            for store in PHYSICAL_STORES:
                recorder = self.world.shift_report_ref(store, day.day)
                if recorder in self.deleted_documents:
                    continue
                moment = datetime.combine(day.day, datetime.min.time()) + timedelta(hours=22)
                lines = [(line, None) for receipt in by_store.get(store.code, []) for line in receipt.lines]
                yield from self._register_rows(recorder, SHIFT_REPORT, moment, store.ref, lines)
            for order in day.orders:
                if order.ref in self.deleted_documents:
                    continue
                yield from self._register_rows(
                    order.ref,
                    ONLINE_ORDER,
                    order.moment,
                    order.store.ref,
                    [(line, order.customer) for line in order.lines],
                )

    def _register_rows(self, recorder, recorder_type, moment, store_ref, lines) -> Iterator[dict]:
        for number, (line, customer) in enumerate(lines, 1):
            yield {
                "Period": _odata_date(moment),
                "Recorder": recorder,
                "Recorder_Type": recorder_type,
                "LineNumber": number,
                "Active": True,
                "Номенклатура_Key": line.product.ref,
                "Характеристика_Key": EMPTY_REF,
                "Склад_Key": store_ref,
                "Контрагент_Key": customer.ref if customer else EMPTY_REF,
                "Организация_Key": ref("organization"),
                "Количество": line.quantity,
                "Сумма": self._line_amount(recorder, number, line.amount_kopecks),
                **self.field_overrides.get((recorder, number), {}),
            }

    def _opening_balance_rows(self) -> Iterator[dict]:
        for store, entries in self.world.opening_balances():
            recorder = ref("opening-balances", store.code)
            if recorder in self.deleted_documents:
                continue
            lines = [(line, customer) for customer, line in entries]
            yield from self._register_rows(recorder, OPENING_BALANCES, MIGRATION_DATE, store.ref, lines)

    def _card_receipts(self, low, high) -> Iterator[Receipt]:
        for day in self._days(low, high):
            for receipt in [*day.receipts, *day.orders]:
                if receipt.customer is not None and receipt.ref not in self.deleted_documents:
                    yield receipt

    def _card_sales(self, low, high) -> Iterator[dict]:
        for receipt in self._card_receipts(low, high):
            recorder_type = RETURN_RECEIPT if receipt.is_return else (ONLINE_ORDER if receipt.store.online else RECEIPT)
            for number, line in enumerate(receipt.lines, 1):
                yield {
                    "Period": _odata_date(receipt.moment),
                    "Recorder": receipt.ref,
                    "Recorder_Type": recorder_type,
                    "LineNumber": number,
                    "Active": True,
                    "ДисконтнаяКарта_Key": receipt.customer.card_ref,
                    "ВладелецКарты_Key": receipt.customer.ref,
                    "Номенклатура_Key": line.product.ref,
                    "Характеристика_Key": EMPTY_REF,
                    "Количество": line.quantity,
                    "Сумма": _money(line.amount_kopecks),
                    "Скидка": _money(line.discount_kopecks),
                }

    def _bonus_rows(self, low, high) -> Iterator[dict]:
        for receipt in self._card_receipts(low, high):
            total = receipt.total_kopecks
            if total == 0:
                continue
            record_type, points = ("Receipt", total * 3 // 10000) if total > 0 else ("Expense", -total * 3 // 10000)
            yield {
                "Period": _odata_date(receipt.moment),
                "Recorder": receipt.ref,
                "Recorder_Type": RETURN_RECEIPT if receipt.is_return else RECEIPT,
                "LineNumber": 1,
                "Active": True,
                "RecordType": record_type,
                "БонуснаяКарта_Key": receipt.customer.card_ref,
                "Начислено": points,
                "КСписанию": 0,
            }

    def _bonus_points(self, low, high) -> Iterator[dict]:
        return self._bonus_rows(low, high)

    def _bonus_balance(self, low, high) -> Iterator[dict]:
        balances: dict[str, int] = {}
        for row in self._bonus_rows(None, None):
            sign = 1 if row["RecordType"] == "Receipt" else -1
            balances[row["БонуснаяКарта_Key"]] = balances.get(row["БонуснаяКарта_Key"], 0) + sign * row["Начислено"]
        for card, balance in balances.items():
            yield {"БонуснаяКарта_Key": card, "НачисленоBalance": balance, "КСписаниюBalance": 0}

    def _receipts(self, low, high) -> Iterator[dict]:
        for day in self._days(low, high):
            for receipt in day.receipts:
                if receipt.ref in self.deleted_documents:
                    continue
                yield {
                    "Ref": receipt.ref,
                    "Type": RETURN_RECEIPT if receipt.is_return else RECEIPT,
                    "Date": _odata_date(receipt.moment),
                    "Number": receipt.number,
                    "Posted": True,
                    "DeletionMark": False,
                    "Покупатель_Key": receipt.customer.ref if receipt.customer else EMPTY_REF,
                    "Склад_Key": receipt.store.ref,
                    "СуммаДокумента": _money(receipt.total_kopecks),
                }

    def _cards(self, low, high) -> Iterator[dict]:
        for n, customer in enumerate(self.world.customers, 1):
            yield {
                "Ref_Key": customer.card_ref,
                "DataVersion": "AAAAAQAAAAA=",
                "DeletionMark": False,
                "Code": f"{n:06d}",
                "Description": f"Дисконтная карта {customer.card_code}",
                "КодКартыШтрихкод": customer.card_code,
                "ВладелецКарты_Key": customer.ref,
            }

    def _customers(self, low, high) -> Iterator[dict]:
        formats = ("+7 {a} {b}-{c}-{d}", "8 ({a}) {b}-{c}-{d}", "7{a}{b}{c}{d}", "+7{a}{b}{c}{d}")
        for n, customer in enumerate(self.world.customers):
            digits = customer.phone[1:]
            phone = formats[n % len(formats)].format(a=digits[:3], b=digits[3:6], c=digits[6:8], d=digits[8:])
            info = f"ФИО: {customer.name}\nТелефон: {phone}\nГород: {customer.city}"
            yield {
                "Ref_Key": customer.ref,
                "DataVersion": "AAAAAQAAAAA=",
                "DeletionMark": False,
                "Code": customer.code,
                "Description": customer.name,
                "ОсновныеСведения": info,
                "Parent_Key": EMPTY_REF,
                "IsFolder": False,
            }

    def _products(self, low, high) -> Iterator[dict]:
        for folder in self.world.folders():
            yield {
                "Ref_Key": ref("folder", folder),
                "DataVersion": "AAAAAQAAAAA=",
                "DeletionMark": False,
                "Code": "",
                "Description": folder,
                "Артикул": "",
                "Parent_Key": EMPTY_REF,
                "IsFolder": True,
                "КатегорияНоменклатуры_Key": EMPTY_REF,
            }
        for product in self.world.products:
            yield {
                "Ref_Key": product.ref,
                "DataVersion": "AAAAAQAAAAA=",
                "DeletionMark": False,
                "Code": product.code,
                "Description": product.name,
                "Артикул": product.article,
                "Parent_Key": ref("folder", product.folder),
                "IsFolder": False,
                "КатегорияНоменклатуры_Key": ref("category", product.folder),
            }

    def _stores(self, low, high) -> Iterator[dict]:
        for n, store in enumerate(STORES, 1):
            yield {
                "Ref_Key": store.ref,
                "DataVersion": "AAAAAQAAAAA=",
                "DeletionMark": False,
                "Code": f"{n:09d}",
                "Description": store.name,
            }


def _sort_key(value):
    return (value is None, value if not isinstance(value, bool) else int(value))


def expected_sales(world: RetailWorld, start: date, end: date) -> list[dict]:
    """The register rows the sandbox serves for [start, end): what a correct load must hold."""
    low, high = datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time())
    return [r for r in OnecApi(world)._sales(low, high) if low <= datetime.strptime(r["Period"], DATE_FORMAT) < high]
