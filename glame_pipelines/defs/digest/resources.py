"""Where the digest goes: a Telegram chat, written to by the project's bot."""

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.telegram import DEFAULT_BASE_URL, TelegramClient
from glame_pipelines.sources import env_fields

ENV = {"bot_token": "TELEGRAM_BOT_TOKEN", "chat_id": "TELEGRAM_DIGEST_CHAT_ID", "base_url": "TELEGRAM_API_URL"}


class DigestChatResource(dg.ConfigurableResource):
    """The chat that receives the morning digest and the anomaly alerts."""

    bot_token: str | None = Field(default=None, description="TELEGRAM_BOT_TOKEN from @BotFather.")
    chat_id: str | None = Field(
        default=None, description="TELEGRAM_DIGEST_CHAT_ID: a chat id (-100…) or @channel the bot may write to."
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="TELEGRAM_API_URL.")

    def missing(self) -> list[str]:
        return [ENV[f] for f in ("bot_token", "chat_id") if not getattr(self, f)]

    def client(self) -> TelegramClient:
        return TelegramClient(self.bot_token, self.base_url, retry=RetryPolicy(max_attempts=3, max_delay=10))


@dg.definitions
def digest_chat_definitions() -> dg.Definitions:
    """The digest's chat, bound to its variables (TELEGRAM_DIGEST_CHAT_ID and the bot's token)."""
    return dg.Definitions(resources={"digest_chat": DigestChatResource(**env_fields(DigestChatResource, ENV))})
