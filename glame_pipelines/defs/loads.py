"""What the day-by-day loaders share: replacing one day of a raw table, and keeping the records that
could not be read (with the reason) instead of failing the day for them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date

import dagster as dg
import psycopg

from glame_pipelines.warehouse.loader import Window, load
from glame_pipelines.warehouse.tables import LOAD_REJECTS


def readable(records: Iterable, to_row: Callable, rejects) -> Iterator:
    """`to_row(record)` for each record of a list (None: not one of ours, skipped). An unreadable record
    (a field missing or of another type) is quarantined in `rejects` with its reason; the others load."""
    for number, record in enumerate(records, 1):
        try:
            row = to_row(record)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            rejects.items.append((number, f"{type(error).__name__}: {error}", record))
            continue
        if row is not None:
            yield row


def replace_rejects(conn: psycopg.Connection, source: str, partition: str, rejects, run_id: str | None) -> int:
    """Keep this load's rejected records (and only them) for its source and partition."""
    load(
        conn,
        LOAD_REJECTS,
        rejects.rows(source, partition),
        run_id=run_id,
        window=Window("source = %s and partition = %s", (source, partition), f"{source}:{partition}"),
    )
    return len(rejects.items)


def load_day(context: dg.AssetExecutionContext, conn: psycopg.Connection, table, day: date, rows, **scope):
    """Replace one Moscow day of `table` for one account/counter/group (`scope` columns)."""
    predicate = " and ".join(["date = %s", *(f"{column} = %s" for column in scope)])
    label = ":".join([day.isoformat(), *map(str, scope.values())])
    return load(conn, table, rows, run_id=context.run_id, window=Window(predicate, (day, *scope.values()), label))


def count_rows(conn: psycopg.Connection, table, where: str = "true", params: tuple = ()) -> int:
    return conn.execute(f"select count(*) from raw.{table.name} where {where}", params).fetchone()[0]
