"""1C:Enterprise (УНФ, 1C Fresh) over its standard OData interface: registers, catalogs, receipts."""

from glame_pipelines.defs.onec.check import check
from glame_pipelines.defs.onec.resources import ENV, OnecResource, turned_off_assets
from glame_pipelines.defs.onec.tables import TABLES
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sources import SandboxHook, Source


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
)
