"""What every source's assets share: the warehouse resource, the daily partitions, env wiring."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg
from pydantic import Field

from glame_pipelines.clients.http import ApiError, TransientError
from glame_pipelines.settings import TIMEZONE, history_start, moscow_today
from glame_pipelines.sources import SourceNotConfigured
from glame_pipelines.warehouse.connection import WAREHOUSE_URL_ENV, WarehouseNotConfigured, connect
from glame_pipelines.warehouse.loader import Window, load
from glame_pipelines.warehouse.tables import LOAD_REJECTS

warnings.filterwarnings("ignore", category=dg.BetaWarning)  # backfill_policy: single-run backfills are what we need

daily_partitions = dg.DailyPartitionsDefinition(start_date=history_start(), timezone=TIMEZONE, end_offset=0)


class WarehouseResource(dg.ConfigurableResource):
    """The Postgres warehouse the raw tables land in."""

    url: str | None = Field(default=None, description=f"Postgres URL, from {WAREHOUSE_URL_ENV}.")

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        if not self.url:
            raise WarehouseNotConfigured(f"{WAREHOUSE_URL_ENV} is not set: `glame run` sets it, or export it.")
        with connect(self.url, autocommit=True) as conn:  # each load commits its own transaction
            yield conn


def step_retry_policy() -> dg.RetryPolicy | None:
    """Steps of the scheduled and sensor runs are retried after transient failures (a vendor's 5xx storm,
    a dropped database connection): GLAME_STEP_RETRIES times (default 2), GLAME_STEP_RETRY_DELAY seconds
    apart (default 60, doubling). `glame run` sets 0: an operator at the terminal re-runs it."""
    retries = int(os.environ.get("GLAME_STEP_RETRIES", "2"))
    if retries <= 0:
        return None
    return dg.RetryPolicy(
        max_retries=retries, delay=float(os.environ.get("GLAME_STEP_RETRY_DELAY", "60")), backoff=dg.Backoff.EXPONENTIAL
    )


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The Moscow days of the run's partition range, in order."""
    window = context.partition_time_window
    first, last = window.start.date(), window.end.date()
    return [first + timedelta(n) for n in range((last - first).days)]


@contextmanager
def reported_as_failure(source_label: str) -> Iterator[None]:
    """A source's expected failures (not configured, auth, API errors) become one clear Dagster
    failure naming the source, instead of a stack trace."""
    try:
        yield
    except SourceNotConfigured as error:
        raise dg.Failure(description=f"{source_label} is {error}", allow_retries=False) from None
    except WarehouseNotConfigured as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    except TransientError as error:  # a 5xx storm outlasting the client's own retries: the step is retried
        raise dg.Failure(description=f"{source_label}: {error}", allow_retries=True) from None
    except ApiError as error:  # auth, permissions, a bad request: retrying cannot help
        raise dg.Failure(description=f"{source_label}: {error}", allow_retries=False) from None


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


def is_latest_day(day: date) -> bool:
    """Snapshots (followers, members, subscribers) exist only now: they are taken for the latest day."""
    return day >= moscow_today() - timedelta(1)


def moscow_midnight(day: date):
    return datetime.combine(day, time(0), ZoneInfo(TIMEZONE))


def load_day(context: dg.AssetExecutionContext, conn: psycopg.Connection, table, day: date, rows, **scope):
    """Replace one Moscow day of `table` for one account/counter/group (`scope` columns)."""
    predicate = " and ".join(["date = %s", *(f"{column} = %s" for column in scope)])
    label = ":".join([day.isoformat(), *map(str, scope.values())])
    return load(conn, table, rows, run_id=context.run_id, window=Window(predicate, (day, *scope.values()), label))


def count_rows(conn: psycopg.Connection, table, where: str = "true", params: tuple = ()) -> int:
    return conn.execute(f"select count(*) from raw.{table.name} where {where}", params).fetchone()[0]
