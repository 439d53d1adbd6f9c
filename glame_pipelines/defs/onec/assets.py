"""1C assets: registers by Moscow day (each run replaces its days), catalogs upserted by Ref_Key."""

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import dagster as dg

from glame_pipelines.clients.http import MalformedRecord, required, whole_number
from glame_pipelines.clients.onec import EMPTY_DAY, EMPTY_REF, OnecClient, clean_ref, parse_onec_datetime
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.loads import raw_table_asset, replace_rejects
from glame_pipelines.defs.onec import tables
from glame_pipelines.defs.onec.resources import OnecResource, env_variable
from glame_pipelines.defs.onec.source import SOURCE
from glame_pipelines.defs.partitions import partition_days
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.warehouse.loader import LoadResult, RawTable, Rejects, Window, convert_records, load

GROUP, LABEL = SOURCE.name, SOURCE.label
POOL = SOURCE.pool_name()  # one per base, named from the configuration the definitions load with
MIGRATION_DOCUMENT = "Document_ВводНачальныхОстатков"


def _number(value) -> str:
    """A 1C number, checked: a bad value is rejected here rather than failing the whole COPY. JSON numbers
    (the usual case) pass straight through; only strings need parsing."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is float and math.isfinite(value):
        return repr(value)
    if kind is str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return str(number)
    raise ValueError(f"not a number: {value!r}")


def _moment(value):
    moment = parse_onec_datetime(value)
    if moment is None:
        raise ValueError(f"no date: {value!r}")
    return moment


def _flag(value) -> bool:
    """A 1C Boolean; text such as "false" would be true to bool(), so only true/false pass."""
    if not isinstance(value, bool):
        raise ValueError(f"not true or false: {value!r}")
    return value


def _text(r: dict, key: str) -> str:
    value = required(r, key)
    if not isinstance(value, str):
        raise MalformedRecord(f"the record's '{key}' is {value!r}, not text")
    return value


def _register_head(r: dict) -> tuple:
    return (
        _text(r, "Recorder"),
        whole_number(required(r, "LineNumber"), "the record's 'LineNumber'"),
        r.get("Recorder_Type"),
        _moment(required(r, "Period")),
        _flag(r.get("Active", True)),
    )


def _resource(r: dict, key: str) -> str:
    """A register resource: every record of the register carries it; one without is quarantined, never read as 0."""
    if key not in r:
        raise MalformedRecord(f"the record has no '{key}'")
    return _number(r[key])


def register_row(
    *, extra: tuple[str, ...] = (), refs: tuple[str, ...] = (), resources: tuple[str, ...] = ()
) -> Callable[[dict], tuple]:
    """A register's record → row: the head, `extra` fields as they are, references, resources.

    A day of sales is a million records, so a record of the usual shape (text, whole numbers, finite
    JSON numbers) is read inline in one call; anything else goes through the checked path, which reads
    numbers written as text and raises the error that names what is wrong. The fast path only ever
    returns what the checked one would (`tests/test_onec_rows.py` compares them field by field)."""

    def checked(r: dict) -> tuple:
        return (
            *_register_head(r),
            *[r.get(key) for key in extra],
            *[clean_ref(r.get(key)) for key in refs],
            *[_resource(r, key) for key in resources],
        )

    def to_row(r: dict) -> tuple:
        if type(r) is not dict:
            return checked(r)
        recorder, line, period, active = r.get("Recorder"), r.get("LineNumber"), r.get("Period"), r.get("Active", True)
        if not (
            type(recorder) is str
            and type(line) is int
            and type(period) is str
            and type(active) is bool
            and period
            and not period.startswith(EMPTY_DAY)
        ):
            return checked(r)
        try:
            values = [recorder, line, r.get("Recorder_Type"), datetime.fromisoformat(period[:19]), active]
        except ValueError:
            return checked(r)
        for key in extra:
            values.append(r.get(key))
        for key in refs:
            value = r.get(key)
            if value is None or value == EMPTY_REF or value == "":
                values.append(None)
            elif type(value) is str:
                values.append(value)
            else:
                return checked(r)
        for key in resources:
            value = r.get(key)
            kind = type(value)
            if kind is int:
                values.append(str(value))
            elif kind is float and math.isfinite(value):
                values.append(repr(value))
            else:
                return checked(r)
        return tuple(values)

    to_row.checked = checked  # type: ignore[attr-defined]
    return to_row


sales_row = register_row(refs=("Склад_Key", "Номенклатура_Key", "Контрагент_Key"), resources=("Количество", "Сумма"))
card_sales_row = register_row(
    refs=("ДисконтнаяКарта_Key", "ВладелецКарты_Key", "Номенклатура_Key"), resources=("Количество", "Сумма", "Скидка")
)
bonus_points_row = register_row(
    extra=("RecordType",), refs=("БонуснаяКарта_Key",), resources=("Начислено", "КСписанию")
)


def bonus_balance_row(r: dict) -> tuple:
    return (_text(r, "БонуснаяКарта_Key"), _resource(r, "НачисленоBalance"), _resource(r, "КСписаниюBalance"))


def receipt_row(r: dict) -> tuple:
    """The journal's shape is unverified on the brand's base: take what is there, require only a ref and date."""
    reference = r.get("Ref") or r.get("Ref_Key") or r.get("Document")
    if not reference:
        raise KeyError("no Ref / Ref_Key in the journal entry")
    amount = r.get("СуммаДокумента")
    return (
        reference,
        r.get("Type") or r.get("Ref_Type"),
        _moment(r.get("Date")),
        clean_ref(r.get("Покупатель_Key")),
        clean_ref(r.get("Склад_Key")),
        None if amount is None else _number(amount),
    )


def catalog_row(r: dict) -> tuple:
    return (_text(r, "Ref_Key"), r.get("Code"), r.get("Description"), _flag(r.get("DeletionMark", False)))


@dataclass(frozen=True)
class Register:
    """A dated 1C entity set loaded by Moscow day."""

    name: str
    endpoint: str  # the OnecResource field holding the entity-set name
    table: RawTable
    to_row: Callable[[dict], tuple]
    date_field: str = "Period"
    date_column: str = "period"
    orderby: tuple[str, ...] = ("Recorder", "LineNumber")
    description: str = ""


REGISTERS = (
    Register(
        "sales",
        "sales_endpoint",
        tables.ONEC_SALES,
        sales_row,
        description="Sales register records (shift reports, online orders, returns as negative lines).",
    ),
    Register(
        "card_sales",
        "card_sales_endpoint",
        tables.ONEC_CARD_SALES,
        card_sales_row,
        description="Sales by discount card: who bought what, with the discount.",
    ),
    Register(
        "bonus_points",
        "bonus_points_endpoint",
        tables.ONEC_BONUS_POINTS,
        bonus_points_row,
        description="Bonus points accrued and spent, per card.",
    ),
    Register(
        "receipts",
        "receipts_endpoint",
        tables.ONEC_RECEIPTS,
        receipt_row,
        date_field="Date",
        date_column="document_date",
        orderby=("Date",),
        description="Retail receipts journal (one row per receipt, with the buyer).",
    ),
)


def _day_window(register: Register, day: date) -> Window:
    column = register.date_column
    return Window(f"{column} >= %s and {column} < %s", (day, day + timedelta(1)), day.isoformat())


def register_reader(
    client: OnecClient, entity_set: str, register: Register, day: date, rejects: Rejects
) -> Callable[[], Iterator[tuple]]:
    """The day's rows as a function that reads 1C (again), so the loader may stream a new day straight
    into its table and read again if that fails on a key."""

    def read() -> Iterator[tuple]:
        rejects.items.clear()
        records = client.iter_window(
            entity_set, day, day + timedelta(1), date_field=register.date_field, orderby=register.orderby
        )
        return convert_records(records, register.to_row, rejects)

    return read


def load_register_days(
    context: dg.AssetExecutionContext,
    client: OnecClient,
    entity_set: str,
    register: Register,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Replace each day of the run's range with what 1C holds for it now, one transaction per day."""
    days = partition_days(context)
    total = LoadResult()
    rejected = 0
    source = f"onec/{register.name}"
    with warehouse.connect() as conn:
        for index, day in enumerate(days, 1):
            rejects = Rejects()
            result = load(
                conn,
                register.table,
                register_reader(client, entity_set, register, day, rejects),
                run_id=context.run_id,
                window=_day_window(register, day),
            )
            rejected += replace_rejects(conn, source, day.isoformat(), rejects, context.run_id)
            for name in ("received", "inserted", "updated", "deleted"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if len(days) > 7 and (index % 7 == 0 or index == len(days)):
                context.log.info(f"{source}: {index}/{len(days)} days loaded (through {day})")
        rows = conn.execute(
            f"select count(*) from raw.{register.table.name} "
            f"where {register.date_column} >= %s and {register.date_column} < %s",
            (days[0], days[-1] + timedelta(1)),
        ).fetchone()[0]
    if rejected:
        context.log.warning(f"{source}: {rejected} records rejected, kept in raw.load_rejects")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "days": len(days),
            "received": total.received,
            "inserted": total.inserted,
            "updated": total.updated,
            "deleted": total.deleted,
            "rejected": rejected,
            "entity_set": entity_set,
            "table": f"raw.{register.table.name}",
        }
    )


