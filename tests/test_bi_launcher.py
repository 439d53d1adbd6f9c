"""The launcher's secrets and the read-only role, without Superset (fast)."""

from __future__ import annotations

import stat

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
