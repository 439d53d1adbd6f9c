"""Raw landing tables: typed columns for keys and windows, the record itself in `payload`."""

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

LOAD_REJECTS = RawTable(
    "load_rejects",
    (
        Column("source", "text", "Asset key of the load."),
        Column("partition", "text", "Partition (or file) the record came from."),
        Column("record_no", "integer", "Position of the record in the source's answer or file line."),
        Column("reason", "text", "Why it was not loaded."),
    ),
    ("source", "partition", "record_no"),
    "Records that could not be loaded, kept with the reason.",
)


def _columns(spec: str) -> tuple[Column, ...]:
    """'name type, name type' -> columns (descriptions live in the dbt sources)."""
    return tuple(Column(*part.split()) for part in spec.split(", "))


YANDEX_METRIKA_TRAFFIC = RawTable(
    "yandex_metrika_traffic",
    _columns(
        "counter_id text, date date, traffic_source text, visits numeric, users numeric, new_users numeric, "
        "pageviews numeric, bounce_rate numeric, page_depth numeric, avg_visit_duration_seconds numeric, "
        "ecommerce_purchases numeric, ecommerce_revenue numeric, sampled boolean, sample_share numeric"
    ),
    ("counter_id", "date", "traffic_source"),
    "Yandex.Metrika visits by day and last traffic source.",
)
YANDEX_METRIKA_DEMOGRAPHICS = RawTable(
    "yandex_metrika_demographics",
    _columns(
        "counter_id text, date date, gender text, age_interval text, visits numeric, users numeric, sampled boolean, "
        "sample_share numeric"
    ),
    ("counter_id", "date", "gender", "age_interval"),
    "Visits by gender and age interval.",
)

INSTAGRAM_ACCOUNT_DAILY = RawTable(
    "instagram_account_daily",
    _columns(
        "account_id text, date date, followers_count bigint, follows_count bigint, media_count bigint, reach bigint, "
        "views bigint, accounts_engaged bigint, total_interactions bigint, likes bigint, comments bigint, "
        "shares bigint, "
        "saves bigint, profile_views bigint, new_followers bigint"
    ),
    ("account_id", "date"),
    "One row per account per Moscow day: insights of the day, and the follower snapshot when taken that day.",
)
INSTAGRAM_MEDIA = RawTable(
    "instagram_media",
    _columns(
        "media_id text, account_id text, posted_at timestamptz, media_type text, media_product_type text, "
        "like_count bigint, comments_count bigint, permalink text"
    ),
    ("media_id",),
    "Posts and reels, upserted.",
)
INSTAGRAM_MEDIA_INSIGHTS = RawTable(
    "instagram_media_insights",
    _columns(
        "media_id text, date date, reach bigint, views bigint, likes bigint, comments bigint, shares bigint, "
        "saved bigint, total_interactions bigint, unavailable_reason text"
    ),
    ("media_id", "date"),
    "Lifetime metrics of each media as of a Moscow day.",
)
INSTAGRAM_STORIES = RawTable(
    "instagram_stories",
    _columns(
        "story_id text, account_id text, posted_at timestamptz, reach bigint, views bigint, replies bigint, "
        "shares bigint, total_interactions bigint"
    ),
    ("story_id",),
    "Stories (they live 24 hours) with their latest insights; _loaded_at tells when they last changed.",
)

VK_GROUP_STATS = RawTable(
    "vk_group_stats",
    _columns(
        "group_id text, date date, views bigint, visitors bigint, mobile_views bigint, reach bigint, "
        "reach_subscribers bigint, mobile_reach bigint, likes bigint, comments bigint, copies bigint, "
        "subscribed bigint, "
        "unsubscribed bigint, hidden bigint"
    ),
    ("group_id", "date"),
    "stats.get by day.",
)
VK_GROUP_DAILY = RawTable(
    "vk_group_daily",
    _columns("group_id text, date date, name text, members_count bigint"),
    ("group_id", "date"),
    "Members snapshot, one row per group per day.",
)
VK_WALL_POSTS = RawTable(
    "vk_wall_posts",
    _columns(
        "owner_id text, post_id bigint, posted_at timestamptz, likes bigint, comments bigint, reposts bigint, "
        "views bigint"
    ),
    ("owner_id", "post_id"),
    "Wall posts with their counters (views may be missing).",
)

TELEGRAM_CHANNEL_DAILY = RawTable(
    "telegram_channel_daily",
    _columns("chat_id text, date date, username text, title text, type text, member_count bigint"),
    ("chat_id", "date"),
    "Subscribers snapshot, one row per channel per day.",
)
TELEGRAM_CHANNEL_POSTS = RawTable(
    "telegram_channel_posts",
    _columns("chat_id text, message_id bigint, posted_at timestamptz, edited boolean, text text"),
    ("chat_id", "message_id"),
    "Channel posts seen through getUpdates.",
)
SOURCE_STATE = RawTable("source_state", _columns("name text"), ("name",), "Cursors kept between runs (payload).")

FTP_COUNTER_VISITS = RawTable(
    "ftp_counter_visits",
    _columns(
        "store_folder text, file_path text, line_no integer, visit_date date, period_start timestamp, "
        "period_end timestamp, entries integer, exits integer, counter_format text, device text"
    ),
    ("store_folder", "file_path", "line_no"),
    "People-counter rows per file; a file replaces its store's rows for the days it covers.",
)
FTP_COUNTER_FILES = RawTable(
    "ftp_counter_files",
    _columns(
        "file_path text, store_folder text, size bigint, modified text, counter_format text, rows integer, "
        "rejects integer, status text"
    ),
    ("file_path",),
    "Every counter file seen, with how it loaded.",
)
FTP_COUNTER_REJECTS = RawTable(
    "ftp_counter_rejects",
    _columns("file_path text, line_no integer, raw_text text, reason text"),
    ("file_path", "line_no"),
    "Counter-file lines that did not parse, with the reason.",
)

ONEC_SALES_FILES = RawTable(
    "onec_sales_files",
    _columns(
        "file_hash text, row_no integer, file_name text, layout text, period_start date, period_end date, "
        "product_name text, unit text, article text, store text, quantity numeric, amount numeric"
    ),
    ("file_hash", "row_no"),
    "Sales exported from 1C to files; a file is keyed by its content hash.",
)
ONEC_SALES_FILE_MONTHS = RawTable(
    "onec_sales_file_months",
    _columns("file_hash text, month date, file_name text, layout text, has_quantity boolean, has_amount boolean"),
    ("file_hash", "month"),
    "The months each sales file covers and the measures it carries for them; "
    "_loaded_at orders the files for sales_monthly's overlap rule.",
)


def all_raw_tables() -> list[RawTable]:
    """Every landing table, so dbt's sources exist even for a source that never loaded."""
    return [value for value in globals().values() if isinstance(value, RawTable)]
