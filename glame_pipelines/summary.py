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
        rows = conn.execute(
            """
            select period::date as day, sum(amount) as revenue, count(distinct recorder) as documents
            from raw.onec_sales
            where active
            group by 1
            order by 1 desc
            limit 7
            """
        ).fetchall() if any(name == "onec_sales" for (name,) in tables) else []
        if rows:
            print("\nRevenue per Moscow day, last week (1C sales register, returns subtracted):")
            for day, revenue, documents in reversed(rows):
                print(f"  {day}  {revenue:>14,.2f} RUB  {documents:>4} documents")
