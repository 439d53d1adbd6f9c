"""The bulk loader on a real Postgres: idempotent, atomic, reflects changes and deletions."""

from __future__ import annotations

import threading

import psycopg
import pytest

from glame_pipelines.warehouse.loader import (
    Column,
    RawTable,
    Rejects,
    Window,
    convert_records,
    ensure_table,
    load,
)

TABLE = RawTable("things", (Column("id", "text"), Column("day", "date"), Column("amount", "numeric")), ("id",))


def rows(*items):
    return [(i, d, a, {"id": i, "day": d, "amount": a}) for i, d, a in items]


def day_window(day: str) -> Window:
    return Window("day = %s", (day,), day)


def snapshot(conn):
    return conn.execute(
        "select id, day::text, amount, payload, _loaded_at, _run_id from raw.things order by id"
    ).fetchall()


def test_rerun_gives_an_identical_table(conn):
    data = rows(("a", "2025-01-01", "10.50"), ("b", "2025-01-01", "-3.00"))
    first = load(conn, TABLE, data, run_id="r1", window=day_window("2025-01-01"))
    before = snapshot(conn)
    second = load(conn, TABLE, data, run_id="r2", window=day_window("2025-01-01"))
    assert (first.inserted, first.updated, first.deleted) == (2, 0, 0)
    assert (second.inserted, second.updated, second.deleted, second.unchanged) == (0, 0, 0, 2)
    assert snapshot(conn) == before  # not even _loaded_at or _run_id moved


def test_window_reflects_changes_and_deletions_and_leaves_other_days(conn):
    load(
        conn,
        TABLE,
        rows(("a", "2025-01-01", "1"), ("b", "2025-01-01", "2"), ("c", "2025-01-02", "3")),
        run_id="r1",
        window=Window("true"),
    )
    result = load(
        conn,
        TABLE,
        rows(("a", "2025-01-01", "5"), ("d", "2025-01-01", "7")),
        run_id="r2",
        window=day_window("2025-01-01"),
    )
    assert (result.inserted, result.updated, result.deleted) == (1, 1, 1)
    assert [(r[0], r[1], str(r[2]), r[5]) for r in snapshot(conn)] == [
        ("a", "2025-01-01", "5", "r2"),
        ("c", "2025-01-02", "3", "r1"),
        ("d", "2025-01-01", "7", "r2"),
    ]


def test_upsert_without_window_deletes_nothing(conn):
    load(conn, TABLE, rows(("a", "2025-01-01", "1"), ("b", "2025-01-01", "2")))
    load(conn, TABLE, rows(("b", "2025-01-01", "9")))
    assert [(r[0], str(r[2])) for r in snapshot(conn)] == [("a", "1"), ("b", "9")]


def test_a_key_repeated_in_one_load_keeps_the_last_copy(conn):
    """$skip paging over live data can repeat a record; ON CONFLICT would fail on it."""
    result = load(
        conn, TABLE, rows(("a", "2025-01-01", "1"), ("a", "2025-01-01", "2")), window=day_window("2025-01-01")
    )
    assert result.received == 2 and result.inserted == 1
    assert [str(r[2]) for r in snapshot(conn)] == ["2"]


def test_failure_mid_load_keeps_the_previous_rows(conn):
    load(conn, TABLE, rows(("a", "2025-01-01", "1"), ("b", "2025-01-01", "2")), window=day_window("2025-01-01"))
    before = snapshot(conn)

    def broken_stream():
        yield from rows(("a", "2025-01-01", "100"))
        raise ConnectionError("page 2 never came")

    with pytest.raises(ConnectionError):
        load(conn, TABLE, broken_stream(), window=day_window("2025-01-01"))
    assert snapshot(conn) == before


def test_bad_records_are_rejected_with_a_reason_and_the_rest_load(conn):
    rejects = Rejects()
    records = [{"id": "a", "amount": "1"}, {"id": "b"}, {"id": "c", "amount": "2"}]
    converted = convert_records(records, lambda r: (r["id"], "2025-01-01", r["amount"]), rejects)
    result = load(conn, TABLE, converted, window=day_window("2025-01-01"))
    assert result.inserted == 2
    assert [(n, reason) for n, reason, _ in rejects.items] == [(2, "KeyError: 'amount'")]


