"""Where the warehouse is: `GLAME_WAREHOUSE_URL`, or an embedded Postgres (pgserver) in `.glame/`.

One libpq URL serves every consumer; this module derives the forms each one needs (psycopg,
SQLAlchemy for the Dagster instance, discrete settings for dbt's profile).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import psycopg

log = logging.getLogger(__name__)

WAREHOUSE_URL_ENV = "GLAME_WAREHOUSE_URL"
DAGSTER_URL_ENV = "GLAME_DAGSTER_PG_URL"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_DIR = Path(os.environ.get("GLAME_HOME", PROJECT_ROOT / ".glame"))


class WarehouseNotConfigured(RuntimeError):
    pass


@dataclass(frozen=True)
class PgSettings:
    """A Postgres URL taken apart (a socket directory is a host too)."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> PgSettings:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "localhost"])[0]
        return cls(
            host=unquote(host),
            port=int(query.get("port", [parts.port or 5432])[0]),
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=unquote(parts.path.lstrip("/") or "postgres"),
        )


def warehouse_url() -> str:
    """The configured warehouse; the embedded server only when the variable is unset."""
    url = os.environ.get(WAREHOUSE_URL_ENV)
    if url:
        return url
    raise WarehouseNotConfigured(
        f"{WAREHOUSE_URL_ENV} is not set. Point it at a Postgres database "
        "(postgresql://user:password@host:5432/db), or run through `glame demo` / `glame run`, which start "
        "an embedded Postgres in .glame/ when it is unset."
    )


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def sqlalchemy_url(url: str) -> str:
    """dagster-postgres goes through SQLAlchemy, which needs the psycopg2 driver named."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def dbt_env(url: str) -> dict[str, str]:
    """The variables `dbt_project/profiles.yml` reads."""
    settings = PgSettings.from_url(url)
    return {
        "GLAME_DB_HOST": settings.host,
        "GLAME_DB_PORT": str(settings.port),
        "GLAME_DB_USER": settings.user,
        "GLAME_DB_PASSWORD": settings.password,
        "GLAME_DB_NAME": settings.dbname,
    }


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, **kwargs)


def ensure_database(url: str, dbname: str) -> str:
    """Create `dbname` on the server of `url` when missing; returns its URL."""
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(f'create database "{dbname}"')
    return with_database(url, dbname)


def start_embedded(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded Postgres and return its URL.

    It is left running when this process exits (Dagster's run workers come and go); `stop_embedded`
    stops it.
    """
    data_dir = Path(data_dir or EMBEDDED_DIR / "pgdata")
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime folder it does not use here; on a server without a login
        # session (no XDG_RUNTIME_DIR) that printed a warning on every command
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver

        server = pgserver.get_server(data_dir, cleanup_mode=None)
    return server.get_uri("postgres")


def stop_embedded(data_dir: Path | None = None) -> None:
    from pgserver._commands import pg_ctl

    data_dir = Path(data_dir or EMBEDDED_DIR / "pgdata")
    if (data_dir / "postmaster.pid").exists():
        pg_ctl(["-w", "stop"], pgdata=data_dir, user="pgserver" if os.geteuid() == 0 else None)


def resolve_or_start_embedded() -> tuple[str, bool]:
    """The warehouse URL, starting the embedded server when none is configured. Says so once."""
    url = os.environ.get(WAREHOUSE_URL_ENV)
    if url:
        return url, False
    url = start_embedded()
    log.warning("%s is unset: using the embedded Postgres in %s", WAREHOUSE_URL_ENV, EMBEDDED_DIR)
    return url, True