def configured_set(context: dg.AssetExecutionContext, onec: OnecResource, field: str) -> str | None:
    """The entity set an asset reads; None (logged, nothing materialised) when the base has not got
    this optional set. A required set left blank is a configuration error."""
    entity_set = onec.entity_set(field)
    if entity_set is None:
        name = context.asset_key.to_user_string()
        if field not in OnecResource.empty_means_off:
            raise dg.Failure(
                description=f"1C: {env_variable(field)} is empty; {name} needs the name of its entity set.",
                allow_retries=False,
            )
        context.log.info(f"{name} skipped: {env_variable(field)} is empty, so this base has no such set (turned off)")
    return entity_set


def _register_asset(register: Register) -> dg.AssetsDefinition:
    @raw_table_asset(
        GROUP,
        register.table,
        "odata",
        daily=True,
        name=register.name,
        pool=POOL,
        description=register.description,
        output_required=register.endpoint not in OnecResource.empty_means_off,
    )
    def _asset(context: dg.AssetExecutionContext, onec: OnecResource, warehouse: WarehouseResource):
        entity_set = configured_set(context, onec, register.endpoint)
        if entity_set is None:
            return
        with reported_as_failure(LABEL):
            yield load_register_days(context, onec.client(), entity_set, register, warehouse)

    return _asset


