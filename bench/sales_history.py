"""A year of 1C sales history shaped like the brand's, written straight into the raw tables for the dbt bench:
receipts of four lines in three stores, one receipt in fifty a return, one document in twenty an online order
with a customer, a third of receipts paid with a discount card (so the customer marts have volume), the
receipts journal, catalogs of customers, cards, products and stores."""

from __future__ import annotations

from datetime import date

import psycopg

STORES = (
    "b5b075c2-a355-5256-83ea-c38497c7bca8",
    "32b3ea24-1e4b-50b5-8a81-ef8348413b7f",
    "6a9fb5d8-fb3e-5a11-9f4a-1dde21fa4d70",
)
LINES_PER_DOCUMENT = 4
PRODUCTS = 5000


def _documents(first: int, count: int, first_day: date, days: int, customers: int, prefix: str) -> str:
    """One row per document: its day, store, type and customer (null for anonymous retail)."""
    stores = ", ".join(f"'{s}'" for s in STORES)
    return f"""
        select '{prefix}' || d as ref, d,
               date '{first_day}' + (d % {days}) + interval '10 hours' + (d % 600) * interval '1 minute' as at,
               (array[{stores}])[d % 3 + 1] as store_key,
               case when d % 20 = 0 then 'StandardODATA.Document_ЗаказПокупателя'
                    when d % 50 = 1 then 'StandardODATA.Document_ЧекККМВозврат'
                    else 'StandardODATA.Document_ЧекККМ' end as type,
               case when d % 20 = 0 or d % 3 = 0 then 'customer' || (d::bigint * 7919 % {customers}) end as customer
        from generate_series({first}, {first + count - 1}) as d"""


def _lines(documents: str) -> str:
    return f"""
        select doc.*, l as line_number, 'product' || ((doc.d * 31 + l) % {PRODUCTS}) as product,
               case when doc.type like '%Возврат' then -1 else 1 end * (1 + l % 2) as quantity,
               case when doc.type like '%Возврат' then -1 else 1 end * (500 + (doc.d * 13 + l * 101) % 9500)::numeric
                   as amount
        from ({documents}) as doc, generate_series(1, {LINES_PER_DOCUMENT}) as l"""


def add_sales(
    conn: psycopg.Connection, lines: int, first_day: date, days: int, *, customers: int, prefix: str = "doc"
) -> None:
    """Register lines, card-sales lines and journal receipts for `lines` lines spread over `days` days."""
    documents = _documents(0, lines // LINES_PER_DOCUMENT, first_day, days, customers, prefix)
    conn.execute(f"""
        insert into raw.onec_sales (recorder, line_number, recorder_type, period, active, store_key, product_key,
                                    counterparty_key, quantity, amount, payload, _run_id)
        select ref, line_number, type, at, true, store_key, product,
               case when type like '%ЗаказПокупателя' then customer end, quantity, amount, '{{}}', 'bench'
        from ({_lines(documents)}) as line""")
    conn.execute(f"""
        insert into raw.onec_card_sales (recorder, line_number, recorder_type, period, active, card_key, owner_key,
                                         product_key, quantity, amount, discount, payload, _run_id)
        select ref, line_number, type, at, true, 'card-' || customer, customer, product, quantity, amount,
               round(amount * 0.05, 2), '{{}}', 'bench'
        from ({_lines(documents)}) as line
        where customer is not null and type not like '%ЗаказПокупателя'""")
    conn.execute(f"""
        insert into raw.onec_receipts (ref, document_type, document_date, customer_key, store_key, amount, payload,
                                       _run_id)
        select ref, type, at, customer, store_key, null, '{{}}', 'bench'
        from ({documents}) as doc
        where type not like '%ЗаказПокупателя'""")


def add_catalogs(conn: psycopg.Connection, customers: int) -> None:
    names = ("CENTRUM", "YALTA", "SEVASTOPOL")
    stores = ", ".join(
        f"('{key}', '{n}', '{name}', false, '{{}}', 'bench')"
        for n, (key, name) in enumerate(zip(STORES, names, strict=False), 1)
    )
    conn.execute(
        f"insert into raw.onec_stores (ref_key, code, description, deletion_mark, payload, _run_id) values {stores}"
    )
    conn.execute(f"""
        insert into raw.onec_products (ref_key, code, description, deletion_mark, payload, _run_id)
        select 'product' || n, n::text, case when n % 500 = 0 then 'Подарочный пакет ' || n else 'Товар ' || n end,
               false, '{{}}', 'bench'
        from generate_series(0, {PRODUCTS - 1}) as n""")
    conn.execute(f"""
        insert into raw.onec_customers (ref_key, code, description, deletion_mark, payload, _run_id)
        select 'customer' || n, n::text, 'Покупатель ' || n, false,
               jsonb_build_object('ОсновныеСведения', 'Телефон: +7 978 ' || lpad(n::text, 7, '0')), 'bench'
        from generate_series(0, {customers - 1}) as n""")
    conn.execute(f"""
        insert into raw.onec_discount_cards (ref_key, code, description, deletion_mark, payload, _run_id)
        select 'card-customer' || n, n::text, 'Карта ' || n, false,
               jsonb_build_object('КодКартыШтрихкод', '2' || lpad(n::text, 12, '0'), 'ВладелецКарты_Key',
                                  'customer' || n), 'bench'
        from generate_series(0, {customers - 1}) as n""")
