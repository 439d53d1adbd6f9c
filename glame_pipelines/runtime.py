"""Process set-up shared by `glame` and `make dev`: the warehouse, the Dagster instance, dbt's profile.

Everything is derived from GLAME_WAREHOUSE_URL (or the embedded server) and exported, so Dagster's
subprocesses and dbt see the same warehouse as this process.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg

from glame_pipelines.clients.http import redact_url
from glame_pipelines.warehouse.connection import (
    DAGSTER_URL_ENV,
    EMBEDDED_DIR,
    PROJECT_ROOT,
    WAREHOUSE_URL_ENV,
    dbt_env,
    ensure_database,
    resolve_or_start_embedded,
    sqlalchemy_url,
)

log = logging.getLogger(__name__)
WAREHOUSE_DB = "glame"
# Dagster settings every process of ours runs with (an operator's value wins). A run over 1,095 counter
# files reports 1,095 partition materialisations; written one insert each they took ~110 s of the backlog's
# run, with a batch size Dagster stores a step's partition events in batched inserts. The run workers read it
# from the environment they inherit from the code server, which inherits it from `glame serve`.
DAGSTER_DEFAULTS = {"DAGSTER_EVENT_BATCH_SIZE": "1000"}


@dataclass(frozen=True)
class Runtime:
    warehouse_url: str
    embedded: bool


class WarehouseUnavailable(RuntimeError):
    """GLAME_WAREHOUSE_URL is set and Postgres refuses it; the message says what to do (no password in it)."""


def refused(url: str, error: psycopg.OperationalError) -> WarehouseUnavailable:
    """What to tell the operator when Postgres refuses the warehouse's URL."""
    target = redact_url(url)
    name = urlsplit(url).path.lstrip("/")
    if name and f'database "{name}" does not exist' in str(error):
        return WarehouseUnavailable(
            f"{WAREHOUSE_URL_ENV} ({target}) names the database {name!r}, which does not exist on that server: "
            f"create it (createdb {name}, or CREATE DATABASE on the server) or point {WAREHOUSE_URL_ENV} at "
            "an existing one. Unset, `glame` uses its embedded Postgres."
        )
    return WarehouseUnavailable(
        f"{WAREHOUSE_URL_ENV} ({target}): Postgres refused the connection: {redact_url(str(error)).strip()}"
    )


def prepare() -> Runtime:
    """Resolve the warehouse (embedded when unset), create the Dagster database, export the settings."""
    server_url, embedded = resolve_or_start_embedded()
    warehouse_url = ensure_database(server_url, WAREHOUSE_DB) if embedded else server_url
    os.environ[WAREHOUSE_URL_ENV] = warehouse_url
    if not os.environ.get(DAGSTER_URL_ENV):
        try:  # the first connection this process makes to the warehouse's server
            os.environ[DAGSTER_URL_ENV] = sqlalchemy_url(ensure_database(warehouse_url, "dagster"))
        except psycopg.OperationalError as error:
            raise refused(warehouse_url, error) from None
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    os.environ.setdefault("GLAME_DAGSTER_ARTIFACTS", str(EMBEDDED_DIR / "dagster"))
    os.environ.setdefault("GLAME_DAGSTER_COMPUTE_LOGS", str(EMBEDDED_DIR / "dagster" / "compute_logs"))
    os.environ.update(dbt_env(warehouse_url))
    for name, value in DAGSTER_DEFAULTS.items():
        os.environ.setdefault(name, value)
    return Runtime(warehouse_url, embedded)


MODELS_POOL = "dbt"  # the dbt assets' pool: two builds replacing the same window must never interleave


def pool_limits(env=None) -> dict[str, int]:
    """Each pool by its actual name (a source's is named after its base or counter, see Source.pool_name)
    with its limit: GLAME_POOL_LIMIT_<SOURCE> (e.g. GLAME_POOL_LIMIT_ONEC), GLAME_POOL_LIMIT_DBT, default 1."""
    from glame_pipelines.sources import all_sources

    env = os.environ if env is None else env
    owners = {source.name: source.pool_name(env) for source in all_sources().values() if source.pool}
    owners["dbt"] = MODELS_POOL
    return {pool: int(env.get(f"GLAME_POOL_LIMIT_{owner.upper()}") or 1) for owner, pool in owners.items()}


def apply_pool_limits(env=None) -> dict[str, int]:
    """Write the pools' limits to the instance, where the run queue and the run workers read them."""
    import dagster as dg

    limits = pool_limits(env)
    with dg.DagsterInstance.get() as instance:
        for pool, limit in limits.items():
            instance.event_log_storage.set_concurrency_slots(pool, limit)
    return limits
