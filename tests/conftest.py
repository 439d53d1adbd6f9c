"""Shared fixtures: one real Postgres for the whole session, a fresh database per test that needs one,
and the sandbox APIs on 127.0.0.1.

Postgres is GLAME_TEST_DATABASE_URL when set (CI points it at the machine's server), else an embedded
pgserver started once under .glame/. Nothing here reads a developer's .env.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.onec import OnecClient, basic_token
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sandbox.retail import RetailWorld
from glame_pipelines.sandbox.server import SandboxServer
from glame_pipelines.settings import moscow_today
from glame_pipelines.warehouse.connection import EMBEDDED_DIR, start_embedded, with_database


def latest() -> str:
    """The latest complete Moscow day, read when a test runs: a constant read at import went stale when the
    suite crossed Moscow's midnight (21:00 UTC), and the snapshot assets then had nothing to load."""
    return (moscow_today() - timedelta(1)).isoformat()


# The sandbox's "today": fixed, so every expectation is reproducible.
SANDBOX_TODAY = date(2025, 6, 1)
SANDBOX_HISTORY_START = date(2024, 5, 1)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("GLAME_TEST_DATABASE_URL")
    if url:
        return url
    return start_embedded(EMBEDDED_DIR / "test-pgdata")


@pytest.fixture
def warehouse_url(pg_server_url: str):
    """A new, empty database for one test, dropped afterwards."""
    name = f"glame_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield with_database(pg_server_url, name)
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def conn(warehouse_url: str):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def world() -> RetailWorld:
    return RetailWorld(seed=11, customers=400, history_start=SANDBOX_HISTORY_START, today=SANDBOX_TODAY)


@pytest.fixture
def onec_api(world: RetailWorld) -> OnecApi:
    return OnecApi(world)


@pytest.fixture
def sandbox(onec_api: OnecApi):
    with SandboxServer([onec_api]) as server:
        yield server


def fast_retry(**overrides) -> RetryPolicy:
    """Real backoff logic without the waiting: sleeps are recorded, not slept."""
    slept: list[float] = []
    policy = RetryPolicy(sleep=slept.append, **overrides)
    policy.slept = slept  # type: ignore[attr-defined]
    return policy


@pytest.fixture
def onec_client(sandbox: SandboxServer, onec_api: OnecApi) -> OnecClient:
    return OnecClient(
        sandbox.url(onec_api), basic_token(DEFAULT_LOGIN, DEFAULT_PASSWORD), page_size=50, timeout=5, retry=fast_retry()
    )


@pytest.fixture
def onec_env(sandbox: SandboxServer, onec_api: OnecApi) -> dict[str, str]:
    return {"ONEC_API_URL": sandbox.url(onec_api), "ONEC_USERNAME": DEFAULT_LOGIN, "ONEC_PASSWORD": DEFAULT_PASSWORD}


def onec_resources(warehouse_url: str, onec_env: dict[str, str], **overrides) -> dict:
    from glame_pipelines.defs.onec.resources import OnecResource
    from glame_pipelines.defs.warehouse import WarehouseResource

    onec = OnecResource(
        api_url=onec_env["ONEC_API_URL"],
        username=onec_env["ONEC_USERNAME"],
        password=onec_env["ONEC_PASSWORD"],
        page_size=200,
        **overrides,
    )
    return {"onec": onec, "warehouse": WarehouseResource(url=warehouse_url)}


@pytest.fixture
def web_apis():
    from glame_pipelines.sandbox.web import InstagramApi, MetrikaApi, TelegramApi, VkApi

    return {
        "metrika": MetrikaApi(seed=3),
        "instagram": InstagramApi(seed=3, stories_at=datetime.now(UTC).replace(microsecond=0)),
        "vk": VkApi(seed=3, today=SANDBOX_TODAY),
        "telegram": TelegramApi(seed=3),
    }


@pytest.fixture
def web_sandbox(web_apis):
    with SandboxServer(list(web_apis.values())) as server:
        yield server


def web_resources(warehouse_url: str, server, apis: dict) -> dict:
    from glame_pipelines.defs.instagram.resources import InstagramResource
    from glame_pipelines.defs.telegram.resources import TelegramResource
    from glame_pipelines.defs.vk.resources import VkResource
    from glame_pipelines.defs.warehouse import WarehouseResource
    from glame_pipelines.defs.yandex_metrika.resources import MetrikaResource

    m, i, v, t = apis["metrika"], apis["instagram"], apis["vk"], apis["telegram"]
    return {
        "warehouse": WarehouseResource(url=warehouse_url),
        "yandex_metrika": MetrikaResource(counter_id=m.counter_id, oauth_token=m.token, base_url=server.url(m)),
        "instagram": InstagramResource(access_token=i.token, account_id=i.account_id, base_url=server.url(i)),
        "vk": VkResource(
            access_token=v.token,
            group_id=v.group_id,
            base_url=server.url(v),
            requests_per_second=50,
            wall_lookback_days=0,
        ),
        "telegram": TelegramResource(bot_token=t.token, channel=t.channel, base_url=server.url(t)),
    }


def replaced(resource, **changes):
    """A copy of a resource with some fields changed (Dagster rebuilds resources from their config)."""
    return type(resource)(**{**resource.model_dump(), **changes})


@pytest.fixture
def ftp_sandbox(tmp_path):
    from glame_pipelines.sandbox.ftp import FtpSandbox

    with FtpSandbox(tmp_path / "ftp") as server:
        yield server


def ftp_resource(server, **overrides):
    from glame_pipelines.defs.ftp_counters.resources import FtpResource

    return FtpResource(host="127.0.0.1", port=server.port, user=server.user, password=server.password, **overrides)
