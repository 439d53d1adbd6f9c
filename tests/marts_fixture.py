"""A small fixed dataset in the raw tables, every figure of which the mart tests compute by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

from glame_pipelines.defs.ftp_counters.tables import FTP_COUNTER_VISITS
from glame_pipelines.defs.instagram.tables import INSTAGRAM_ACCOUNT_DAILY
from glame_pipelines.defs.onec.tables import (
    ONEC_BONUS_BALANCES,
    ONEC_CARD_SALES,
    ONEC_CUSTOMERS,
    ONEC_DISCOUNT_CARDS,
    ONEC_OPENING_BALANCES,
    ONEC_PRODUCTS,
    ONEC_RECEIPTS,
    ONEC_SALES,
    ONEC_STORES,
)
from glame_pipelines.defs.onec_files.tables import ONEC_SALES_FILES
from glame_pipelines.defs.telegram.tables import TELEGRAM_CHANNEL_DAILY
from glame_pipelines.defs.vk.tables import VK_GROUP_DAILY, VK_GROUP_STATS, VK_WALL_POSTS
from glame_pipelines.defs.yandex_metrika.tables import YANDEX_METRIKA_TRAFFIC
from glame_pipelines.warehouse.loader import ensure_table, load
from glame_pipelines.warehouse.tables import all_raw_tables

CENTRUM = "b5b075c2-a355-5256-83ea-c38497c7bca8"
YALTA = "32b3ea24-1e4b-50b5-8a81-ef8348413b7f"
ONLINE = "0d8483ba-1341-5348-a502-8c2c516af529"
D1, D2 = date(2025, 3, 10), date(2025, 3, 11)
P1, P2 = "p1-ring", "p2-bag"
C1, C2, K1 = "c1-anna", "c2-maria", "k1-card"
SHIFT = "StandardODATA.Document_ОтчетОРозничныхПродажах"
ORDER = "StandardODATA.Document_РасходнаяНакладная"
MIGRATION = "StandardODATA.Document_ВводНачальныхОстатков"


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def sale(recorder, line, kind, moment, store, product, qty, amount, customer=None, active=True):
    return (
        recorder,
        line,
        kind,
        moment,
        active,
        store,
        product,
        customer,
        str(qty),
        str(amount),
        {"Recorder": recorder, "LineNumber": line, "Сумма": amount},
    )


ROWS = {
    ONEC_STORES: [
        (CENTRUM, "1", "GLAME ТЦ Центрум", False, {}),
        (YALTA, "2", "GLAME Ялта", False, {}),
        (ONLINE, "3", "Интернет-магазин", False, {}),
    ],
    ONEC_PRODUCTS: [
        (P1, "00-1", "Кольцо Aurora", False, {"Артикул": "11111", "IsFolder": False}),
        (P2, "00-2", "Пакет подарочный", False, {"Артикул": "", "IsFolder": False}),
    ],
    ONEC_SALES: [
        sale("sr1", 1, SHIFT, at(D1, 22), CENTRUM, P1, 2, 10000),
        sale("sr1", 2, SHIFT, at(D1, 22), CENTRUM, P2, 1, 50),
        sale("sr1", 3, SHIFT, at(D1, 22), CENTRUM, P1, -1, -5000),  # a return
        sale("sr2", 1, SHIFT, at(D1, 22), YALTA, P1, 1, 7000),
        sale("sr3", 1, SHIFT, at(D2, 22), CENTRUM, P1, 1, 3000),
        sale("sr3", 2, SHIFT, at(D2, 22), CENTRUM, P1, 1, 999, active=False),  # does not count
        sale("ord1", 1, ORDER, at(D1, 14), ONLINE, P1, 1, 4000, customer=C1),
    ],
    ONEC_OPENING_BALANCES: [
        sale("ob1", 1, MIGRATION, datetime(2023, 7, 31), CENTRUM, P1, 3, 30000, customer=C1),
        sale("ob1", 2, MIGRATION, datetime(2023, 7, 31), CENTRUM, P1, 1, 12000, customer=C2),
    ],
    ONEC_RECEIPTS: [
        ("r1", "StandardODATA.Document_ЧекККМ", at(D1, 12), C1, CENTRUM, "10050", {"Posted": True}),
        ("r2", "StandardODATA.Document_ЧекККМ", at(D1, 13), None, CENTRUM, "0", {"Posted": True}),
        ("r3", "StandardODATA.Document_ЧекККМВозврат", at(D1, 18), None, CENTRUM, "-5000", {"Posted": True}),
    ],
    ONEC_CARD_SALES: [
        ("r1", 1, "StandardODATA.Document_ЧекККМ", at(D1, 12), True, K1, C1, P1, "2", "10000", "500", {}),
        ("r1", 2, "StandardODATA.Document_ЧекККМ", at(D1, 12), True, K1, C1, P2, "1", "50", "0", {}),
    ],
    ONEC_CUSTOMERS: [
        (
            C1,
            "1",
            "Иванова Анна",
            False,
            {"ОсновныеСведения": "ФИО: Иванова Анна\nТелефон: 8 (978) 123-45-67\nГород: Ялта", "IsFolder": False},
        ),
        (
            C2,
            "2",
            "Петрова Мария",
            False,
            {"ОсновныеСведения": "ФИО: Петрова Мария\nТелефон: +7 978 765 43 21\nГород: Керчь", "IsFolder": False},
        ),
    ],
    ONEC_DISCOUNT_CARDS: [(K1, "000001", "Карта", False, {"КодКартыШтрихкод": "79781234567", "ВладелецКарты_Key": C1})],
    ONEC_BONUS_BALANCES: [(K1, "300", "0", {})],
    FTP_COUNTER_VISITS: [
        ("CENTRUM", "CENTRUM/250310.txt", 2, D1, at(D1, 10), at(D1, 11), 60, 58, "megacount_text", "MC", {}),
        ("CENTRUM", "CENTRUM/250310.txt", 3, D1, at(D1, 11), at(D1, 12), 40, 40, "megacount_text", "MC", {}),
    ],
    YANDEX_METRIKA_TRAFFIC: [
        ("1", D1, "Search engine traffic", 30, 25, 10, 90, 20, 3, 120, 1, 4000, False, 1, {}),
        ("1", D1, "Direct traffic", 20, 15, 5, 40, 50, 2, 60, None, None, False, 1, {}),
    ],
    INSTAGRAM_ACCOUNT_DAILY: [("ig", D1, 1000, 10, 50, 500, 900, 40, 70, 60, 5, 3, 2, 30, 4, {})],
    VK_GROUP_STATS: [("g", D1, 100, 80, 60, 300, 120, 200, 11, 2, 1, 3, 1, 0, {})],
    VK_GROUP_DAILY: [("g", D1, "GLAME", 1500, {})],
    VK_WALL_POSTS: [("-g", 7, datetime(2025, 3, 10, 9, tzinfo=UTC), 10, 2, 1, None, {"text": "без просмотров"})],
    TELEGRAM_CHANNEL_DAILY: [("-100", D1, "glame", "GLAME", "channel", 200, {})],
    ONEC_SALES_FILES: [
        (
            "h1",
            1,
            "history.xlsx",
            "xlsx_pivot",
            date(2025, 2, 1),
            date(2025, 3, 1),
            "Кольцо",
            "шт",
            "11111",
            None,
            "3",
            "9000",
            {},
        ),
        (
            "h1",
            2,
            "history.xlsx",
            "xlsx_pivot",
            date(2025, 3, 1),
            date(2025, 4, 1),
            "Кольцо",
            "шт",
            "11111",
            None,
            "1",
            "1234",
            {},
        ),
    ],
}


def load_fixture(conn) -> None:
    for table in all_raw_tables():
        ensure_table(conn, table)
    for table, rows in ROWS.items():
        load(conn, table, rows, run_id="fixture")
