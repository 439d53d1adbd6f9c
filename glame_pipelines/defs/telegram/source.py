"""Telegram (Bot API): the channel's subscribers per day and its posts."""

from glame_pipelines.defs.telegram.resources import ENV, TelegramResource
from glame_pipelines.defs.telegram.tables import TABLES
from glame_pipelines.sandbox.web import TelegramApi
from glame_pipelines.sources import SandboxHook, Source, check_retry


def check(resource: TelegramResource) -> str:
    client = resource.client(retry=check_retry())
    bot = client.me()
    chat = client.chat(resource.chat_id())
    return f"bot @{bot.get('username')} sees {chat.get('type')} {chat.get('title')}"


def sandbox_env(sandbox) -> dict[str, str]:
    api = sandbox.api("telegram")
    return {
        "TELEGRAM_API_URL": sandbox.http.url(api),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_CHANNEL_USERNAME": api.channel,
    }


SOURCE = Source(
    name="telegram",
    order=50,
    label="Telegram",
    resource=TelegramResource,
    variables=ENV,
    required=("TELEGRAM_BOT_TOKEN", "TELEGRAM_CHANNEL_USERNAME"),
    check=check,
    tables=TABLES,
    sandbox=SandboxHook(env=sandbox_env, apis=lambda world: [TelegramApi(world.seed)]),
)