@dataclass(frozen=True)
class Catalog:
    name: str
    endpoint: str
    table: RawTable
    description: str


CATALOGS = (
    Catalog(
        "discount_cards",
        "discount_cards_endpoint",
        tables.ONEC_DISCOUNT_CARDS,
        "Discount cards: the card number (the customer's phone) and its owner.",
    ),
    Catalog("customers", "customers_endpoint", tables.ONEC_CUSTOMERS, "Counterparties: the brand's customers."),
    Catalog("products", "products_endpoint", tables.ONEC_PRODUCTS, "Products (nomenclature) with article and folder."),
    Catalog("stores", "stores_endpoint", tables.ONEC_STORES, "Warehouses: the stores and the online shop."),
)


def _load_whole(context, conn, table: RawTable, records, to_row, source: str, window: Window | None) -> dict:
    rejects = Rejects()
    result = load(conn, table, convert_records(records, to_row, rejects), run_id=context.run_id, window=window)
    rejected = replace_rejects(conn, source, "all", rejects, context.run_id)
    rows = conn.execute(f"select count(*) from raw.{table.name}").fetchone()[0]
    return {
        "dagster/row_count": rows,
        **dict(result.as_metadata().items()),
        "rejected": rejected,
        "table": f"raw.{table.name}",
    }


def _catalog_asset(catalog: Catalog) -> dg.AssetsDefinition:
    @raw_table_asset(GROUP, catalog.table, "odata", name=catalog.name, pool=POOL, description=catalog.description)
    def _asset(
        context: dg.AssetExecutionContext, onec: OnecResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with reported_as_failure(LABEL), warehouse.connect() as conn:
            records = onec.client().iter_all(configured_set(context, onec, catalog.endpoint), orderby=["Ref_Key"])
            return dg.MaterializeResult(
                metadata=_load_whole(
                    context, conn, catalog.table, records, catalog_row, f"onec/{catalog.name}", window=None
                )
            )

    return _asset


@raw_table_asset(GROUP, tables.ONEC_OPENING_BALANCES, "odata", pool=POOL)
def opening_balances(
    context: dg.AssetExecutionContext, onec: OnecResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """History migrated into 1C (Document_ВводНачальныхОстатков): customers' lifetime totals only
    reconcile with 1C when it is included. Its date lies before the daily partitions, so it has its own asset."""
    day = date.fromisoformat(onec.opening_balances_date)
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        records = onec.client().iter_window(
            configured_set(context, onec, "sales_endpoint"), day, day + timedelta(1), orderby=("Recorder", "LineNumber")
        )
        migrated = (r for r in records if MIGRATION_DOCUMENT in (r.get("Recorder_Type") or ""))
        return dg.MaterializeResult(
            metadata=_load_whole(
                context,
                conn,
                tables.ONEC_OPENING_BALANCES,
                migrated,
                sales_row,
                "onec/opening_balances",
                window=Window("true", (), "all"),
            )
        )


@raw_table_asset(GROUP, tables.ONEC_BONUS_BALANCES, "odata", pool=POOL, output_required=False)
def bonus_balances(context: dg.AssetExecutionContext, onec: OnecResource, warehouse: WarehouseResource):
    """Current bonus balance per card, from the register's Balance virtual table (not the newest row)."""
    entity_set = configured_set(context, onec, "bonus_balances_endpoint")
    if entity_set is None:
        return
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        records = onec.client().iter_all(entity_set)
        yield dg.MaterializeResult(
            metadata=_load_whole(
                context,
                conn,
                tables.ONEC_BONUS_BALANCES,
                records,
                bonus_balance_row,
                "onec/bonus_balances",
                window=Window("true", (), "all"),
            )
        )


register_assets = [_register_asset(r) for r in REGISTERS]
catalog_assets = [_catalog_asset(c) for c in CATALOGS]
onec_assets = [*register_assets, *catalog_assets, opening_balances, bonus_balances]
