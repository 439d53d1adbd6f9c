"""Instagram (Graph API): the business account per day, posts with their insights, live stories."""

from glame_pipelines.defs.instagram.resources import ENV, InstagramResource
from glame_pipelines.defs.instagram.tables import TABLES
from glame_pipelines.sandbox.web import InstagramApi
from glame_pipelines.sources import SandboxHook, Source, check_retry


def check(resource: InstagramResource) -> str:
    account = resource.client(retry=check_retry()).get(resource.account_id, fields="username")
    return f"account @{account.get('username')}"


def sandbox_env(sandbox) -> dict[str, str]:
    api = sandbox.api("instagram")
    return {
        "INSTAGRAM_API_URL": sandbox.http.url(api),
        "INSTAGRAM_ACCESS_TOKEN": api.token,
        "INSTAGRAM_BUSINESS_ACCOUNT_ID": api.account_id,
    }


SOURCE = Source(
    name="instagram",
    order=30,
    label="Instagram",
    resource=InstagramResource,
    variables=ENV,
    required=("INSTAGRAM_ACCESS_TOKEN", "INSTAGRAM_BUSINESS_ACCOUNT_ID"),
    check=check,
    tables=TABLES,
    sandbox=SandboxHook(env=sandbox_env, apis=lambda world: [InstagramApi(world.seed, today=world.today)]),
)
