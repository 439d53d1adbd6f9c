"""1C's raw tables: the registers and the receipts journal, keyed as 1C keys them, and the catalogs."""

from __future__ import annotations

from glame_pipelines.warehouse.loader import Column, RawTable

_REGISTER_HEAD = (
    Column("recorder", "text", "Document that posted the record (1C Recorder)."),
    Column("line_number", "integer", "Record number within the recorder."),
    Column("recorder_type", "text", "Recorder_Type, e.g. StandardODATA.Document_ОтчетОРозничныхПродажах."),
    Column("period", "timestamp", "Period: naive Moscow local time, as 1C keeps it."),
    Column("active", "boolean", "Active: inactive records do not count."),
)

_REGISTER_KEY = ("recorder", "line_number")

_SALES_COLUMNS = (
    *_REGISTER_HEAD,
    Column("store_key", "text", "Склад_Key."),
    Column("product_key", "text", "Номенклатура_Key."),
    Column("counterparty_key", "text", "Контрагент_Key (empty for anonymous retail)."),
    Column("quantity", "numeric", "Количество (negative for returns)."),
    Column("amount", "numeric", "Сумма in rubles (negative for returns)."),
)

ONEC_SALES = RawTable(
    "onec_sales",
    _SALES_COLUMNS,
    _REGISTER_KEY,
    "AccumulationRegister_Продажи_RecordType, one row per register record.",
    indexes=("period",),
)

ONEC_OPENING_BALANCES = RawTable(
    "onec_opening_balances",
    _SALES_COLUMNS,
    _REGISTER_KEY,
    "Sales-register records of Document_ВводНачальныхОстатков (migrated history).",
)

ONEC_CARD_SALES = RawTable(
    "onec_card_sales",
    (
        *_REGISTER_HEAD,
        Column("card_key", "text", "ДисконтнаяКарта_Key."),
        Column("owner_key", "text", "ВладелецКарты_Key (Catalog_Контрагенты)."),
        Column("product_key", "text", "Номенклатура_Key."),
        Column("quantity", "numeric", "Количество."),
        Column("amount", "numeric", "Сумма."),
        Column("discount", "numeric", "Скидка."),
    ),
    _REGISTER_KEY,
    "AccumulationRegister_ПродажиПоДисконтнымКартам_RecordType.",
    indexes=("period",),
)

ONEC_BONUS_POINTS = RawTable(
    "onec_bonus_points",
    (
        *_REGISTER_HEAD,
        Column("record_type", "text", "Receipt (accrued) or Expense (spent)."),
        Column("card_key", "text", "БонуснаяКарта_Key."),
        Column("accrued", "numeric", "Начислено."),
        Column("to_write_off", "numeric", "КСписанию."),
    ),
    _REGISTER_KEY,
    "AccumulationRegister_БонусныеБаллы_RecordType.",
    indexes=("period",),
)

ONEC_BONUS_BALANCES = RawTable(
    "onec_bonus_balances",
    (
        Column("card_key", "text", "БонуснаяКарта_Key."),
        Column("accrued_balance", "numeric", "НачисленоBalance."),
        Column("to_write_off_balance", "numeric", "КСписаниюBalance."),
    ),
    ("card_key",),
    "The Balance virtual table of the bonus register: current balance per card.",
)

ONEC_RECEIPTS = RawTable(
    "onec_receipts",
    (
        Column("ref", "text", "The receipt document's reference."),
        Column("document_type", "text", "Type, e.g. StandardODATA.Document_ЧекККМ."),
        Column("document_date", "timestamp", "Date: naive Moscow local time."),
        Column("customer_key", "text", "Покупатель_Key."),
        Column("store_key", "text", "Склад_Key, when the journal has it."),
        Column("amount", "numeric", "СуммаДокумента, when the journal has it."),
    ),
    ("ref",),
    "DocumentJournal_РозничныеПродажи: retail receipts.",
    indexes=("document_date",),
)


def catalog_table(name: str, description: str) -> RawTable:
    """A 1C catalog: every catalog the project reads has these four fields worth a column."""
    return RawTable(
        name,
        (
            Column("ref_key", "text", "Ref_Key."),
            Column("code", "text", "Code."),
            Column("description", "text", "Description."),
            Column("deletion_mark", "boolean", "DeletionMark: marked for deletion in 1C."),
        ),
        ("ref_key",),
        description,
    )


ONEC_DISCOUNT_CARDS = catalog_table("onec_discount_cards", "Catalog_ДисконтныеКарты.")

ONEC_CUSTOMERS = catalog_table("onec_customers", "Catalog_Контрагенты.")

ONEC_PRODUCTS = catalog_table("onec_products", "Catalog_Номенклатура.")

ONEC_STORES = catalog_table("onec_stores", "Catalog_Склады.")

TABLES = (
    ONEC_SALES,
    ONEC_OPENING_BALANCES,
    ONEC_CARD_SALES,
    ONEC_BONUS_POINTS,
    ONEC_BONUS_BALANCES,
    ONEC_RECEIPTS,
    ONEC_DISCOUNT_CARDS,
    ONEC_CUSTOMERS,
    ONEC_PRODUCTS,
    ONEC_STORES,
)
