"""Client for the Instagram Graph API (graph.facebook.com): account, insights, media and stories.

The token travels in the query string and in every `paging.next` URL, so every URL that reaches a
message goes through the redactor. Rate limits (codes 4, 17, 32, 613) are retried, honouring the
usage headers' estimated time to regain access; auth and permission errors are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import orjson
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

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v23.0"
RATE_LIMIT_CODES = {4, 17, 32, 613}
PERMISSION_CODES = {10, *range(200, 300)}
ACCOUNT_FIELDS = ("username", "followers_count", "follows_count", "media_count")
ACCOUNT_TOTAL_METRICS = (
    "reach",
    "views",
    "accounts_engaged",
    "total_interactions",
    "likes",
    "comments",
    "shares",
    "saves",
    "profile_views",
)
MEDIA_FIELDS = (
    "id",
    "caption",
    "media_type",
    "media_product_type",
    "permalink",
    "timestamp",
    "like_count",
    "comments_count",
)
STORY_FIELDS = ("id", "media_type", "media_product_type", "permalink", "timestamp", "caption")
# What each media product type accepts (impressions, plays and video_views are gone since 2025: views).
MEDIA_METRICS = {
    "FEED": ("reach", "likes", "comments", "shares", "saved", "total_interactions", "views"),
    "REELS": ("reach", "likes", "comments", "shares", "saved", "total_interactions", "views"),
    "STORY": ("reach", "replies", "shares", "total_interactions", "views"),
}
POSTED_BEFORE_BUSINESS = 2108006
_UNSUPPORTED_METRIC_RE = re.compile(r"does not support the (\w+) metric")


class InstagramError(ApiError):
    source = "Instagram"

    def __init__(self, message: str, code: int | None = None, subcode: int | None = None):
        super().__init__(message)
        self.code, self.subcode = code, subcode


class InstagramAuthError(AuthError, InstagramError):
    pass


class InstagramUnexpectedResponse(UnexpectedResponse, InstagramError):
    """An account, insights or media answer without a documented field, or with one of another type."""


def _auth_remedy(code: int, subcode: int | None) -> str:
    if code == 190 and subcode == 463:
        return "the access token has expired: generate a new long-lived token and set INSTAGRAM_ACCESS_TOKEN."
    if code == 190 and subcode == 460:
        return (
            "the password was changed, which invalidated the token: log in again and set a new INSTAGRAM_ACCESS_TOKEN."
        )
    if code == 190:
        return "the access token is invalid: set a valid INSTAGRAM_ACCESS_TOKEN."
    return (
        "the token lacks a permission (instagram_basic, instagram_manage_insights, pages_read_engagement) or the "
        "account is not a business/creator account connected to a Facebook page."
    )


class InstagramClient(JsonApiClient):
    source = "Instagram"
    unexpected = InstagramUnexpectedResponse

    def __init__(
        self, token: str, account_id: str, base_url: str = DEFAULT_BASE_URL, version: str = DEFAULT_VERSION, **kwargs
    ):
        super().__init__(f"{base_url.rstrip('/')}/{version}", secrets=[token], **kwargs)
        self.token, self.account_id = token, account_id

    def decode(self, response: requests.Response, url: str):
        status = response.status_code
        if status >= 500 and b'"error"' not in response.content:
            raise TransientError(f"Instagram answered HTTP {status} for {self.redact(url)}")
        body = self.json_body(response, url)
        error = body.get("error") if isinstance(body, dict) else None
        if not error:
            if status >= 400:
                raise InstagramError(f"Instagram answered HTTP {status} for {self.redact(url)}")
            return body
        if not isinstance(error, dict):
            raise InstagramError(
                f"Instagram answered HTTP {status} with an unreadable error ({self.redact(error)!r:.200}) "
                f"for {self.redact(url)}"
            )
        code, subcode = _code(error.get("code")), _code(error.get("error_subcode"))
        message = self.redact(error.get("message") or "")
        if code in RATE_LIMIT_CODES or error.get("is_transient") or status >= 500:
            raise TransientError(
                f"Instagram rate limit or transient error (code {code}): {message}",
                retry_after=self._regain_seconds(response),
            )
        if code == 190 or code in PERMISSION_CODES or status in (401, 403):
            raise InstagramAuthError(f"Instagram: {_auth_remedy(code, subcode)} ({message})", code, subcode)
        if code == 100 and subcode == 33:
            raise InstagramError(
                f"Instagram: object not found or not visible to this token ({message}). INSTAGRAM_BUSINESS_ACCOUNT_ID "
                "must be the Instagram business account id (17841…), not the Facebook page id.",
                code,
                subcode,
            )
        title = error.get("error_user_title")
        raise InstagramError(
            f"Instagram error (code {code}{f'/{subcode}' if subcode else ''}): "
            f"{message}{f' — {title}' if title else ''}",
            code,
            subcode,
        )

    @staticmethod
    def _regain_seconds(response: requests.Response) -> float | None:
        """The usage headers say, in minutes, when calls are allowed again."""
        for header in ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Ad-Account-Usage"):
            raw = response.headers.get(header)
            if not raw:
                continue
            try:
                usage = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            entries = (
                [e for values in usage.values() for e in values]
                if isinstance(usage, dict) and all(isinstance(v, list) for v in usage.values())
                else [usage]
            )
            minutes = max(
                (_minutes(e.get("estimated_time_to_regain_access")) for e in entries if isinstance(e, dict)), default=0
            )
            if minutes:
                return minutes * 60.0
        return None

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params={**params, "access_token": self.token})

    def paged(self, path: str, **params) -> Iterator[dict]:
        """Every item of an edge, following `paging.next` to the end."""
        shape = self.shape("GET", path, params)
        body = self.get(path, **params)
        while True:
            body = shape.obj(body, "the page")
            data = shape.items(shape.field(body, "data"), "'data'")
            yield from data
            paging = shape.obj(body.get("paging") or {}, "'paging'")
            next_url = paging.get("next")
            if not next_url or not data:
                return
            if not isinstance(next_url, str):
                shape.fail(f"'paging.next' is {described(next_url)}, not a URL")
            body = self.request("GET", next_url)

    def account(self) -> dict:
        """The account's fields, with its counts read as numbers (null when the API leaves one out)."""
        params = {"fields": ",".join(ACCOUNT_FIELDS)}
        shape = self.shape("GET", self.account_id, params)
        body = shape.obj(self.get(self.account_id, **params), "the body")
        return {**body, **{f: shape.whole(body.get(f), f"'{f}'", optional=True) for f in ACCOUNT_FIELDS[1:]}}

    def account_totals(self, since: datetime, until: datetime) -> dict[str, int | None]:
        """Day totals (metric_type=total_value) over [since, until); a metric the API leaves out is null."""
        params = {
            "metric": ",".join(ACCOUNT_TOTAL_METRICS),
            "period": "day",
            "metric_type": "total_value",
            "since": int(since.timestamp()),
            "until": int(until.timestamp()),
        }
        shape = self.shape("GET", f"{self.account_id}/insights", params)
        body = shape.obj(self.get(f"{self.account_id}/insights", **params), "the body")
        values = dict.fromkeys(ACCOUNT_TOTAL_METRICS)
        for n, item in enumerate(shape.items(shape.field(body, "data"), "'data'"), 1):
            where = f"metric {n} of 'data'"
            name = _name(shape, shape.obj(item, where), where)
            if name not in values:
                continue  # not asked for (breakdown-only metrics carry no total value)
            total = shape.obj(shape.field(item, "total_value", f"metric {name}"), f"{name}'s 'total_value'")
            values[name] = shape.number(
                shape.field(total, "value", f"{name}'s 'total_value'"), f"{name}'s 'total_value.value'", optional=True
            )
        return values

    def follower_count(self, since: datetime, until: datetime) -> dict[str, int]:
        """New followers per day (a time series; at most 30 days a request): end_time -> value."""
        params = {
            "metric": "follower_count",
            "period": "day",
            "since": int(since.timestamp()),
            "until": int(until.timestamp()),
        }
        shape = self.shape("GET", f"{self.account_id}/insights", params)
        body = shape.obj(self.get(f"{self.account_id}/insights", **params), "the body")
        series = {}
        for n, item in enumerate(shape.items(shape.field(body, "data"), "'data'"), 1):
            where = f"metric {n} of 'data'"
            if _name(shape, shape.obj(item, where), where) != "follower_count":
                continue
            for point in shape.items(item.get("values") or [], "follower_count's 'values'"):
                point = shape.obj(point, "an entry of follower_count's 'values'")
                end_time = shape.field(point, "end_time", "an entry of follower_count's 'values'")
                if not isinstance(end_time, str):
                    shape.fail(f"follower_count's 'end_time' is {described(end_time)}, not a time")
                series[end_time] = shape.number(point.get("value"), f"follower_count at {end_time}", optional=True)
        return series

    def media(self, page_size: int = 50) -> Iterator[dict]:
        return self.paged(f"{self.account_id}/media", fields=",".join(MEDIA_FIELDS), limit=page_size)

    def stories(self) -> Iterator[dict]:
        return self.paged(f"{self.account_id}/stories", fields=",".join(STORY_FIELDS))

    def media_insights(self, media: dict) -> tuple[dict[str, int | None], str | None]:
        """Lifetime metrics valid for the media's product type, and why none could be read (if so).

        A metric the type does not accept fails the whole request (code 100), so only valid ones are
        asked, and one the API still refuses is dropped and the request repeated."""
        product = media.get("media_product_type") or "FEED"
        metrics = list(MEDIA_METRICS.get(product, MEDIA_METRICS["FEED"]))
        while metrics:
            shape = self.shape("GET", f"{media['id']}/insights", {"metric": ",".join(metrics)})
            try:
                body = self.get(f"{media['id']}/insights", metric=",".join(metrics))
            except InstagramError as error:
                if error.subcode == POSTED_BEFORE_BUSINESS:
                    return {}, "posted before the account became a business account"
                refused = _UNSUPPORTED_METRIC_RE.search(str(error))
                if error.code == 100 and refused and refused.group(1) in metrics:
                    metrics.remove(refused.group(1))
                    continue
                raise
            return _lifetime_values(shape, body), None
        return {}, "no metric accepted for this media type"


