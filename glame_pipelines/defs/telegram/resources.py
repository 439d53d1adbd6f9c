"""Telegram settings: a bot that is an admin of the channel."""

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.telegram import DEFAULT_BASE_URL, TelegramClient
from glame_pipelines.sources import SourceNotConfigured

ENV = {
    "bot_token": "TELEGRAM_BOT_TOKEN",
    "channel": "TELEGRAM_CHANNEL_USERNAME",
    "base_url": "TELEGRAM_API_URL",
    "consume_updates": "TELEGRAM_CONSUME_UPDATES",
}


class TelegramResource(dg.ConfigurableResource):
    """The Bot API for one channel."""

    bot_token: str | None = Field(default=None, description="TELEGRAM_BOT_TOKEN from @BotFather.")
    channel: str | None = Field(default=None, description="TELEGRAM_CHANNEL_USERNAME, e.g. @glame_jewelry.")
    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description="TELEGRAM_API_URL: the Bot API's address (the sandbox sets it; default Telegram).",
    )
    consume_updates: str = Field(
        default="false",
        description="TELEGRAM_CONSUME_UPDATES=true: confirm updates after "
        "reading them. Off by default: confirming removes them for any other consumer.",
    )

    def client(self, retry: RetryPolicy | None = None) -> TelegramClient:
        missing = [ENV[f] for f in ("bot_token", "channel") if not getattr(self, f)]
        if missing:
            raise SourceNotConfigured(missing)
        return TelegramClient(self.bot_token, self.base_url, retry=retry)

    def confirms_updates(self) -> bool:
        return self.consume_updates.strip().lower() in ("1", "true", "yes")

    def chat_id(self) -> str:
        channel = self.channel or ""
        return channel if channel.startswith("@") or channel.lstrip("-").isdigit() else f"@{channel}"
