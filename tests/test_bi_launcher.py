"""The launcher's secrets and the read-only role, without Superset (fast)."""

from __future__ import annotations

import stat
import time

import psycopg
import pytest

from glame_pipelines.bi import launcher


def test_a_secret_is_generated_once_into_a_0600_file(tmp_path, monkeypatch):
    """The admin password is never a constant, never printed: generated once, kept, readable by us only."""
    monkeypatch.delenv("GLAME_BI_ADMIN_PASSWORD", raising=False)
    first, path = launcher.kept_secret(tmp_path / "admin_password", "GLAME_BI_ADMIN_PASSWORD")
    again, _ = launcher.kept_secret(tmp_path / "admin_password", "GLAME_BI_ADMIN_PASSWORD")
    assert first == again and len(first) >= 24
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("GLAME_BI_ADMIN_PASSWORD", "from-the-environment")
    assert launcher.kept_secret(tmp_path / "admin_password", "GLAME_BI_ADMIN_PASSWORD") == (
        "from-the-environment",
        None,
    )


def test_print_login_names_the_file_not_the_password(tmp_path, capsys):
    settings = launcher.BiSettings(
        home=tmp_path,
        port=8088,
        metadata_url="",
        warehouse_url="",
        reader_url="",
        reader_password="r",
        admin_password="s3cret-value",
        secret_key="k",
        admin_password_file=tmp_path / "admin_password",
    )
    launcher.print_login(settings)
    out = capsys.readouterr().out
    assert str(tmp_path / "admin_password") in out and "s3cret-value" not in out


def test_reader_url_swaps_the_user_and_keeps_a_socket_host():
    url = launcher.reader_url("postgresql://postgres:@/glame?host=/srv/.glame/pgdata", "p@ss/word")
    assert url == "postgresql+psycopg2://glame_superset:p%40ss%2Fword@/glame?host=/srv/.glame/pgdata"
    assert launcher.reader_url("postgresql://u:x@db:5433/w", "p").startswith(
        "postgresql+psycopg2://glame_superset:p@db:5433/w"
    )


def test_the_reader_role_selects_marts_only_and_cannot_write(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "create schema raw; create table raw.secret (a int); create schema marts; "
            "create table marts.visible (a int); insert into marts.visible values (1)"
        )
    launcher.ensure_reader_role(warehouse_url, "reader-pass")
    launcher.ensure_reader_role(warehouse_url, "reader-pass")  # idempotent
    reader = launcher.reader_url(warehouse_url, "reader-pass").replace("+psycopg2", "")
    with psycopg.connect(reader, autocommit=True) as conn:
        assert conn.execute("select a from marts.visible").fetchall() == [(1,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw.secret")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("insert into marts.visible values (2)")


def test_gunicorn_gets_a_worker_per_core_up_to_four_unless_told(monkeypatch):
    """One worker's threads share a GIL: a dashboard's chart requests ran one after another on one core."""
    monkeypatch.delenv("GLAME_BI_WORKERS", raising=False)
    monkeypatch.delenv("GLAME_BI_THREADS", raising=False)
    monkeypatch.setattr(launcher.os, "cpu_count", lambda: 2)
    assert launcher.server_concurrency() == (2, 4)
    monkeypatch.setattr(launcher.os, "cpu_count", lambda: 16)
    assert launcher.server_concurrency()[0] == 4
    monkeypatch.setenv("GLAME_BI_WORKERS", "3")
    monkeypatch.setenv("GLAME_BI_THREADS", "2")
    assert launcher.server_concurrency() == (3, 2)


def _settings(home, warehouse_url: str = "") -> launcher.BiSettings:
    return launcher.BiSettings(
        home=home,
        port=8088,
        metadata_url="",
        warehouse_url=warehouse_url,
        reader_url="",
        reader_password="r",
        admin_password="a",
        admin_password_file=None,
        secret_key="k",
    )


def test_clearing_the_cache_removes_entries_and_keeps_the_folders_superset_writes_into(tmp_path):
    settings = _settings(tmp_path)
    for region in ("data", "metadata"):
        (launcher.cache_dir(settings) / region).mkdir(parents=True)
        (launcher.cache_dir(settings) / region / "entry").write_text("cached")
    assert launcher.clear_cache(settings) == 2
    assert sorted(p.name for p in launcher.cache_dir(settings).iterdir()) == ["data", "metadata"]
    assert not any(p.is_file() for p in launcher.cache_dir(settings).rglob("*"))


def test_the_marts_signature_changes_when_a_build_replaces_or_writes_a_mart(warehouse_url):
    """The cache keeper's only trigger: a stale chart would otherwise be served for a day."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("create schema marts; create table marts.daily (a int); create table raw_only (a int)")
    first = launcher.marts_signature(warehouse_url)
    assert launcher.marts_signature(warehouse_url) == first
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("insert into raw_only values (1)")  # not a mart: no change
        conn.execute("drop table marts.daily; create table marts.daily (a int)")  # dbt's table rebuild
    rebuilt = launcher.marts_signature(warehouse_url)
    assert rebuilt[0] != first[0]
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("insert into marts.daily values (1), (2)")  # an incremental model's new rows
    deadline = time.monotonic() + 10  # Postgres publishes a backend's counters within a second or so
    while launcher.marts_signature(warehouse_url) == rebuilt and time.monotonic() < deadline:
        time.sleep(0.2)
    assert launcher.marts_signature(warehouse_url)[1] >= rebuilt[1] + 2


def test_the_cache_keeper_warms_at_start_and_clears_and_rewarms_only_after_the_marts_change(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    (launcher.cache_dir(settings) / "data").mkdir(parents=True)
    signatures = iter([("1", 10), ("1", 10), ("1", 10), ("2", 10)])
    warmed, cleared = [], []
    keeper = launcher.CacheKeeper(settings, interval=0)

    def signature(_url):
        try:
            return next(signatures)
        except StopIteration:
            keeper.stop()
            return ("2", 10)

    def warm(bi, on_start=None):
        warmed.append(bi)
        (launcher.cache_dir(bi) / "data" / f"entry{len(warmed)}").write_text("cached")
        return []

    monkeypatch.setattr(launcher, "marts_signature", signature)
    monkeypatch.setattr(launcher, "warm", warm)
    monkeypatch.setattr(launcher, "clear_cache", lambda bi: cleared.append(bi) or 1)
    keeper.run()  # in this thread: it returns once stopped
    assert len(warmed) == 2 and len(cleared) == 1


def test_without_chromium_there_is_no_warm_up_and_no_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GLAME_CHROMIUM", str(tmp_path / "no-chromium"))
    assert launcher.warm(_settings(tmp_path)) is None
