"""Client for the VK API (`https://api.vk.com/method/<name>`, v=5.199): community stats and wall.

VK reports errors inside HTTP 200 bodies; codes 6, 9 and 29 are rate limits and are retried, code 5 is
a dead token and is not. Calls are paced on our side (3 a second for a user token). The token goes in
the POST body, never in a URL, and is redacted from every message anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime

import requests

from glame_pipelines.clients.http import ApiError, AuthError, JsonApiClient, TransientError

DEFAULT_BASE_URL = "https://api.vk.com/method"
DEFAULT_VERSION = "5.199"
RATE_LIMIT_CODES = {6: 1.0, 9: 5.0, 29: 60.0}  # code -> suggested wait in seconds
AUTH_CODES = {5}
PERMISSION_CODES = {7, 15, 27, 28, 30, 203}


class VkError(ApiError):
    source = "VK"

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class VkAuthError(AuthError, VkError):
    pass


class VkClient(JsonApiClient):
    source = "VK"

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, version: str = DEFAULT_VERSION,
                 requests_per_second: float = 3.0, **kwargs):
        super().__init__(base_url, secrets=[token], **kwargs)
        self.token, self.version = token, version
        self._interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def before_request(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
        if wait > 0:
            time.sleep(wait)

    def decode(self, response: requests.Response, url: str):
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"VK answered HTTP {response.status_code} for {self.redact(url)}")
        body = self.json_body(response, url)
        error = body.get("error") if isinstance(body, dict) else None
        if not error:
            if response.status_code >= 400 or "response" not in body:
                raise VkError(f"VK answered HTTP {response.status_code} without a response for {self.redact(url)}")
            return body["response"]
        code, message = error.get("error_code"), self.redact(error.get("error_msg", ""))
        if code in RATE_LIMIT_CODES:
            raise TransientError(f"VK rate limit (code {code}): {message}", retry_after=RATE_LIMIT_CODES[code])
        if code in AUTH_CODES:
            raise VkAuthError(f"VK rejected the access token (code {code}: {message}): create a new token with "
                              "the stats, wall and groups rights and set VK_ACCESS_TOKEN.", code)
        if code in PERMISSION_CODES:
            raise VkAuthError(f"VK denied access (code {code}: {message}): the token's user must be an admin of "
                              "group VK_GROUP_ID for stats.get, and the token needs the stats right.", code)
        if code == 10:
            raise TransientError(f"VK internal server error (code 10): {message}")
        raise VkError(f"VK error (code {code}): {message}", code)

    def call(self, method: str, **params):
        data = {k: v for k, v in params.items() if v is not None}
        data.update(access_token=self.token, v=self.version)
        return self.request("POST", method, data=data)

    def group(self, group_id: str) -> dict:
        """groups.getById with members_count; 5.199 wraps the result in `groups`."""
        response = self.call("groups.getById", group_id=group_id, fields="members_count,description")
        groups = response.get("groups", []) if isinstance(response, dict) else response
        if not groups:
            raise VkError(f"VK has no group {group_id}: check VK_GROUP_ID (the numeric id or short name)")
        return groups[0]

    def stats(self, group_id: str, since: datetime, until: datetime) -> list[dict]:
        """stats.get by day over [since, until) (Moscow midnights as unix time)."""
        return self.call("stats.get", group_id=group_id, timestamp_from=int(since.timestamp()),
                         timestamp_to=int(until.timestamp()) - 1, interval="day", extended=1)

    def wall(self, group_id: str, page_size: int = 100, not_before: datetime | None = None) -> Iterator[dict]:
        """The group's posts, newest first, paging by offset to the end (or to `not_before`)."""
        offset = 0
        while True:
            page = self.call("wall.get", owner_id=f"-{group_id}", count=page_size, offset=offset)
            items = page.get("items", [])
            for post in items:
                if not_before and not post.get("is_pinned") and post.get("date", 0) < not_before.timestamp():
                    return
                yield post
            offset += len(items)
            if not items or offset >= int(page.get("count", 0)):
                return
