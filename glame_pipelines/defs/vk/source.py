"""VK: community statistics per Moscow day, the members snapshot, and the wall."""

from glame_pipelines.defs.vk.resources import ENV, VkResource
from glame_pipelines.defs.vk.tables import TABLES
from glame_pipelines.sandbox.web import VkApi
from glame_pipelines.sources import SandboxHook, Source, check_retry


def check(resource: VkResource) -> str:
    group = resource.client(retry=check_retry()).group(resource.group_id)
    return f"group {group.get('name')} ({group.get('members_count')} members)"


def sandbox_env(sandbox) -> dict[str, str]:
    api = sandbox.api("vk")
    # the sandbox answers as fast as a community token allows
    return {
        "VK_API_URL": sandbox.http.url(api),
        "VK_ACCESS_TOKEN": api.token,
        "VK_GROUP_ID": api.group_id,
        "VK_REQUESTS_PER_SECOND": "20",
    }


SOURCE = Source(
    name="vk",
    order=40,
    label="VK",
    resource=VkResource,
    variables=ENV,
    required=("VK_ACCESS_TOKEN", "VK_GROUP_ID"),
    check=check,
    tables=TABLES,
    sandbox=SandboxHook(env=sandbox_env, apis=lambda world: [VkApi(world.seed, today=world.today)]),
)
