"""Simulators of Yandex.Metrika, the Instagram Graph API, the VK API and the Telegram Bot API, each
following its vendor's documented contract: paths, parameters, auth, paging and error envelopes.

The numbers are deterministic per (seed, day), so a test can compute what a correct load holds.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from urllib.parse import urlencode

import orjson

from glame_pipelines.sandbox.retail import MOSCOW
from glame_pipelines.sandbox.server import Api, Request, Response

TRAFFIC_SOURCES = (
    "Search engine traffic",
    "Direct traffic",
    "Link traffic",
    "Social network traffic",
    "Ad traffic",
    "Internal traffic",
    "Messenger traffic",
)
GENDERS = ("female", "male")
AGES = ("under 18", "18-24", "25-34", "35-44", "45-54", "55 and over")


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))


def moscow_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), MOSCOW)


def graph_time(moment: datetime) -> str:
    """Graph API timestamps: UTC, `+0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


# --- Yandex.Metrika --------------------------------------------------------------------------------


class MetrikaApi(Api):
    prefix = "/metrika/"

    def __init__(
        self,
        seed: int = 7,
        token: str = "sandbox-metrika-token",
        counter_id: str = "98765432",
        ecommerce: bool = True,
        sampled_days: frozenset[date] = frozenset(),
    ):
        self.seed, self.token, self.counter_id = seed, token, counter_id
        self.ecommerce = ecommerce
        self.sampled_days = set(sampled_days)
        self.quota_errors = 0  # answer this many requests with a 429 quota error first
        self.rows_with_nulls: set[date] = set()  # days that also get a row Metrika leaves mostly null

    def error(self, status: int, error_type: str, message: str) -> Response:
        return Response.json(
            {"errors": [{"error_type": error_type, "message": message}], "code": status, "message": message}, status
        )

    def rate_limit_response(self) -> Response:
        return Response.json(
            {
                "errors": [{"error_type": "quota_requests_by_ip", "message": "Quota exceeded"}],
                "code": 429,
                "message": "Quota exceeded",
            },
            429,
            {"Retry-After": "1"},
        )

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"OAuth {self.token}":
            return self.error(403, "invalid_token", "Invalid oauth_token")
        if self.quota_errors:
            self.quota_errors -= 1
            return self.rate_limit_response()
        if request.path.startswith("management/v1/counter/"):
            counter = request.path.rsplit("/", 1)[1]
            if counter != self.counter_id:
                return self.error(403, "access_denied", "Access is denied")
            return Response.json(
                {
                    "counter": {
                        "id": int(counter),
                        "status": "Active",
                        "name": "glame.ru",
                        "site": "glame.ru",
                        "permission": "own",
                    }
                }
            )
        if request.path == "stat/v1/data":
            return self._data(request.query)
        return self.error(404, "not_found", "Not found")

    def visits(self, day: date, source: str) -> dict[str, float]:
        rng = _rng(self.seed, "metrika", day, source)
        weight = {"Search engine traffic": 5, "Direct traffic": 3, "Social network traffic": 2}.get(source, 1)
        visits = rng.randint(20, 120) * weight
        users = int(visits * rng.uniform(0.7, 0.9))
        purchases = int(visits * rng.uniform(0.005, 0.02))
        return {
            "ym:s:visits": float(visits),
            "ym:s:users": float(users),
            "ym:s:newUsers": float(int(users * 0.6)),
            "ym:s:pageviews": float(visits * rng.randint(2, 5)),
            "ym:s:bounceRate": round(rng.uniform(15, 45), 2),
            "ym:s:pageDepth": round(rng.uniform(1.8, 4.5), 2),
            "ym:s:avgVisitDurationSeconds": round(rng.uniform(60, 300), 1),
            "ym:s:ecommercePurchases": float(purchases),
            "ym:s:ecommerceRevenue": float(purchases * rng.randint(30, 150) * 100),
        }

    def demographics(self, day: date, gender: str, age: str) -> dict[str, float]:
        rng = _rng(self.seed, "metrika-demo", day, gender, age)
        visits = rng.randint(5, 200) * (3 if gender == "female" else 1)
        return {"ym:s:visits": float(visits), "ym:s:users": float(int(visits * 0.8))}

    def _data(self, query: dict[str, str]) -> Response:
        if query.get("ids") != self.counter_id:
            return self.error(403, "access_denied", "Access is denied")
        metrics = query.get("metrics", "").split(",")
        dimensions = query.get("dimensions", "").split(",")
        if len(metrics) > 20:
            return self.error(400, "invalid_parameter", "Too many metrics: at most 20 are allowed")
        if not self.ecommerce and any("ecommerce" in m for m in metrics):
            return self.error(400, "invalid_parameter", "Ecommerce is not enabled for this counter")
        date1, date2 = date.fromisoformat(query["date1"]), date.fromisoformat(query["date2"])
        rows = []
        for n in range((date2 - date1).days + 1):
            day = date1 + timedelta(n)
            if "ym:s:gender" in dimensions:
                for gender in GENDERS:
                    for age in AGES:
                        values = self.demographics(day, gender, age)
                        rows.append(([day.isoformat(), gender, age], values))
            else:
                for source in TRAFFIC_SOURCES:
                    rows.append(([day.isoformat(), source], self.visits(day, source)))
                if day in self.rows_with_nulls:  # as Metrika answers for visits it could not attribute
                    rows.append(([day.isoformat(), None], {"ym:s:visits": 3.0, "ym:s:users": 3.0}))
        offset, limit = int(query.get("offset", 1)), int(query.get("limit", 100))
        page = rows[offset - 1 : offset - 1 + limit]
        sampled = any(date1 + timedelta(n) in self.sampled_days for n in range((date2 - date1).days + 1))
        data = [
            {
                "dimensions": [{"name": v, "id": v} if v is not None else {"name": None} for v in dims],
                "metrics": [values.get(m) for m in metrics],
            }
            for dims, values in page
        ]
        return Response.json(
            {
                "query": {
                    "ids": [int(self.counter_id)],
                    "dimensions": dimensions,
                    "metrics": metrics,
                    "date1": query["date1"],
                    "date2": query["date2"],
                    "limit": limit,
                    "offset": offset,
                },
                "data": data,
                "total_rows": len(rows),
                "total_rows_rounded": False,
                "sampled": sampled,
                "sample_share": 0.5 if sampled else 1.0,
                "sample_size": 1000,
                "sample_space": 2000 if sampled else 1000,
                "data_lag": 0,
                "totals": [0.0] * len(metrics),
                "min": [0.0] * len(metrics),
                "max": [0.0] * len(metrics),
            }
        )


# --- Instagram Graph API ---------------------------------------------------------------------------


@dataclass
class InstagramApi(Api):
    seed: int = 7
    token: str = "sandbox-instagram-token"
    account_id: str = "17841400000000001"
    version: str = "v23.0"
    today: date = field(default_factory=lambda: datetime.now(MOSCOW).date())
    media_count: int = 137
    before_business: int = 3  # the oldest media were posted before the business conversion
    token_expired: bool = False
    rate_limit_next: int = 0  # answer this many requests with code 4 (+ usage header)
    stories_at: datetime | None = None  # when the live stories were posted from (default: this hour)
    regain_minutes: int = 0  # estimated_time_to_regain_access in the usage header of a rate limit
    unsupported_metrics: set[str] = field(default_factory=set)  # refused as an older API version would
    prefix = "/instagram/"

    def error(self, status: int, code: int, message: str, subcode: int | None = None, **extra) -> Response:
        body = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "SANDBOX", **extra}
        if subcode:
            body["error_subcode"] = subcode
        return Response.json({"error": body}, status)

    def rate_limit_response(self) -> Response:
        response = self.error(403, 4, "(#4) Application request limit reached", is_transient=True)
        response.headers["X-App-Usage"] = '{"call_count":100,"total_cputime":20,"total_time":30}'
        usage = {
            "type": "instagram",
            "call_count": 100,
            "total_cputime": 20,
            "total_time": 30,
            "estimated_time_to_regain_access": self.regain_minutes,
        }
        response.headers["X-Business-Use-Case-Usage"] = orjson.dumps({self.account_id: [usage]}).decode()
        return response

    def server_error_response(self, status: int) -> Response:
        return self.error(
            status, 2, "An unexpected error has occurred. Please retry your request later.", is_transient=True
        )

    def media_items(self) -> list[dict]:
        items = []
        for n in range(self.media_count):
            rng = _rng(self.seed, "ig-media", n)
            posted = moscow_midnight(self.today) - timedelta(days=n * 2 + 1, hours=rng.randint(0, 12))
            product = "REELS" if n % 3 == 0 else "FEED"
            items.append(
                {
                    "id": f"1789{n:011d}",
                    "caption": f"Новая коллекция GLAME #{n}",
                    "media_type": "VIDEO" if product == "REELS" else rng.choice(("IMAGE", "CAROUSEL_ALBUM")),
                    "media_product_type": product,
                    "permalink": f"https://www.instagram.com/p/GLAME{n:05d}/",
                    "timestamp": graph_time(posted),
                    "like_count": rng.randint(40, 900),
                    "comments_count": rng.randint(0, 60),
                }
            )
        return items

    def stories(self) -> list[dict]:
        now = self.stories_at or datetime.now(MOSCOW).replace(minute=0, second=0, microsecond=0)
        return [
            {
                "id": f"1799{now:%Y%m%d}{n:02d}",
                "media_type": "IMAGE",
                "media_product_type": "STORY",
                "permalink": f"https://www.instagram.com/stories/glame/{n}/",
                "timestamp": graph_time(now - timedelta(hours=3 * n + 1)),
            }
            for n in range(4)
        ]

    def account_day(self, day: date) -> dict[str, int]:
        rng = _rng(self.seed, "ig-account", day)
        return {
            "reach": rng.randint(800, 4000),
            "views": rng.randint(3000, 15000),
            "accounts_engaged": rng.randint(50, 400),
            "total_interactions": rng.randint(100, 900),
            "likes": rng.randint(80, 700),
            "comments": rng.randint(5, 60),
            "shares": rng.randint(2, 40),
            "saves": rng.randint(5, 80),
            "profile_views": rng.randint(40, 300),
            "follower_count": rng.randint(3, 40),
        }

    def handle(self, request: Request) -> Response:
        token = request.query.get("access_token")
        if token != self.token:
            return self.error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if self.token_expired:
            return self.error(
                400, 190, "Error validating access token: Session has expired on Monday, 19-Jun-23 06:29:46 PDT.", 463
            )
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            return self.rate_limit_response()
        version, _, path = request.path.partition("/")
        if version != self.version:
            return self.error(400, 2635, f"(#2635) You are calling a deprecated version of the Graph API: {version}")
        parts = path.strip("/").split("/")
        if parts[0] == self.account_id:
            return self._account(parts[1:], request.query, request.headers.get("host", "127.0.0.1"))
        media = {m["id"]: m for m in self.media_items()}
        media.update({s["id"]: s for s in self.stories()})
        if parts[0] in media and parts[1:] == ["insights"]:
            return self._media_insights(media[parts[0]], request.query)
        return self.error(400, 100, "Unsupported get request", 33)

    def _account(self, rest: list[str], query: dict[str, str], host: str) -> Response:
        if not rest:
            fields = query.get("fields", "id").split(",")
            values = {
                "id": self.account_id,
                "username": "glame.jewelry",
                "followers_count": 24817,
                "follows_count": 312,
                "media_count": self.media_count,
            }
            return Response.json({f: values[f] for f in fields if f in values} | {"id": self.account_id})
        if rest == ["insights"]:
            return self._insights(query)
        if rest in (["media"], ["stories"]):
            items = self.media_items() if rest == ["media"] else self.stories()
            return self._page(rest[0], items, query, host)
        return self.error(400, 100, "Unsupported get request", 33)

    def _page(self, edge: str, items: list[dict], query: dict[str, str], host: str) -> Response:
        limit = int(query.get("limit", 25))
        start = int(query.get("after", "0") or 0)
        fields = query.get("fields", "id").split(",")
        page = [{f: item[f] for f in fields if f in item} for item in items[start : start + limit]]
        body = {"data": page, "paging": {"cursors": {"before": str(start), "after": str(start + limit)}}}
        if start + limit < len(items):
            next_query = {**query, "after": str(start + limit)}
            body["paging"]["next"] = f"http://{host}{self.prefix}{self.version}/{self.account_id}/{edge}?" + urlencode(
                next_query
            )
        return Response.json(body)

    def _insights(self, query: dict[str, str]) -> Response:
        metrics = query.get("metric", "").split(",")
        for metric in metrics:
            if metric in ("impressions", "plays", "video_views"):
                return self.error(400, 100, f"(#100) {metric} metric is no longer supported")
        since = datetime.fromtimestamp(int(query["since"]), MOSCOW).date()
        until = datetime.fromtimestamp(int(query["until"]), MOSCOW).date()
        if (until - since).days > 30:
            return self.error(400, 100, "(#100) The time range must be 30 days or less")
        if query.get("metric_type") == "total_value":
            days = [since + timedelta(n) for n in range((until - since).days)]
            data = [
                {
                    "name": m,
                    "period": query.get("period", "day"),
                    "title": m,
                    "id": f"{self.account_id}/insights/{m}/day",
                    "total_value": {"value": sum(self.account_day(d)[m] for d in days)},
                }
                for m in metrics
            ]
            return Response.json({"data": data})
        data = []
        for metric in metrics:
            values = [
                {
                    "value": self.account_day(since + timedelta(n))[metric],
                    "end_time": graph_time(moscow_midnight(since + timedelta(n + 1))),
                }
                for n in range((until - since).days)
            ]
            data.append(
                {"name": metric, "period": "day", "values": values, "id": f"{self.account_id}/insights/{metric}/day"}
            )
        return Response.json({"data": data})

    def _media_insights(self, media: dict, query: dict[str, str]) -> Response:
        index = int(media["id"][4:]) if media["media_product_type"] != "STORY" else 0
        if media["media_product_type"] != "STORY" and index >= self.media_count - self.before_business:
            return self.error(
                400,
                100,
                "Invalid parameter",
                2108006,
                error_user_title="Media posted before business account conversion",
            )
        allowed = {
            "FEED": {"reach", "likes", "comments", "shares", "saved", "total_interactions", "views"},
            "REELS": {
                "reach",
                "likes",
                "comments",
                "shares",
                "saved",
                "total_interactions",
                "views",
                "ig_reels_avg_watch_time",
            },
            "STORY": {"reach", "replies", "shares", "total_interactions", "views", "navigation"},
        }
        product = media["media_product_type"]
        rng = _rng(self.seed, "ig-insights", media["id"])
        data = []
        for metric in query.get("metric", "").split(","):
            if metric not in allowed[product] or metric in self.unsupported_metrics:
                return self.error(
                    400,
                    100,
                    f"(#100) The Media Insights API does not support the {metric} metric for this media product type.",
                )
            data.append(
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": rng.randint(1, 5000)}],
                    "id": f"{media['id']}/insights/{metric}/lifetime",
                }
            )
        return Response.json({"data": data})


# --- VK API ----------------------------------------------------------------------------------------


@dataclass
class VkApi(Api):
    seed: int = 7
    token: str = "sandbox-vk-token"
    group_id: str = "212345678"
    version: str = "5.199"
    posts: int = 257
    today: date = field(default_factory=lambda: datetime.now(MOSCOW).date())
    flood_next: int = 0  # answer this many calls with error 6 inside HTTP 200
    call_times: list[float] = field(default_factory=list)
    prefix = "/vk/method/"

    def error(self, code: int, message: str, params: dict[str, str] | None = None) -> Response:
        request_params = [{"key": k, "value": v} for k, v in (params or {}).items() if k != "access_token"]
        return Response.json({"error": {"error_code": code, "error_msg": message, "request_params": request_params}})

    def rate_limit_response(self) -> Response:
        return self.error(6, "Too many requests per second")

    def server_error_response(self, status: int) -> Response:
        return Response(status, b"", {"Content-Type": "text/plain"})

    def handle(self, request: Request) -> Response:
        self.call_times.append(monotonic())
        params = request.query
        if params.get("access_token") != self.token:
            return self.error(5, "User authorization failed: invalid access_token (4).", params)
        if params.get("v") != self.version:
            return self.error(8, "Invalid request: v (version) is required", params)
        if self.flood_next:
            self.flood_next -= 1
            return self.rate_limit_response()
        method = request.path.strip("/")
        handler = {"groups.getById": self._group, "stats.get": self._stats, "wall.get": self._wall}.get(method)
        if handler is None:
            return self.error(3, "Unknown method passed", params)
        return handler(params)

    def _group(self, params: dict[str, str]) -> Response:
        if params.get("group_id") not in (self.group_id, "glame"):
            return self.error(
                100, "One of the parameters specified was missing or invalid: group_ids is undefined", params
            )
        return Response.json(
            {
                "response": {
                    "groups": [
                        {
                            "id": int(self.group_id),
                            "name": "GLAME украшения",
                            "screen_name": "glame",
                            "members_count": 18342,
                            "description": "Украшения GLAME",
                        }
                    ],
                    "profiles": [],
                }
            }
        )

    def stats_day(self, day: date) -> dict:
        rng = _rng(self.seed, "vk-stats", day)
        views = rng.randint(200, 2000)
        reach = rng.randint(500, 5000)
        return {
            "visitors": {"views": views, "visitors": int(views * 0.6), "mobile_views": int(views * 0.7)},
            "reach": {"reach": reach, "reach_subscribers": int(reach * 0.4), "mobile_reach": int(reach * 0.8)},
            "activity": {
                "likes": rng.randint(20, 300),
                "comments": rng.randint(0, 40),
                "copies": rng.randint(0, 20),
                "subscribed": rng.randint(2, 30),
                "unsubscribed": rng.randint(0, 10),
                "hidden": rng.randint(0, 5),
            },
        }

    def _stats(self, params: dict[str, str]) -> Response:
        if params.get("group_id") != self.group_id:
            return self.error(15, "Access denied: no access to this group's statistics", params)
        start = datetime.fromtimestamp(int(params["timestamp_from"]), MOSCOW).date()
        end = datetime.fromtimestamp(int(params["timestamp_to"]), MOSCOW).date()
        periods = []
        for n in range((end - start).days, -1, -1):  # VK lists the newest period first
            day = start + timedelta(n)
            periods.append(
                {
                    "period_from": int(moscow_midnight(day).timestamp()),
                    "period_to": int(moscow_midnight(day + timedelta(1)).timestamp()) - 1,
                    **self.stats_day(day),
                }
            )
        return Response.json({"response": periods})

    def post(self, n: int) -> dict:
        rng = _rng(self.seed, "vk-post", n)
        posted = moscow_midnight(self.today) - timedelta(days=n, hours=rng.randint(0, 10))
        post = {
            "id": 10_000 - n,
            "owner_id": -int(self.group_id),
            "from_id": -int(self.group_id),
            "date": int(posted.timestamp()),
            "post_type": "post",
            "text": f"Новинка GLAME #{n}",
            "comments": {"count": rng.randint(0, 30)},
            "likes": {"count": rng.randint(5, 400)},
            "reposts": {"count": rng.randint(0, 25)},
        }
        if n % 10 != 7:  # some posts (old ones, reposts) come without view counters
            post["views"] = {"count": rng.randint(300, 9000)}
        return post

    def _wall(self, params: dict[str, str]) -> Response:
        if params.get("owner_id") != f"-{self.group_id}":
            return self.error(15, "Access denied: wall is disabled", params)
        offset, count = int(params.get("offset", 0)), min(int(params.get("count", 20)), 100)
        items = [self.post(n) for n in range(offset, min(offset + count, self.posts))]
        return Response.json({"response": {"count": self.posts, "items": items}})


# --- Telegram Bot API ------------------------------------------------------------------------------


@dataclass
class TelegramApi(Api):
    seed: int = 7
    token: str = "123456789:SANDBOXsandboxSANDBOXsandbox12345"
    channel: str = "@glame_jewelry"
    webhook_set: bool = False
    members: int = 5120
    pending: list[dict] = field(default_factory=list)
    confirmed_below: int = 0
    chats: tuple[str, ...] = ("-1009876543210", "@glame_team")  # chats the bot may write to, besides the channel
    sent: list[dict] = field(default_factory=list)  # every accepted sendMessage, as the chat would show it
    prefix = "/telegram/"

    def __post_init__(self) -> None:
        now = int(moscow_midnight(datetime.now(MOSCOW).date()).timestamp())  # deterministic within a day
        for n in range(12):
            self.pending.append(
                {
                    "update_id": 500_000 + n,
                    "channel_post": {
                        "message_id": 900 + n,
                        "date": now - 3600 * (12 - n),
                        "chat": {
                            "id": -1001234567890,
                            "title": "GLAME",
                            "username": self.channel[1:],
                            "type": "channel",
                        },
                        "sender_chat": {
                            "id": -1001234567890,
                            "title": "GLAME",
                            "username": self.channel[1:],
                            "type": "channel",
                        },
                        "text": f"Пост GLAME #{n}",
                    },
                }
            )

    def fail(self, code: int, description: str, **parameters) -> Response:
        body = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return Response.json(body, code)

    def rate_limit_response(self) -> Response:
        return self.fail(429, "Too Many Requests: retry after 2", retry_after=2)

    def handle(self, request: Request) -> Response:
        match = re.match(r"bot([^/]+)/(\w+)$", request.path)
        if not match:
            return self.fail(404, "Not Found")
        if match.group(1) != self.token:
            return self.fail(401, "Unauthorized")
        params = orjson.loads(request.body) if request.body else dict(request.query)
        method = match.group(2)
        if method == "getMe":
            return Response.json(
                {
                    "ok": True,
                    "result": {
                        "id": 123456789,
                        "is_bot": True,
                        "first_name": "GLAME stats",
                        "username": "glame_stats_bot",
                    },
                }
            )
        if method in ("getChat", "getChatMemberCount"):
            if params.get("chat_id") != self.channel:
                return self.fail(400, "Bad Request: chat not found")
            if method == "getChatMemberCount":
                return Response.json({"ok": True, "result": self.members})
            return Response.json(
                {
                    "ok": True,
                    "result": {
                        "id": -1001234567890,
                        "title": "GLAME",
                        "type": "channel",
                        "username": self.channel[1:],
                        "description": "Украшения GLAME",
                    },
                }
            )
        if method == "getUpdates":
            if self.webhook_set:
                return self.fail(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            offset = params.get("offset")
            if offset is not None:
                self.confirmed_below = max(self.confirmed_below, int(offset))
            result = [u for u in self.pending if u["update_id"] >= self.confirmed_below][
                : int(params.get("limit", 100))
            ]
            return Response.json({"ok": True, "result": result})
        if method == "sendMessage":
            return self._send_message(params)
        return self.fail(404, "Not Found")

    def _send_message(self, params: dict) -> Response:
        """sendMessage as the Bot API checks it: a known chat, HTML parsed when parse_mode=HTML, and
        1-4096 characters of text after entity parsing."""
        chat_id = str(params.get("chat_id", ""))
        if chat_id not in (self.channel, *self.chats):
            return self.fail(400, "Bad Request: chat not found")
        text = str(params.get("text") or "")
        if str(params.get("parse_mode", "")).lower() == "html":
            try:
                text = parse_html_entities(text)
            except ValueError as error:
                return self.fail(400, f"Bad Request: can't parse entities: {error}")
        if not text.strip():
            return self.fail(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MESSAGE_LIMIT:  # Telegram counts UTF-16 code units
            return self.fail(400, "Bad Request: message is too long")
        message = {
            "message_id": 7000 + len(self.sent),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {
                "id": int(chat_id) if chat_id.lstrip("-").isdigit() else -1001234567890,
                "type": "supergroup" if chat_id.lstrip("-").isdigit() else "channel",
            },
            "text": text,
        }
        self.sent.append(
            {"chat_id": chat_id, "html": params.get("text"), "parse_mode": params.get("parse_mode"), **message}
        )
        return Response.json({"ok": True, "result": message})


MESSAGE_LIMIT = 4096  # UTF-16 code units of a message's text after entity parsing (Bot API, sendMessage)
HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "tg-emoji",
    "blockquote",
}
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html_entities(html: str) -> str:
    """The plain text of a Bot API HTML message, or ValueError worded as the Bot API words it: only the
    supported tags, properly nested, and `<`, `&` escaped outside them."""
    out, stack, i = [], [], 0
    while i < len(html):
        char = html[i]
        offset = len(html[:i].encode())
        if char == "<":
            end = html.find(">", i)
            if end < 0:
                raise ValueError(f"Unclosed start tag at byte offset {offset}")
            tag = html[i + 1 : end].strip()
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not stack or stack[-1] != name:
                    expected = f'expected "</{stack[-1]}>", ' if stack else ""
                    raise ValueError(f'Unmatched end tag at byte offset {offset}, {expected}found "</{name}>"')
                stack.pop()
            else:
                name = re.split(r"[\s/]", tag, maxsplit=1)[0].lower()
                if name not in HTML_TAGS:
                    raise ValueError(f'Unsupported start tag "{name}" at byte offset {offset}')
                stack.append(name)
            i = end + 1
        elif char == "&":
            match = re.match(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);", html[i:])
            if not match:
                raise ValueError(f"Character entity expected at byte offset {offset}")
            name = match.group(1)
            if name.startswith("#"):
                out.append(chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:])))
            elif name in _ENTITIES:
                out.append(_ENTITIES[name])
            else:
                raise ValueError(f'Unsupported HTML entity "&{name};" at byte offset {offset}')
            i += match.end()
        else:
            out.append(char)
            i += 1
    if stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)
