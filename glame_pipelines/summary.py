"""The demo's closing summary: what landed, and what it adds up to."""

from __future__ import annotations

from glame_pipelines.warehouse.connection import connect


def print_summary(warehouse_url: str) -> None:
    with connect(warehouse_url) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by table_name"
        ).fetchall()
        print("\nRows per raw table:")
        for (name,) in tables:
            count = conn.execute(f'select count(*) from raw."{name}"').fetchone()[0]
            print(f"  raw.{name:32} {count:>9,}")
        rows = (
            conn.execute(
                """
            select period::date as day, sum(amount) as revenue, count(distinct recorder) as documents
            from raw.onec_sales
            where active
            group by 1
            order by 1 desc
            limit 7
            """
            ).fetchall()
            if any(name == "onec_sales" for (name,) in tables)
            else []
        )
        if rows:
            print("\nRevenue per Moscow day, last week (1C sales register, returns subtracted):")
            for day, revenue, documents in reversed(rows):
                print(f"  {day}  {revenue:>14,.2f} RUB  {documents:>4} documents")
        unified = conn.execute("select to_regclass('marts.unified_daily') is not null").fetchone()[0]
        if unified:
            print("\nmarts.unified_daily, last 7 days:")
            header = (
                "date",
                "web visits",
                "IG reach",
                "VK reach",
                "TG subs",
                "visitors",
                "revenue, RUB",
                "orders",
                "AOV",
                "conversion",
            )
            print("  " + "  ".join(f"{h:>12}" for h in header))
            for row in conn.execute(
                "select date, web_visits, instagram_reach, vk_reach, telegram_subscribers, store_visitors, revenue, "
                "orders, average_order_value, store_conversion from marts.unified_daily "
                "order by date desc limit 7"
            ).fetchall()[::-1]:
                print("  " + "  ".join(f"{_cell(v):>12}" for v in row))


def _cell(value) -> str:
    if value is None:
        return "—"
    if hasattr(value, "as_tuple") and value == value.to_integral_value() and abs(value) >= 1:
        return f"{int(value):,}"
    if isinstance(value, float) or hasattr(value, "as_tuple"):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.2%}"
    return f"{value:,}" if isinstance(value, int) else str(value)
