"""What the loaders share: the asset decorator of a raw table's load, replacing one day of a raw table, and
keeping the records that could not be read (with the reason) instead of failing the day for them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date

import dagster as dg
import psycopg

from glame_pipelines.defs.partitions import daily_partitions
from glame_pipelines.warehouse.loader import RawTable, Window, load
from glame_pipelines.warehouse.tables import LOAD_REJECTS


def raw_table_asset(group: str, table: RawTable, kind: str, *, daily: bool = False, **asset_args) -> Callable:
    """The decorator of an asset loading `table`: its source's group and key prefix, what it reads (`kind`:
    api, odata, ftp) and writes, the table in its metadata, and, for a day-by-day load, the daily
    partitions with a backfill in one run (each day of the range is replaced in its own transaction)."""
    if daily:
        asset_args = {
            "partitions_def": daily_partitions,
            "backfill_policy": dg.BackfillPolicy.single_run(),
            **asset_args,
        }
    return dg.asset(
        key_prefix=group,
        group_name=group,
        kinds={kind, "postgres"},
        metadata={"table": f"{table.schema}.{table.name}"},
        **asset_args,
    )


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