def test_table_gains_new_columns_without_losing_rows(conn):
    load(conn, TABLE, rows(("a", "2025-01-01", "1")))
    wider = RawTable("things", (*TABLE.columns, Column("note", "text")), ("id",))
    load(conn, wider, [("b", "2025-01-01", "2", "hi", {"id": "b"})])
    assert conn.execute("select count(*), count(note) from raw.things").fetchone() == (2, 1)


def test_a_change_in_a_typed_column_alone_is_not_missed(conn):
    """A row whose payload is unchanged but whose typed value changed (a corrected file) is updated."""
    load(conn, TABLE, [("a", "2025-01-01", "1", {"id": "a"})], window=day_window("2025-01-01"))
    result = load(conn, TABLE, [("a", "2025-01-01", "2", {"id": "a"})], window=day_window("2025-01-01"))
    assert result.updated == 1
    assert [str(r[2]) for r in snapshot(conn)] == ["2"]


class Source:
    """A source the loader may read again (what the 1C assets pass): counts its reads."""

    def __init__(self, *batches):
        self.batches, self.reads = list(batches), 0

    def __call__(self):
        self.reads += 1
        return iter(self.batches[min(self.reads, len(self.batches)) - 1])


def test_a_new_window_streams_straight_in_and_a_rerun_goes_through_the_stage(conn):
    source = Source(rows(("a", "2025-01-01", "1"), ("b", "2025-01-01", "2")))
    first = load(conn, TABLE, source, run_id="r1", window=day_window("2025-01-01"))
    assert (first.received, first.inserted, source.reads) == (2, 2, 1)
    before = snapshot(conn)
    assert [r[5] for r in before] == ["r1", "r1"]
    second = load(conn, TABLE, source, run_id="r2", window=day_window("2025-01-01"))
    assert (second.inserted, second.unchanged, source.reads) == (0, 2, 2)
    assert snapshot(conn) == before


def test_a_repeated_key_in_a_new_window_reads_again_through_the_stage(conn):
    source = Source(rows(("a", "2025-01-01", "1"), ("a", "2025-01-01", "2")))
    result = load(conn, TABLE, source, window=day_window("2025-01-01"))
    assert (result.received, result.inserted, source.reads) == (2, 1, 2)
    assert [str(r[2]) for r in snapshot(conn)] == ["2"]


def test_a_key_already_in_another_window_moves_instead_of_failing(conn):
    """A record re-dated in the source: its key is in the table under the old day."""
    load(conn, TABLE, rows(("a", "2025-01-01", "1")), window=day_window("2025-01-01"))
    source = Source(rows(("a", "2025-01-02", "1"), ("b", "2025-01-02", "5")))
    result = load(conn, TABLE, source, window=day_window("2025-01-02"))
    assert (result.inserted, result.updated, source.reads) == (1, 1, 2)
    assert [(r[0], r[1]) for r in snapshot(conn)] == [("a", "2025-01-02"), ("b", "2025-01-02")]


def test_a_failure_while_streaming_into_a_new_window_writes_nothing(conn):
    load(conn, TABLE, rows(("a", "2025-01-01", "1")), window=day_window("2025-01-01"))
    before = snapshot(conn)

    def broken():
        yield from rows(("b", "2025-01-02", "2"))
        raise ConnectionError("page 2 never came")

    with pytest.raises(ConnectionError):
        load(conn, TABLE, broken, window=day_window("2025-01-02"))
    assert snapshot(conn) == before


def test_first_loads_of_two_tables_at_once_into_an_empty_warehouse(warehouse_url):
    """Two steps of different sources starting together on a new warehouse (Celery workers, a first daily
    run) each created the `raw` schema: `create schema if not exists` is not safe against a concurrent
    one, and a load failed with a duplicate-key error on pg_namespace."""
    tables = [RawTable(f"first_{n}", TABLE.columns, TABLE.key, schema="fresh") for n in range(6)]
    barrier = threading.Barrier(len(tables))
    errors = []

    def first_load(table: RawTable) -> None:
        with psycopg.connect(warehouse_url) as conn:
            barrier.wait()
            try:
                ensure_table(conn, table)
            except psycopg.Error as error:
                errors.append(error)

    threads = [threading.Thread(target=first_load, args=(t,)) for t in tables]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
