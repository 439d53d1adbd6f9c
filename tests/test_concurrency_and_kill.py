"""Two loads of one partition never interleave; a loader killed mid-partition leaves the previous rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psycopg

from glame_pipelines.warehouse.loader import Column, RawTable, Window, load

TABLE = RawTable("things", (Column("id", "text"), Column("day", "date"), Column("amount", "numeric")), ("id",))
WINDOW = Window("day = %s", ("2025-01-01",), "2025-01-01")


def rows(*ids):
    return [(i, "2025-01-01", "1", {"id": i}) for i in ids]


def test_two_loads_of_the_same_partition_wait_for_each_other(warehouse_url):
    """A schedule tick and a manual backfill of the same day: the second waits, then replaces; no mixture."""
    order = []

    def slow(items):
        for item in items:
            time.sleep(0.3)
            yield item
        order.append("first copied")

    def first():
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            load(conn, TABLE, slow(rows("a", "b", "c")), window=WINDOW)
            order.append("first committed")

    def second():
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            load(conn, TABLE, rows("a", "d"), window=WINDOW)
            order.append("second committed")

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        load(conn, TABLE, [], window=WINDOW)  # the table exists before the race
    one = threading.Thread(target=first)
    one.start()
    time.sleep(0.2)
    two = threading.Thread(target=second)
    two.start()
    one.join(10)
    two.join(10)
    assert order == ["first copied", "first committed", "second committed"]
    with psycopg.connect(warehouse_url) as conn:
        assert [r[0] for r in conn.execute("select id from raw.things order by id")] == ["a", "d"]


def test_a_new_day_streamed_in_and_another_day_carrying_the_same_key_do_not_clash(warehouse_url):
    """Record k is re-dated while two days load at once: day 1 (a new window) has COPYed k straight into
    the table, uncommitted, when day 2 (through the stage) also brings k. Day 2 waits for day 1 and then
    moves k: one row for k, no unique-key failure."""
    day1, day2 = Window("day = %s", ("2025-01-01",), "2025-01-01"), Window("day = %s", ("2025-01-02",), "2025-01-02")
    errors = []

    def day1_source():
        yield ("k", "2025-01-01", "1", {"id": "k"})
        for n in range(3000):  # enough to flush COPY's buffer: k reaches the server before the pause
            yield (f"f{n:04}", "2025-01-01", "1", {"id": n})
        time.sleep(1.0)

    def run(name, window, source):
        try:
            with psycopg.connect(warehouse_url, autocommit=True) as conn:
                load(conn, TABLE, source, window=window)
        except Exception as error:
            errors.append((name, error))

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        load(conn, TABLE, [("y", "2025-01-02", "1", {"id": "y"})], window=day2)
    one = threading.Thread(target=run, args=("day 1", day1, day1_source))
    two = threading.Thread(
        target=run, args=("day 2", day2, [("k", "2025-01-02", "2", {"id": "k"}), ("y", "2025-01-02", "1", {"id": "y"})])
    )
    one.start()
    time.sleep(0.5)
    two.start()
    one.join(10)
    two.join(10)
    assert errors == []
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select day::text, amount from raw.things where id = 'k'").fetchall() == [("2025-01-02", 2)]
        assert conn.execute("select count(*) from raw.things").fetchone()[0] == 3002


LOADER = textwrap.dedent("""
    import sys, time, psycopg
    from glame_pipelines.warehouse.loader import Column, RawTable, Window, load
    table = RawTable("things", (Column("id", "text"), Column("day", "date"), Column("amount", "numeric")), ("id",))
    def rows():
        for n in range(100_000):
            if n == 50_000:
                print("halfway", flush=True)
                time.sleep(60)
            yield (f"new{n}", "2025-01-01", "2", {"n": n})
    with psycopg.connect(sys.argv[1], autocommit=True) as conn:
        load(conn, table, rows(), window=Window("day = %s", ("2025-01-01",), "2025-01-01"))
""")


def test_a_loader_killed_mid_partition_leaves_the_previous_rows(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        load(conn, TABLE, rows("old1", "old2"), window=WINDOW)
        before = conn.execute("select * from raw.things order by id").fetchall()
    process = subprocess.Popen([sys.executable, "-c", LOADER, warehouse_url], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "halfway"  # 50,000 rows are in its staging table
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for _ in range(50):  # the server notices the dead backend and rolls its transaction back
            if not conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and state <> 'idle'"
            ).fetchone()[0]:
                break
            time.sleep(0.1)
        assert conn.execute("select * from raw.things order by id").fetchall() == before
        load(conn, TABLE, rows("old1", "new"), window=WINDOW)  # the re-run
        assert [r[0] for r in conn.execute("select id from raw.things order by id")] == ["new", "old1"]
