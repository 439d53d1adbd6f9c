"""A deterministic jewellery retailer: stores, products, customers with discount cards, and every
day's receipts, shift reports, online orders, card sales and bonus points, as 1C would hold them.

Each day is generated from (seed, day) alone, so any window can be produced on demand, in any
order, and two runs agree to the kopeck.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
MIGRATION_DATE = datetime(2023, 7, 31)

SHIFT_REPORT = "StandardODATA.Document_ОтчетОРозничныхПродажах"
ONLINE_ORDER = "StandardODATA.Document_РасходнаяНакладная"
RECEIPT = "StandardODATA.Document_ЧекККМ"
RETURN_RECEIPT = "StandardODATA.Document_ЧекККМВозврат"
OPENING_BALANCES = "StandardODATA.Document_ВводНачальныхОстатков"


def ref(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "glame-sandbox:" + ":".join(map(str, parts))))


@dataclass(frozen=True)
class Store:
    code: str  # the people counter's FTP folder
    name: str
    city: str
    online: bool = False

    @property
    def ref(self) -> str:
        return ref("store", self.code)


STORES = (
    Store("CENTRUM", "GLAME ТЦ Центрум", "Симферополь"),
    Store("YALTA", "GLAME Ялта Набережная", "Ялта"),
    Store("SEVASTOPOL", "GLAME Севастополь Молл", "Севастополь"),
    Store("ONLINE", "Интернет-магазин glame.ru", "Симферополь", online=True),
)
PHYSICAL_STORES = tuple(s for s in STORES if not s.online)

_FAMILIES = {
    "Кольца": ("Кольцо", (2900, 18900)),
    "Серьги": ("Серьги", (2400, 15900)),
    "Колье": ("Колье", (4900, 24900)),
    "Браслеты": ("Браслет", (1900, 12900)),
    "Чокеры": ("Чокер", (1500, 6900)),
    "Подвески": ("Подвеска", (1200, 7900)),
}
_COLLECTIONS = ("Aurora", "Luna", "Stella", "Nova", "Crystal", "Iris", "Vega", "Selene", "Orion", "Lyra")
_SERVICE_ITEMS = (
    ("Упаковка", "Пакет подарочный", 50),
    ("Упаковка", "Упаковка подарочная", 250),
    ("Сертификаты", "Подарочный сертификат 3000", 3000),
    ("Сертификаты", "Подарочный сертификат 5000", 5000),
)
_FIRST = (
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Ирина",
    "Екатерина",
    "Светлана",
    "Юлия",
    "Дарья",
    "Алина",
    "Виктория",
    "Ксения",
    "Полина",
    "Татьяна",
)
_LAST = (
    "Иванова",
    "Смирнова",
    "Кузнецова",
    "Попова",
    "Васильева",
    "Петрова",
    "Соколова",
    "Михайлова",
    "Новикова",
    "Федорова",
    "Морозова",
    "Волкова",
    "Алексеева",
    "Лебедева",
    "Семенова",
)
_MIDDLE = ("Александровна", "Сергеевна", "Андреевна", "Игоревна", "Викторовна", "Олеговна", "Петровна")
_CITIES = ("Симферополь", "Ялта", "Севастополь", "Евпатория", "Феодосия", "Керчь")


@dataclass(frozen=True)
class Product:
    ref: str
    code: str
    article: str
    name: str
    folder: str
    price_kopecks: int
    is_service: bool


@dataclass(frozen=True)
class Customer:
    ref: str
    code: str
    name: str
    phone: str  # 11 digits starting with 7
    city: str
    card_ref: str
    card_code: str


@dataclass
class Line:
    product: Product
    quantity: int
    amount_kopecks: int
    discount_kopecks: int


@dataclass
class Receipt:
    ref: str
    number: str
    moment: datetime
    store: Store
    customer: Customer | None
    lines: list[Line]
    is_return: bool

    @property
    def total_kopecks(self) -> int:
        return sum(line.amount_kopecks for line in self.lines)


@dataclass
class Day:
    day: date
    receipts: list[Receipt] = field(default_factory=list)  # physical stores' till receipts
    orders: list[Receipt] = field(default_factory=list)  # online orders (one document each)


class RetailWorld:
    """The whole simulated business; generated lazily and cached per day."""

    def __init__(
        self,
        seed: int = 7,
        customers: int = 3000,
        history_start: date = date(2024, 1, 1),
        today: date | None = None,
        receipts_per_store_day: tuple[int, int] = (8, 22),
    ):
        self.seed = seed
        self.history_start = history_start
        self.today = today or datetime.now(MOSCOW).date()
        self.receipts_per_store_day = receipts_per_store_day
        self.products = self._make_products()
        self.customers = self._make_customers(customers)
        self.day = lru_cache(maxsize=1024)(self._make_day)

    # -- catalogs --

    def _make_products(self) -> list[Product]:
        rng = random.Random(f"{self.seed}:products")
        products = []
        for folder, (noun, (low, high)) in _FAMILIES.items():
            for collection in _COLLECTIONS:
                for variant in ("серебро", "позолота"):
                    article = str(rng.randint(10000, 99999))
                    price = rng.randrange(low, high, 100) * 100
                    products.append(
                        Product(
                            ref("product", article, folder, collection, variant),
                            f"00-{len(products) + 1:08d}",
                            article,
                            f"{noun} {collection} {variant}",
                            folder,
                            price,
                            False,
                        )
                    )
        for folder, name, rubles in _SERVICE_ITEMS:
            products.append(
                Product(ref("product", name), f"00-{len(products) + 1:08d}", "", name, folder, rubles * 100, True)
            )
        return products

    def _make_customers(self, count: int) -> list[Customer]:
        rng = random.Random(f"{self.seed}:customers")
        phones: set[str] = set()
        customers = []
        while len(customers) < count:
            phone = "7978" + f"{rng.randint(0, 9_999_999):07d}"
            if phone in phones:
                continue
            phones.add(phone)
            n = len(customers) + 1
            name = f"{rng.choice(_LAST)} {rng.choice(_FIRST)} {rng.choice(_MIDDLE)}"
            customers.append(
                Customer(ref("customer", n), f"{n:09d}", name, phone, rng.choice(_CITIES), ref("card", n), phone)
            )
        return customers

    def folders(self) -> list[str]:
        return [*_FAMILIES, "Упаковка", "Сертификаты"]

    # -- days --

    def days(self, start: date, end: date) -> list[Day]:
        """Days in [start, end) that have data (the history window, up to yesterday)."""
        first, last = max(start, self.history_start), min(end, self.today)
        return [self.day(first + timedelta(n)) for n in range((last - first).days)]

    def _make_day(self, day: date) -> Day:
        result = Day(day)
        weekend = day.weekday() >= 5
        low, high = self.receipts_per_store_day
        for store in PHYSICAL_STORES:
            rng = random.Random(f"{self.seed}:{day.isoformat()}:{store.code}")
            count = rng.randint(low, high) + (4 if weekend else 0)
            moments = sorted(
                datetime.combine(day, time(10)) + timedelta(minutes=rng.randint(0, 11 * 60 + 50)) for _ in range(count)
            )
            for n, moment in enumerate(moments, 1):
                result.receipts.append(self._receipt(rng, store, day, n, moment))
        online = STORES[-1]
        rng = random.Random(f"{self.seed}:{day.isoformat()}:{online.code}")
        for n in range(1, rng.randint(2, 7)):
            moment = datetime.combine(day, time(0)) + timedelta(minutes=rng.randint(0, 23 * 60 + 59))
            order = self._receipt(rng, online, day, n, moment, require_customer=True)
            result.orders.append(order)
        return result

    def _receipt(
        self, rng: random.Random, store: Store, day: date, n: int, moment: datetime, require_customer: bool = False
    ) -> Receipt:
        customer = rng.choice(self.customers) if require_customer or rng.random() < 0.55 else None
        is_return = not store.online and rng.random() < 0.04
        sign = -1 if is_return else 1
        lines = []
        jewellery = [p for p in self.products if not p.is_service]
        for _ in range(1 if is_return else rng.choice((1, 1, 1, 2, 2, 3))):
            product = rng.choice(jewellery)
            quantity = 1 if rng.random() < 0.9 else 2
            gross = product.price_kopecks * quantity
            discount = gross * (5 if customer else 0) // 100
            lines.append(Line(product, sign * quantity, sign * (gross - discount), sign * discount))
        if not is_return and rng.random() < 0.3:
            packaging = self.products[-4] if rng.random() < 0.7 else self.products[-3]
            lines.append(Line(packaging, 1, packaging.price_kopecks, 0))
        if not is_return and rng.random() < 0.03:
            certificate = rng.choice(self.products[-2:])
            lines.append(Line(certificate, 1, certificate.price_kopecks, 0))
        kind = "order" if store.online else "receipt"
        number = f"{store.code[:2]}{day:%y%m%d}-{n:04d}"
        return Receipt(ref(kind, store.code, day.isoformat(), n), number, moment, store, customer, lines, is_return)

    def shift_report_ref(self, store: Store, day: date) -> str:
        return ref("shift-report", store.code, day.isoformat())

    # -- migrated history --

    @lru_cache(maxsize=1)  # noqa: B019 - one world per process, kept for its lifetime
    def opening_balances(self) -> list[tuple[Store, list[tuple[Customer, Line]]]]:
        """Per physical store, one migrated document of lifetime purchases by customer (2023-07-31)."""
        rng = random.Random(f"{self.seed}:opening")
        docs: dict[Store, list[tuple[Customer, Line]]] = {s: [] for s in PHYSICAL_STORES}
        jewellery = [p for p in self.products if not p.is_service]
        for customer in self.customers:
            if rng.random() >= 0.4:
                continue
            store = rng.choice(PHYSICAL_STORES)
            for _ in range(rng.randint(1, 6)):
                product = rng.choice(jewellery)
                docs[store].append((customer, Line(product, 1, product.price_kopecks, 0)))
        return [(store, entries) for store, entries in docs.items() if entries]
