"""Client for the Telegram Bot API (`https://api.telegram.org/bot<token>/<method>`).

The token is part of every URL path, so the redactor masks `/bot<token>` in any message. Errors come
as `{"ok": false, "error_code", "description", "parameters": {"retry_after"}}`; 409 means a webhook is
set or another poller holds getUpdates.
"""

from __future__ import annotations

import requests

from glame_pipelines.clients.http import (
    ApiError,
    AuthError,
    JsonApiClient,
    TransientError,
    UnexpectedResponse,
    described,
    number,
)

DEFAULT_BASE_URL = "https://api.telegram.org"
MESSAGE_LIMIT = 4096  # UTF-16 code units of one message's parsed text (sendMessage)


class TelegramError(ApiError):
    source = "Telegram"


class TelegramAuthError(AuthError, TelegramError):
    pass


class TelegramUnexpectedResponse(UnexpectedResponse, TelegramError):
    """A Bot API answer outside its `{ok, result}` contract, or a result of another shape."""


class UpdatesUnavailable(TelegramError):
    """getUpdates answered 409: a webhook is set, or another process is polling this bot."""


class TelegramClient(JsonApiClient):
    source = "Telegram"
    unexpected = TelegramUnexpectedResponse

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, **kwargs):
        super().__init__(f"{base_url.rstrip('/')}/bot{token}", secrets=[token], **kwargs)

    def decode(self, response: requests.Response, url: str):
        status = response.status_code
        body = self.json_body(response, url)  # a proxy's HTML 502 page is transient
        shape = self.shape("POST", url.rsplit("/", 1)[-1])
        body = shape.obj(body, "the body")
        if not isinstance(body.get("ok"), bool):
            shape.fail(f"'ok' is {described(body.get('ok'))}, not true or false (HTTP {status})")
        if body["ok"]:
            return shape.field(body, "result")
        description = self.redact(body.get("description") or "")
        code = _code(body.get("error_code")) or status
        parameters = body.get("parameters")
        retry_after = _code(parameters.get("retry_after")) if isinstance(parameters, dict) else None
        if code == 429 or status >= 500:
            raise TransientError(f"Telegram answered {code}: {description}", retry_after=retry_after)
        if code == 401 or (code == 404 and "chat" not in description.lower()):
            raise TelegramAuthError(
                f"Telegram rejected the bot token ({code} {description}): get the token from "
                "@BotFather and set TELEGRAM_BOT_TOKEN."
            )
        if code == 409:
            raise UpdatesUnavailable(
                f"Telegram: updates unavailable ({description}); a webhook is set or another consumer polls this bot."
            )
        if code == 403:
            raise TelegramAuthError(f"Telegram denied access ({description}): add the bot to the channel as an admin.")
        if code == 400 and "chat not found" in description.lower():
            raise TelegramError(
                f"Telegram: chat not found: TELEGRAM_CHANNEL_USERNAME must be @name of a channel the "
                f"bot is a member of, and TELEGRAM_DIGEST_CHAT_ID / TELEGRAM_ALERT_CHAT_ID a chat it "
                f"was added to ({description})"
            )
        raise TelegramError(f"Telegram error {code}: {description}")

    def call(self, method: str, **params):
        return self.request("POST", method, json={k: v for k, v in params.items() if v is not None})

    def me(self) -> dict:
        return self.shape("POST", "getMe").obj(self.call("getMe"), "the result")

    def chat(self, chat_id: str) -> dict:
        """getChat; the chat's id is checked, since every row is keyed by it."""
        shape = self.shape("POST", "getChat", {"chat_id": chat_id})
        chat = shape.obj(self.call("getChat", chat_id=chat_id), "the result")
        return {**chat, "id": shape.whole(shape.field(chat, "id", "the chat"), "the chat's 'id'")}

    def member_count(self, chat_id: str) -> int:
        shape = self.shape("POST", "getChatMemberCount", {"chat_id": chat_id})
        return shape.whole(self.call("getChatMemberCount", chat_id=chat_id), "the result")

    def updates(self, offset: int | None = None, limit: int = 100) -> list[dict]:
        """Pending channel posts. Passing `offset` confirms every earlier update, for every consumer. Each
        update must carry its update_id (the offset is computed from it); its content is read by the asset."""
        shape = self.shape("POST", "getUpdates", {"offset": offset, "limit": limit})
        updates = shape.items(
            self.call(
                "getUpdates",
                offset=offset,
                limit=limit,
                timeout=0,
                allowed_updates=["channel_post", "edited_channel_post"],
            ),
            "the result",
        )
        for n, update in enumerate(updates, 1):
            where = f"update {n} of 'result'"
            update = shape.obj(update, where)
            update["update_id"] = shape.whole(shape.field(update, "update_id", where), f"{where}'s 'update_id'")
        return updates

    def send_message(self, chat_id: str, html: str) -> dict:
        """One message in HTML parse mode; the caller keeps it within MESSAGE_LIMIT and escapes it."""
        return self.call("sendMessage", chat_id=chat_id, text=html, parse_mode="HTML", disable_web_page_preview=True)


def _code(value) -> int | None:
    """Error codes and waits are numbers; one sent as text is still recognised."""
    try:
        return int(number(value))
    except ValueError:
        return None
