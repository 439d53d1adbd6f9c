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

from glame_pipelines.clients.http import ApiError, AuthError, JsonApiClient, TransientError, UnexpectedResponse, number

DEFAULT_BASE_URL = "https://api.vk.com/method"
DEFAULT_VERSION = "5.199"
RATE_LIMIT_CODES = {6: 1.0, 9: 5.0, 29: 60.0}  # code -> suggested wait in seconds
AUTH_CODES = {5}
PERMISSION_CODES = {7, 15, 27, 28, 30, 203}
STAT_FIELDS = {  # stats.get section -> the counters loaded from it
    "visitors": ("views", "visitors", "mobile_views"),
    "reach": ("reach", "reach_subscribers", "mobile_reach"),
    "activity": ("likes", "comments", "copies", "subscribed", "unsubscribed", "hidden"),
}


class VkError(ApiError):
    source = "VK"

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class VkAuthError(AuthError, VkError):
    pass


class VkUnexpectedResponse(UnexpectedResponse, VkError):
    """A stats, group or wall answer without a documented field, or with one of another type."""


class VkClient(JsonApiClient):
    source = "VK"
    unexpected = VkUnexpectedResponse

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        requests_per_second: float = 3.0,
        **kwargs,
    ):
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
        shape = self.shape("POST", url.rsplit("/", 1)[-1])
        error = shape.obj(body, "the body").get("error")
        if not error:
            if response.status_code >= 400 or "response" not in body:
                raise VkError(f"VK answered HTTP {response.status_code} without a response for {self.redact(url)}")
            return body["response"]
        error = shape.obj(error, "'error'")
        code, message = _code(error.get("error_code")), self.redact(error.get("error_msg") or "")
        if code in RATE_LIMIT_CODES:
            raise TransientError(f"VK rate limit (code {code}): {message}", retry_after=RATE_LIMIT_CODES[code])
        if code in AUTH_CODES:
            raise VkAuthError(
                f"VK rejected the access token (code {code}: {message}): create a new token with "
                "the stats, wall and groups rights and set VK_ACCESS_TOKEN.",
                code,
            )
        if code in PERMISSION_CODES:
            raise VkAuthError(
                f"VK denied access (code {code}: {message}): the token's user must be an admin of "
                "group VK_GROUP_ID for stats.get, and the token needs the stats right.",
                code,
            )
        if code == 10:
            raise TransientError(f"VK internal server error (code 10): {message}")
        raise VkError(f"VK error (code {code}): {message}", code)

    def call(self, method: str, **params):
        data = {k: v for k, v in params.items() if v is not None}
        data.update(access_token=self.token, v=self.version)
        return self.request("POST", method, data=data)

    def group(self, group_id: str) -> dict:
        """groups.getById with members_count; 5.199 wraps the result in `groups`."""
        shape = self.shape("POST", "groups.getById", {"group_id": group_id})
        response = self.call("groups.getById", group_id=group_id, fields="members_count,description")
        groups = shape.field(response, "groups", "the response") if isinstance(response, dict) else response
        if not shape.items(groups, "'groups'"):
            raise VkError(f"VK has no group {group_id}: check VK_GROUP_ID (the numeric id or short name)")
        group = shape.obj(groups[0], "the group")
        return {**group, "members_count": shape.whole(group.get("members_count"), "'members_count'", optional=True)}

    def stats(self, group_id: str, since: datetime, until: datetime) -> list[dict]:
        """stats.get by day over [since, until) (Moscow midnights as unix time); each period checked, so a
        counter sent as text is read as its number and one of another type fails naming it."""
        params = {
            "group_id": group_id,
            "timestamp_from": int(since.timestamp()),
            "timestamp_to": int(until.timestamp()) - 1,
            "interval": "day",
            "extended": 1,
        }
        shape = self.shape("POST", "stats.get", params)
        periods = shape.items(self.call("stats.get", **params), "the response")
        for n, period in enumerate(periods, 1):
            where = f"period {n} of 'response'"
            start = shape.whole(shape.field(shape.obj(period, where), "period_from", where), f"{where}'s 'period_from'")
            if not 0 <= start < 2**32:
                shape.fail(f"{where}'s 'period_from' is {start}, not a unix time")
            for section, names in STAT_FIELDS.items():
                values = shape.obj(period.get(section) or {}, f"{where}'s '{section}'")
                for name in names:
                    shape.whole(values.get(name), f"{where}'s '{section}.{name}'", optional=True)
        return periods

    def wall(self, group_id: str, page_size: int = 100, not_before: datetime | None = None) -> Iterator[dict]:
        """The group's posts, newest first, paging by offset to the end (or to `not_before`). A post whose
        date cannot be read is yielded (to be quarantined), never taken as the end of the window."""
        offset = 0
        while True:
            params = {"owner_id": f"-{group_id}", "count": page_size, "offset": offset}
            shape = self.shape("POST", "wall.get", params)
            page = shape.obj(self.call("wall.get", **params), "the response")
            items = shape.items(shape.field(page, "items", "the response"), "'items'")
            total = shape.whole(shape.field(page, "count", "the response"), "'count'")
            for post in items:
                if not_before and _older(post, not_before):
                    return
                yield post
            if not items and offset < total:
                shape.fail(f"'items' is empty at offset {offset} although 'count' is {total}")
            offset += len(items)
            if not items or offset >= total:
                return


def _older(post, moment: datetime) -> bool:
    """Whether a post (not pinned) is older than `moment`; an unreadable date is not older."""
    if not isinstance(post, dict) or post.get("is_pinned"):
        return False
    try:
        return number(post.get("date")) < moment.timestamp()
    except ValueError:
        return False


def _code(value) -> int | None:
    """Error codes are numbers; one sent as text is still recognised."""
    try:
        return int(number(value))
    except ValueError:
        return None
