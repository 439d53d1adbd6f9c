"""The one bulk loader every source uses: stream rows through COPY into a temp table, then merge.

Everything happens in one transaction, so a failure at any point (a broken page, a killed process)
leaves the previous rows as they were. Merging by key with an anti-join means unchanged rows are
neither rewritten nor re-stamped: a re-run of the same data leaves the table byte-for-byte the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import orjson
import psycopg
from psycopg import sql

RAW_SCHEMA = "raw"
WORK_MEM = "64MB"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class RawTable:
    """A landing table: typed columns for keys and filters, plus the record as the API sent it."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str = ""
    schema: str = RAW_SCHEMA
    indexes: tuple[str, ...] = ()  # columns loads and models filter on (a day's window): one index each

    @property
    def ident(self) -> sql.Composed:
        return sql.Identifier(self.schema, self.name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def create_statements(self) -> list[sql.Composable]:
        typed = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in self.columns]
        key_not_null = [
            sql.SQL("{} {} not null").format(sql.Identifier(c.name), sql.SQL(c.type))
            for c in self.columns
            if c.name in self.key
        ]
        body = [
            *key_not_null,
            *(t for c, t in zip(self.columns, typed, strict=True) if c.name not in self.key),
            sql.SQL("payload jsonb not null"),
            sql.SQL("_loaded_at timestamptz not null default now()"),
            sql.SQL("_run_id text"),
            sql.SQL("primary key ({})").format(sql.SQL(", ").join(map(sql.Identifier, self.key))),
        ]
        statements: list[sql.Composable] = [
            sql.SQL("create schema if not exists {}").format(sql.Identifier(self.schema)),
            sql.SQL("create table if not exists {} ({})").format(self.ident, sql.SQL(", ").join(body)),
        ]
        statements += [
            sql.SQL("alter table {} add column if not exists {} {}").format(
                self.ident, sql.Identifier(c.name), sql.SQL(c.type)
            )
            for c in self.columns
        ]
        statements += [
            sql.SQL("create index if not exists {} on {} ({})").format(
                sql.Identifier(self.index_name(column)), self.ident, sql.Identifier(column)
            )
            for column in self.indexes
        ]
        return statements

    def index_name(self, column: str) -> str:
        return f"{self.name}_{column}_idx"


@dataclass(frozen=True)
class Window:
    """The slice of a table one load owns: rows in it that the source no longer has are deleted."""

    predicate: str  # SQL over the table's columns, with %s placeholders
    params: tuple = ()
    label: str = ""


@dataclass
class LoadResult:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = field(init=False, default=0)

    def finish(self, distinct: int) -> LoadResult:
        self.unchanged = distinct - self.inserted - self.updated
        return self

    def as_metadata(self) -> dict[str, int]:
        return dict(vars(self).items())


def table_exists(conn: psycopg.Connection, table: RawTable) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (f"{table.schema}.{table.name}",)).fetchone()[0]


def ensure_table(conn: psycopg.Connection, table: RawTable) -> None:
    """Create the table or add new columns, only when needed: DDL takes an exclusive lock, which
    would queue behind any long BI query on the table and then block every reader behind it. One lock per
    schema: two first loads of different tables each create the schema, and `create schema if not exists`
    fails against a concurrent one."""
    if not _missing_columns(conn, table) and not _missing_indexes(conn, table):
        return
    with conn.transaction():
        _lock(conn, f"ddl:{table.schema}")
        for statement in table.create_statements():
            conn.execute(statement)


def _missing_columns(conn: psycopg.Connection, table: RawTable) -> set[str]:
    present = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (table.schema, table.name),
        )
    }
    return {*table.column_names, "payload", "_loaded_at", "_run_id"} - present


def _missing_indexes(conn: psycopg.Connection, table: RawTable) -> set[str]:
    present = {
        row[0]
        for row in conn.execute(
            "select indexname from pg_indexes where schemaname = %s and tablename = %s", (table.schema, table.name)
        )
    }
    return {table.index_name(column) for column in table.indexes} - present


