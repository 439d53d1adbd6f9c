"""The Metrika, Instagram, VK and Telegram clients fed the vendors' real samples (../shared/contracts/)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pytest
from conftest import fast_retry
from contracts import CONTRACTS, ReplayApi, sample

from glame_pipelines.clients.http import TransientError
from glame_pipelines.clients.instagram import InstagramAuthError, InstagramClient, InstagramError
from glame_pipelines.clients.metrika import MetrikaAuthError, MetrikaBadRequest, MetrikaClient
from glame_pipelines.clients.telegram import TelegramAuthError, TelegramClient, TelegramError
from glame_pipelines.clients.vk import VkAuthError, VkClient, VkError
from glame_pipelines.defs.telegram.assets import post_row as telegram_post_row
from glame_pipelines.defs.vk.assets import post_row as vk_post_row
from glame_pipelines.defs.vk.assets import stats_row
from glame_pipelines.sandbox.server import Response, SandboxServer

pytestmark = pytest.mark.skipif(not CONTRACTS.exists(), reason="shared/contracts is not beside the repo")
TOKEN = "contract-token-0123456789"


def replay(source: str, name: str, status: int = 200, prefix: str = "/replay/", **kwargs):
    api = ReplayApi(prefix, sample(source, name), status, **kwargs)
    return SandboxServer([api]).start(), api


# --- Yandex.Metrika --------------------------------------------------------------------------------


def metrika_client(server, api) -> MetrikaClient:
    return MetrikaClient(TOKEN, server.url(api), retry=fast_retry(max_attempts=2), timeout=5)


def test_metrika_daily_visits_sample():
    server, api = replay("yandex_metrika", "stat_v1_data_aiotapioca_daily_visits.json")
    with server:
        rows = metrika_client(server, api).report(
            "100500", date(2020, 10, 1), date(2020, 10, 5), ["ym:s:visits"], ["ym:s:date"]
        )
    assert [(r.dimensions["ym:s:date"], r.metrics["ym:s:visits"]) for r in rows][:2] == [
        ("2020-10-01", 14234.0),
        ("2020-10-02", 12508.0),
    ]
    assert len(rows) == 5 and not rows[0].sampled
    query = api.seen[0].query
    assert query["accuracy"] == "full" and query["offset"] == "1"
    assert api.seen[0].headers["authorization"] == f"OAuth {TOKEN}"


def test_metrika_sampled_real_example_keeps_the_share():
    server, api = replay("yandex_metrika", "stat_v1_data_redash_real_example.json")
    with server:
        rows = metrika_client(server, api).report(
            "1234567", date(2018, 7, 1), date(2018, 7, 1), ["ym:pv:pageviews"], ["ym:pv:month"]
        )
    assert rows[0].sampled and rows[0].sample_share == 0.1 and rows[0].metrics["ym:pv:pageviews"] == 1000.0


def test_metrika_traffic_source_dimensions_are_objects():
    server, api = replay("yandex_metrika", "stat_v1_data_traffic_source_kotlin_fixture.json")
    body = orjson.loads(sample("yandex_metrika", "stat_v1_data_traffic_source_kotlin_fixture.json"))
    dims, metrics = body["query"]["dimensions"], body["query"]["metrics"]
    with server:
        rows = metrika_client(server, api).report("16705159", date(2022, 1, 17), date(2022, 1, 17), metrics, dims)
    assert rows[0].dimensions[dims[0]] == body["data"][0]["dimensions"][0]["name"]


def test_metrika_single_counter_envelope():
    counters = orjson.loads(sample("yandex_metrika", "management_v1_counters_quickstart_docs.json"))["counters"]
    api = ReplayApi("/replay/", orjson.dumps({"counter": counters[0]}))
    with SandboxServer([api]) as server:
        assert metrika_client(server, api).counter("880000")["id"] == 880000


@pytest.mark.parametrize(
    "name, status, error, text",
    [
        ("error_403_invalid_token.json", 403, MetrikaAuthError, "metrika:read"),
        ("error_403_access_denied.json", 403, MetrikaAuthError, "YANDEX_METRIKA_COUNTER_ID"),
        ("error_400_invalid_parameter_no_object.json", 400, MetrikaBadRequest, "No object with specified ID"),
    ],
)
def test_metrika_error_samples(name, status, error, text):
    server, api = replay("yandex_metrika", name, status)
    with server, pytest.raises(error, match=text):
        metrika_client(server, api).counter("1")
    assert len(api.seen) == 1


# --- Instagram ---------------------------------------------------------------------------------------


def ig_client(server, api) -> InstagramClient:
    return InstagramClient(
        TOKEN, "17841405822304914", server.url(api), "v23.0", retry=fast_retry(max_attempts=2), timeout=5
    )


def test_instagram_account_fields_sample():
    server, api = replay("instagram", "ig_user_fields_metadocs.json")
    with server:
        assert ig_client(server, api).account()["username"] == "metricsaurus"
    assert api.seen[0].query["access_token"] == TOKEN
    assert api.seen[0].path == "v23.0/17841405822304914"


def test_instagram_total_value_and_time_series_samples():
    since, until = datetime(2024, 1, 14, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC)
    server, api = replay("instagram", "ig_user_insights_reach_total_value_breakdown_metadocs.json")
    with server:
        assert ig_client(server, api).account_totals(since, until)["reach"] == 224
    assert api.seen[0].query["metric_type"] == "total_value"
    server, api = replay("instagram", "ig_user_insights_time_series_airbyte.json")
    with server:
        assert ig_client(server, api).follower_count(since, until)["2024-01-15T07:00:00+0000"] == 1000


def test_instagram_media_pages_follow_next_with_the_token():
    first = orjson.loads(sample("instagram", "ig_user_media_ids_paging_metadocs.json"))
    last = orjson.loads(sample("instagram", "ig_user_media_EXCERPT_airbyte.json"))
    last["paging"].pop("next", None)

    class TwoPages(ReplayApi):
        def handle(self, request):
            self.seen.append(request)
            if len(self.seen) == 1:
                body = {
                    **first,
                    "paging": {
                        **first["paging"],
                        "next": f"http://{request.headers['host']}/replay/v23.0/x/media?after=2&access_token={TOKEN}",
                    },
                }
                return Response.json(body)
            return Response.json(last)

    api = TwoPages("/replay/", b"")
    with SandboxServer([api]) as server:
        items = list(ig_client(server, api).media())
    assert len(items) == len(first["data"]) + len(last["data"])
    assert api.seen[1].query["access_token"] == TOKEN and api.seen[1].query["after"] == "2"


def test_instagram_reel_insights_and_stories_samples():
    server, api = replay("instagram", "ig_media_insights_reel_recorded_2026.json")
    with server:
        values, reason = ig_client(server, api).media_insights(
            {"id": "17897668449516451", "media_product_type": "REELS"}
        )
    assert reason is None and values["shares"] == 202 and "views" in values
    server, api = replay("instagram", "ig_stories_airbyte.json")
    with server:
        stories = list(ig_client(server, api).stories())
    assert stories[0]["media_product_type"] == "STORY"


@pytest.mark.parametrize(
    "name, error, text",
    [
        ("error_190_463_token_expired.json", InstagramAuthError, "expired"),
        ("error_envelope_metadocs.json", InstagramAuthError, "password was changed"),
        ("error_10_permission_airbyte.json", InstagramAuthError, "permission"),
        ("error_100_subcode_33_unsupported_get_airbyte.json", InstagramError, "INSTAGRAM_BUSINESS_ACCOUNT_ID"),
    ],
)
def test_instagram_error_samples_say_what_to_do(name, error, text):
    server, api = replay("instagram", name, 400)
    with server, pytest.raises(error, match=text) as caught:
        ig_client(server, api).account()
    assert TOKEN not in str(caught.value) and len(api.seen) == 1


def test_instagram_rate_limit_sample_is_retried():
    server, api = replay("instagram", "error_4_app_rate_limit.json", 403)
    with server, pytest.raises(TransientError, match="code 4"):
        ig_client(server, api).account()
    assert len(api.seen) == 2


def test_instagram_pre_business_media_and_refused_metric_samples():
    server, api = replay("instagram", "error_100_2108006_posted_before_business_airbyte.json", 400)
    with server:
        assert (
            ig_client(server, api)
            .media_insights({"id": "1", "media_product_type": "FEED"})[1]
            .startswith("posted before")
        )
    server, api = replay("instagram", "error_100_media_insights_metric_unsupported.json", 400)
    with server, pytest.raises(InstagramError, match="views metric"):
        ig_client(server, api).media_insights({"id": "1", "media_product_type": "FEED"})
    assert "views" in api.seen[0].query["metric"] and "views" not in api.seen[1].query["metric"]


# --- VK --------------------------------------------------------------------------------------------------


def vk_client(server, api) -> VkClient:
    return VkClient(TOKEN, server.url(api), requests_per_second=0, retry=fast_retry(max_attempts=2), timeout=5)


def test_vk_stats_sample_becomes_a_day_row():
    server, api = replay("vk", "stats.get_interval_day_openintegrations.json")
    with server:
        periods = vk_client(server, api).stats("1", datetime(2024, 1, 7, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC))
    row = stats_row("1", periods[0])
    assert row[1] == date(2024, 1, 7) and row[2:8] == (8, 1, 0, 1, 1, 0)
    assert api.seen[0].method == "POST" and api.seen[0].query["access_token"] == TOKEN
    assert "access_token" not in api.seen[0].path


@pytest.mark.parametrize("name", ["wall.get_group_-140233986.json", "wall.get_group_-51651959_2021.json"])
def test_vk_wall_samples_become_post_rows(name):
    server, api = replay("vk", name)
    with server:
        page = vk_client(server, api).call("wall.get", owner_id="-1", count=100, offset=0)
    for post in page["items"]:
        owner, _post_id, posted, likes, _comments, _reposts, views, _ = vk_post_row(post)
        assert owner == str(post["owner_id"]) and posted.year >= 2018 and likes is not None
        assert views == (post.get("views") or {}).get("count")


@pytest.mark.parametrize(
    "name, error, text",
    [
        ("error_5_invalid_access_token.json", VkAuthError, "VK_ACCESS_TOKEN"),
        ("error_15_token_required.json", VkAuthError, "admin"),
        ("error_15_access_denied_wall.get.json", VkAuthError, "admin"),
        ("error_30_private_profile.json", VkAuthError, "private"),
        ("error_18_user_deleted.json", VkError, "deleted"),
    ],
)
def test_vk_error_samples(name, error, text):
    server, api = replay("vk", name)
    with server, pytest.raises(error, match=text):
        vk_client(server, api).call("wall.get", owner_id="-1")
    assert len(api.seen) == 1


def test_vk_execute_sample_returns_its_response():
    server, api = replay("vk", "execute_with_execute_errors.json")
    with server:
        assert vk_client(server, api).call("execute", code="return 1;")["admin_level"] == 0


# --- Telegram ------------------------------------------------------------------------------------------

BOT = "123456:ABCdefGhIJKlmnOPQrstUVwxyz012345678"


def tg_client(server, api) -> TelegramClient:
    return TelegramClient(BOT, server.url(api), retry=fast_retry(max_attempts=2), timeout=5)


def test_telegram_ok_samples():
    for name, call, expected in [
        ("getMe_ok.json", lambda c: c.me()["username"], "sicheebot"),
        ("getChatMemberCount_ok.json", lambda c: c.member_count("@x"), 3),
        ("getChat_private_chatfullinfo_real.json", lambda c: c.chat("@x")["type"], "private"),
    ]:
        server, api = replay("telegram", name)
        with server:
            assert call(tg_client(server, api)) == expected
        assert api.seen[0].path.startswith(f"bot{BOT}/")


def test_telegram_update_sample_yields_channel_posts_only():
    server, api = replay("telegram", "getUpdates_channel_post_and_messages.json")
    with server:
        updates = tg_client(server, api).updates()
    rows = [r for r in map(telegram_post_row, updates) if r]
    assert rows and all(r[0] == "-1001893407333" for r in rows)
    assert len(rows) < len(updates)  # private messages are not channel posts


@pytest.mark.parametrize(
    "name, status, error, text",
    [
        ("error_401_unauthorized.json", 401, TelegramAuthError, "BotFather"),
        ("error_400_chat_not_found.json", 400, TelegramError, "TELEGRAM_CHANNEL_USERNAME"),
    ],
)
def test_telegram_error_samples(name, status, error, text):
    server, api = replay("telegram", name, status)
    with server, pytest.raises(error, match=text) as caught:
        tg_client(server, api).chat("@x")
    assert BOT not in str(caught.value) and len(api.seen) == 1


def test_telegram_429_sample_asks_too_long_a_wait_and_gives_up_clearly():
    server, api = replay("telegram", "error_429_too_many_requests.json", 429)
    with server, pytest.raises(TransientError, match="wait 2282s") as caught:
        tg_client(server, api).me()
    assert caught.value.retry_after == 2282 and len(api.seen) == 1


def test_telegram_nginx_502_page_is_transient():
    server, api = replay("telegram", "error_502_bad_gateway_nginx.html", 502, content_type="text/html")
    with server, pytest.raises(TransientError, match="HTML page") as caught:
        tg_client(server, api).me()
    assert BOT.split(":")[1] not in str(caught.value) and len(api.seen) == 2