def _lifetime_values(shape, body) -> dict[str, int | None]:
    """name -> the first value of each metric (lifetime metrics have one)."""
    values = {}
    for n, item in enumerate(shape.items(shape.field(shape.obj(body, "the body"), "data"), "'data'"), 1):
        where = f"metric {n} of 'data'"
        name = _name(shape, shape.obj(item, where), where)
        points = shape.items(item.get("values") or [{}], f"{name}'s 'values'")
        first = shape.obj(points[0] if points else {}, f"the first of {name}'s 'values'")
        values[name] = shape.number(first.get("value"), f"{name}'s 'value'", optional=True)
    return values


def _name(shape, item: dict, where: str) -> str:
    name = shape.field(item, "name", where)
    if not isinstance(name, str):
        shape.fail(f"{where} has 'name' {described(name)}, not a metric name")
    return name


def _minutes(value) -> float:
    """A usage header's wait; one that is not a number means no known wait (our own backoff applies)."""
    try:
        return float(number(value or 0))
    except ValueError:
        return 0.0


def _code(value) -> int | None:
    """Error codes are numbers; one sent as text is still recognised."""
    try:
        return int(number(value))
    except ValueError:
        return None


def parse_timestamp(value: str) -> datetime:
    """Graph timestamps look like 2024-06-17T19:39:18+0000."""
    if not isinstance(value, str):
        raise ValueError(f"'timestamp' is {described(value)}, not a time")
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