def load(
    conn: psycopg.Connection,
    table: RawTable,
    rows: Iterable[Sequence] | Callable[[], Iterable[Sequence]],
    *,
    run_id: str | None = None,
    window: Window | None = None,
) -> LoadResult:
    """Load `rows` (each: the table's typed columns in order, then the payload dict) atomically.

    With a `window`, the load replaces that slice: rows inside it missing from `rows` are deleted.
    Without one, it upserts by key and deletes nothing. Two loads of the same slice never interleave.
    On an autocommit connection each call is its own transaction; inside a caller's transaction it
    is a savepoint, committed with the caller's.

    `rows` may be a function that reads the source (again): then the first load of an empty window
    streams straight into the table, one write instead of stage and merge, and if a key turns out to be
    repeated or present outside the window, that attempt is rolled back and the source read again
    through the stage.
    """
    ensure_table(conn, table)
    with conn.transaction():
        _lock(conn, f"load:{table.schema}.{table.name}:{window.label if window else '*'}")
        conn.execute(f"set local work_mem = '{WORK_MEM}'")  # the stage joins hash in memory instead of spilling
        if callable(rows) and window is not None and _window_is_empty(conn, table, window):
            direct = _copy_into_table(conn, table, rows(), run_id)
            if direct is not None:
                return direct
        return _load_through_stage(conn, table, rows() if callable(rows) else rows, run_id, window)


def _window_is_empty(conn: psycopg.Connection, table: RawTable, window: Window) -> bool:
    query = sql.SQL("select not exists (select from {} where {})").format(table.ident, sql.SQL(window.predicate))
    return conn.execute(query, window.params).fetchone()[0]


def _copy_into_table(
    conn: psycopg.Connection, table: RawTable, rows: Iterable[Sequence], run_id: str | None
) -> LoadResult | None:
    """COPY straight into the table; None (and nothing written) when a key collides. The write lock orders
    it with merges of other windows, which could otherwise insert the same key unseen."""
    _lock(conn, _write_lock(table))
    try:
        with conn.transaction():
            count = _copy_rows(conn, table.ident, table, rows, extra=(run_id,), extra_columns=("_run_id",))
    except psycopg.errors.UniqueViolation:
        return None
    result = LoadResult(received=count, inserted=count)
    return result.finish(count)


def _load_through_stage(
    conn: psycopg.Connection, table: RawTable, rows: Iterable[Sequence], run_id: str | None, window: Window | None
) -> LoadResult:
    result = LoadResult()
    stage = _create_stage(conn, table)
    result.received = _copy_rows(conn, stage, table, rows)
    distinct = result.received - _dedupe_stage(conn, stage, table)
    if window is not None:
        result.deleted = _delete_missing(conn, stage, table, window)
    result.inserted, result.updated = _merge(conn, stage, table, run_id)
    return result.finish(distinct)


def _write_lock(table: RawTable) -> str:
    return f"write:{table.schema}.{table.name}"


def _lock(conn: psycopg.Connection, name: str) -> None:
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))


def _create_stage(conn: psycopg.Connection, table: RawTable) -> sql.Identifier:
    stage = sql.Identifier(f"_stage_{table.name}")
    columns = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in table.columns]
    conn.execute(
        sql.SQL(
            "create temp table {} ({}, payload jsonb not null, _seq bigint generated always as identity) on commit drop"
        ).format(stage, sql.SQL(", ").join(columns))
    )
    return stage


def _copy_rows(
    conn: psycopg.Connection,
    target: sql.Composable,
    table: RawTable,
    rows: Iterable[Sequence],
    extra: tuple = (),
    extra_columns: tuple[str, ...] = (),
) -> int:
    """COPY rows into `target` (the stage, or the table itself), `extra` values appended to each row."""
    width = len(table.columns)
    count = 0
    names = [*table.column_names, "payload", *extra_columns]
    statement = sql.SQL("copy {} ({}) from stdin").format(target, sql.SQL(", ").join(map(sql.Identifier, names)))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            if len(row) != width + 1:
                raise ValueError(f"{table.name}: expected {width} columns and a payload, got {len(row)} values")
            copy.write_row((*row[:width], _json(row[width]), *extra))
            count += 1
    return count


