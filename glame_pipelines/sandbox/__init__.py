"""Local simulators of the source APIs, for the demo and the tests (never used in place of a configured source)."""

from __future__ import annotations

from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sandbox.retail import RetailWorld
from glame_pipelines.sandbox.server import FaultPlan, SandboxServer
from glame_pipelines.sandbox.web import InstagramApi, MetrikaApi, TelegramApi, VkApi


def build_sandbox(port: int = 0, world: RetailWorld | None = None, faults: FaultPlan | None = None
                  ) -> tuple[SandboxServer, dict[str, str]]:
    """A server with every simulator mounted, and the variables that point the sources at it."""
    world = world or RetailWorld()
    onec, metrika = OnecApi(world), MetrikaApi(world.seed)
    instagram, vk = InstagramApi(world.seed, today=world.today), VkApi(world.seed, today=world.today)
    telegram = TelegramApi(world.seed)
    server = SandboxServer([onec, metrika, instagram, vk, telegram], port=port, faults=faults)
    env = {
        "ONEC_API_URL": server.url(onec),
        "ONEC_USERNAME": DEFAULT_LOGIN,
        "ONEC_PASSWORD": DEFAULT_PASSWORD,
        "YANDEX_METRIKA_API_URL": server.url(metrika),
        "YANDEX_METRIKA_COUNTER_ID": metrika.counter_id,
        "YANDEX_METRIKA_OAUTH_TOKEN": metrika.token,
        "INSTAGRAM_API_URL": server.url(instagram),
        "INSTAGRAM_ACCESS_TOKEN": instagram.token,
        "INSTAGRAM_BUSINESS_ACCOUNT_ID": instagram.account_id,
        "VK_API_URL": server.url(vk),
        "VK_ACCESS_TOKEN": vk.token,
        "VK_GROUP_ID": vk.group_id,
        "VK_REQUESTS_PER_SECOND": "20",
        "TELEGRAM_API_URL": server.url(telegram),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_CHANNEL_USERNAME": telegram.channel,
    }
    return server, env
