"""1C:Enterprise (УНФ, 1C Fresh) over its standard OData interface: registers, catalogs, receipts."""

from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from glame_pipelines.defs.onec.check import check
from glame_pipelines.defs.onec.resources import ENV, OnecResource, turned_off_assets
from glame_pipelines.defs.onec.tables import TABLES
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sources import SandboxHook, Source, pool_for

ODATA_SUFFIX = "/odata/standard.odata"


def base_identity(api_url: str | None) -> str | None:
    """The base behind an OData URL: host (and port) and the publication's path without the OData suffix,
    e.g. `1cfresh.com/a/ea/1234567` for https://user@1cfresh.com/a/ea/1234567/odata/standard.odata/. Scheme,
    credentials, query and letter case of the host do not make another base."""
    if not api_url:
        return None
    parts = urlsplit(api_url.strip())
    path = unquote(parts.path).rstrip("/")
    if path.lower().endswith(ODATA_SUFFIX):
        path = path[: -len(ODATA_SUFFIX)]
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return host + path.rstrip("/")


def pool(env: Mapping[str, str]) -> str:
    """1C Fresh fails under parallel requests: one request stream at a time per base, whichever run asks."""
    return pool_for("onec", base_identity(env.get(ENV["api_url"])))


def sandbox_env(sandbox) -> dict[str, str]:
    api = sandbox.api("onec")
    return {"ONEC_API_URL": sandbox.http.url(api), "ONEC_USERNAME": DEFAULT_LOGIN, "ONEC_PASSWORD": DEFAULT_PASSWORD}


SOURCE = Source(
    name="onec",
    order=10,
    label="1C",
    resource=OnecResource,
    variables=ENV,
    required=("ONEC_API_URL",),
    alternatives=((("ONEC_API_TOKEN",), ("ONEC_USERNAME", "ONEC_PASSWORD")),),
    check=check,
    tables=TABLES,
    turned_off=turned_off_assets,
    sandbox=SandboxHook(env=sandbox_env, apis=lambda world: [OnecApi(world)]),
    pool=pool,
)
