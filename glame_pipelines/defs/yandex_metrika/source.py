"""Yandex.Metrika (Reporting API): site traffic by day and traffic source, and demographics."""

from collections.abc import Mapping

from glame_pipelines.defs.yandex_metrika.resources import ENV, MetrikaResource
from glame_pipelines.defs.yandex_metrika.tables import TABLES
from glame_pipelines.sandbox.web import MetrikaApi
from glame_pipelines.sources import SandboxHook, Source, check_retry, pool_for


def pool(env: Mapping[str, str]) -> str:
    """Reporting API quotas are per user and counter: one request stream at a time per counter."""
    return pool_for("yandex_metrika", (env.get(ENV["counter_id"]) or "").strip())


def check(resource: MetrikaResource) -> str:
    counter = resource.client(retry=check_retry()).counter(resource.counter_id)
    return f"counter {counter.get('id')} ({counter.get('site') or counter.get('name')}) readable"


def sandbox_env(sandbox) -> dict[str, str]:
    api = sandbox.api("metrika")
    return {
        "YANDEX_METRIKA_API_URL": sandbox.http.url(api),
        "YANDEX_METRIKA_COUNTER_ID": api.counter_id,
        "YANDEX_METRIKA_OAUTH_TOKEN": api.token,
    }


SOURCE = Source(
    name="yandex_metrika",
    order=20,
    label="Yandex.Metrika",
    resource=MetrikaResource,
    variables=ENV,
    required=("YANDEX_METRIKA_COUNTER_ID", "YANDEX_METRIKA_OAUTH_TOKEN"),
    check=check,
    tables=TABLES,
    sandbox=SandboxHook(env=sandbox_env, apis=lambda world: [MetrikaApi(world.seed)]),
    pool=pool,
)