def _json(payload) -> str:
    return payload if isinstance(payload, str) else orjson.dumps(payload).decode()


def _key_match(left: str, right: str, key: Sequence[str]) -> sql.Composable:
    return sql.SQL(" and ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(k)
        )
        for k in key
    )


def _dedupe_stage(conn: psycopg.Connection, stage: sql.Identifier, table: RawTable) -> int:
    """Keep the last copy of a key ($skip paging over live data can repeat a record); returns how many went."""
    key = sql.SQL(", ").join(map(sql.Identifier, table.key))
    return conn.execute(
        sql.SQL(
            "delete from {stage} s using (select _seq, row_number() over (partition by {key} order by _seq desc) as rn "
            "from {stage}) d where s._seq = d._seq and d.rn > 1"
        ).format(stage=stage, key=key)
    ).rowcount


def _delete_missing(conn: psycopg.Connection, stage: sql.Identifier, table: RawTable, window: Window) -> int:
    query = sql.SQL(
        "delete from {table} t where ({predicate}) and not exists (select 1 from {stage} s where {match})"
    ).format(table=table.ident, predicate=sql.SQL(window.predicate), stage=stage, match=_key_match("s", "t", table.key))
    return conn.execute(query, window.params).rowcount


def _merge(conn: psycopg.Connection, stage: sql.Identifier, table: RawTable, run_id: str | None) -> tuple[int, int]:
    """Write what differs: one join of the stage with the table finds the new keys and the changed rows
    (rows equal in every column and payload are never rewritten), then the changed rows are updated and
    the new ones inserted with a plain insert, which costs about half an `insert … on conflict`. The lock
    keeps two loads of different windows that carry the same key (a record re-dated in the source) from
    racing between the join and the insert."""
    names = [*table.column_names, "payload"]
    match = _key_match("t", "s", table.key)
    first_key = sql.Identifier(table.key[0])
    delta = sql.Identifier(f"_delta_{table.name}")
    _lock(conn, _write_lock(table))
    conn.execute(
        sql.SQL(
            "create temp table {delta} on commit drop as "
            "select s.*, t.{first_key} is null as _is_new from {stage} as s left join {table} as t on {match} "
            "where t.{first_key} is null or ({tcols}) is distinct from ({scols})"
        ).format(
            delta=delta,
            stage=stage,
            table=table.ident,
            match=match,
            first_key=first_key,
            tcols=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in names),
            scols=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(n)) for n in names),
        )
    )
    updated = conn.execute(
        sql.SQL(
            "update {table} as t set {sets}, _loaded_at = now(), _run_id = %s from {delta} as s "
            "where not s._is_new and {match}"
        ).format(
            table=table.ident,
            delta=delta,
            match=match,
            sets=sql.SQL(", ").join(sql.SQL("{0} = s.{0}").format(sql.Identifier(n)) for n in names),
        ),
        (run_id,),
    ).rowcount
    inserted = conn.execute(
        sql.SQL(
            "insert into {table} ({cols}, _loaded_at, _run_id) select {cols}, now(), %s from {delta} where _is_new"
        ).format(table=table.ident, delta=delta, cols=sql.SQL(", ").join(map(sql.Identifier, names))),
        (run_id,),
    ).rowcount
    return inserted, updated


@dataclass
class Rejects:
    """Records that could not be turned into rows, with their reason; loaded beside the good ones."""

    items: list[tuple[int, str, object]] = field(default_factory=list)

    def rows(self, source: str, partition: str) -> list[tuple]:
        return [(source, partition, n, reason, {"record": record}) for n, reason, record in self.items]


def convert_records(records: Iterable, to_row, rejects: Rejects):
    """`to_row(record) + (record,)` for each record; a record it cannot convert goes to `rejects`."""
    for number, record in enumerate(records, 1):
        try:
            yield (*to_row(record), record)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            rejects.items.append((number, f"{type(error).__name__}: {error}", record))
