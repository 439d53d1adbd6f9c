"""Metrika, Instagram, VK and Telegram clients against their simulators: paging to the end, and every
error class (auth, the vendor's rate-limit signal, 5xx, malformed bodies)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest
from conftest import fast_retry

from glame_pipelines.clients.http import TransientError
from glame_pipelines.clients.instagram import InstagramAuthError, InstagramClient
from glame_pipelines.clients.metrika import (
    DEMOGRAPHIC_DIMENSIONS,
    DEMOGRAPHIC_METRICS,
    TRAFFIC_DIMENSIONS,
    TRAFFIC_METRICS,
    MetrikaAuthError,
    MetrikaClient,
)
from glame_pipelines.clients.telegram import TelegramAuthError, TelegramClient, UpdatesUnavailable
from glame_pipelines.clients.vk import VkAuthError, VkClient

DAY = date(2025, 3, 14)


@pytest.fixture
def metrika(web_sandbox, web_apis):
    api = web_apis["metrika"]
    return MetrikaClient(api.token, web_sandbox.url(api), retry=fast_retry(), timeout=5)


@pytest.fixture
def instagram(web_sandbox, web_apis):
    api = web_apis["instagram"]
    return InstagramClient(api.token, api.account_id, web_sandbox.url(api), retry=fast_retry(max_delay=120), timeout=5)


@pytest.fixture
def vk(web_sandbox, web_apis):
    return VkClient(
        web_apis["vk"].token, web_sandbox.url(web_apis["vk"]), requests_per_second=0, retry=fast_retry(), timeout=5
    )


@pytest.fixture
def telegram(web_sandbox, web_apis):
    return TelegramClient(
        web_apis["telegram"].token, web_sandbox.url(web_apis["telegram"]), retry=fast_retry(), timeout=5
    )


# --- Yandex.Metrika --------------------------------------------------------------------------------


def test_metrika_pages_with_offset_from_1_to_total_rows(metrika, web_sandbox, web_apis):
    rows = metrika.report(
        web_apis["metrika"].counter_id,
        DAY,
        DAY + timedelta(2),
        DEMOGRAPHIC_METRICS,
        DEMOGRAPHIC_DIMENSIONS,
        page_limit=5,
    )
    assert len(rows) == 36 and len({tuple(r.dimensions.values()) for r in rows}) == 36
    offsets = [p.split("offset=")[1].split("&")[0] for _, p in web_sandbox.requests if "stat/v1/data" in p]
    assert offsets == ["1", "6", "11", "16", "21", "26", "31", "36"]
    expected = web_apis["metrika"].demographics(DAY, "female", "25-34")
    row = next(
        r
        for r in rows
        if r.dimensions == {"ym:s:date": "2025-03-14", "ym:s:gender": "female", "ym:s:ageInterval": "25-34"}
    )
    assert row.metrics == expected


def test_metrika_splits_more_than_20_metrics_and_joins_them(metrika, web_apis):
    metrics = TRAFFIC_METRICS + tuple(f"ym:s:goal{n}reaches" for n in range(15))
    rows = metrika.report(web_apis["metrika"].counter_id, DAY, DAY, metrics, TRAFFIC_DIMENSIONS)
    assert len(rows) == 7
    assert all(set(r.metrics) == set(metrics) for r in rows)
    search = next(r for r in rows if r.dimensions["ym:s:lastTrafficSource"] == "Search engine traffic")
    assert search.metrics["ym:s:visits"] == web_apis["metrika"].visits(DAY, "Search engine traffic")["ym:s:visits"]


def test_metrika_records_sampling(metrika, web_apis):
    web_apis["metrika"].sampled_days.add(DAY)
    rows = metrika.report(web_apis["metrika"].counter_id, DAY, DAY, TRAFFIC_METRICS, TRAFFIC_DIMENSIONS)
    assert all(r.sampled and r.sample_share == 0.5 for r in rows)


def test_metrika_bad_token_and_foreign_counter_are_auth_errors_not_retried(web_sandbox, web_apis, metrika):
    api = web_apis["metrika"]
    retry = fast_retry()
    bad = MetrikaClient("y0_wrong-token-value", web_sandbox.url(api), retry=retry)
    with pytest.raises(MetrikaAuthError, match="metrika:read") as caught:
        bad.counter(api.counter_id)
    assert "y0_wrong-token-value" not in str(caught.value) and retry.slept == []
    with pytest.raises(MetrikaAuthError, match="YANDEX_METRIKA_COUNTER_ID"):
        metrika.counter("11111111")


def test_metrika_quota_429_honours_retry_after(metrika, web_apis):
    web_apis["metrika"].quota_errors = 2
    assert metrika.counter(web_apis["metrika"].counter_id)["id"] == int(web_apis["metrika"].counter_id)
    assert metrika.retry.slept == [1.0, 1.0]


@pytest.mark.parametrize("faults", [("server_error", "unavailable"), ("html", "truncate"), ("drop",)])
def test_metrika_transient_failures_are_retried(metrika, web_sandbox, web_apis, faults):
    web_sandbox.faults.queue(*faults)
    assert len(metrika.report(web_apis["metrika"].counter_id, DAY, DAY, TRAFFIC_METRICS, TRAFFIC_DIMENSIONS)) == 7
    assert len(metrika.retry.slept) == len(faults)


# --- Instagram ---------------------------------------------------------------------------------------


def test_instagram_media_follows_paging_next_to_the_end(instagram, web_apis):
    items = list(instagram.media(page_size=50))
    assert len(items) == web_apis["instagram"].media_count == len({i["id"] for i in items})


def test_instagram_expired_token_says_what_to_do_and_is_not_retried(instagram, web_apis):
    web_apis["instagram"].token_expired = True
    with pytest.raises(InstagramAuthError, match=r"expired.*INSTAGRAM_ACCESS_TOKEN"):
        instagram.account()
    assert instagram.retry.slept == []


def test_instagram_rate_limit_waits_as_the_usage_header_says(instagram, web_apis):
    web_apis["instagram"].rate_limit_next, web_apis["instagram"].regain_minutes = 1, 1
    assert instagram.account()["username"] == "glame.jewelry"
    assert instagram.retry.slept == [60.0]


def test_instagram_transient_and_malformed_answers_are_retried(instagram, web_sandbox):
    web_sandbox.faults.queue("server_error", "truncate", "html")
    assert instagram.account()["followers_count"] == 24817
    assert len(instagram.retry.slept) == 3


def test_instagram_media_insights_survive_pre_business_media_and_refused_metrics(instagram, web_apis):
    items = list(instagram.media())
    values, reason = instagram.media_insights(items[-1])  # the oldest: posted before the business conversion
    assert values == {} and "business" in reason
    web_apis["instagram"].unsupported_metrics.add("views")  # as the API answered before views replaced plays
    values, reason = instagram.media_insights(items[1])
    assert reason is None and "views" not in values and values["reach"] > 0


def test_instagram_token_in_next_urls_never_reaches_an_error(instagram, web_sandbox, web_apis):
    web_sandbox.faults.queue("server_error")  # page 1 retried
    pages = instagram.paged(f"{web_apis['instagram'].account_id}/media", fields="id", limit=50)
    next(pages)
    web_sandbox.faults.queue(*["unavailable"] * 10)  # page 2, fetched from paging.next, fails for good
    with pytest.raises(TransientError) as caught:
        list(pages)
    assert web_apis["instagram"].token not in str(caught.value)


# --- VK ------------------------------------------------------------------------------------------------


def test_vk_wall_pages_by_offset_to_the_end(vk, web_apis, web_sandbox):
    posts = list(vk.wall(web_apis["vk"].group_id))
    assert len(posts) == web_apis["vk"].posts == len({p["id"] for p in posts})
    assert len([p for _, p in web_sandbox.requests if "wall.get" in p]) == 3


def test_vk_invalid_token_is_not_retried(web_sandbox, web_apis):
    retry = fast_retry()
    client = VkClient("vk1.a.wrong-token", web_sandbox.url(web_apis["vk"]), requests_per_second=0, retry=retry)
    with pytest.raises(VkAuthError, match="VK_ACCESS_TOKEN") as caught:
        client.group(web_apis["vk"].group_id)
    assert retry.slept == [] and "vk1.a.wrong-token" not in str(caught.value)


def test_vk_rate_limit_inside_http_200_is_retried(vk, web_apis):
    web_apis["vk"].flood_next = 2
    assert vk.group(web_apis["vk"].group_id)["members_count"] == 18342
    assert vk.retry.slept == [1.0, 1.0]


@pytest.mark.parametrize("faults", [("server_error",), ("truncate", "html")])
def test_vk_transient_failures_are_retried(vk, web_sandbox, web_apis, faults):
    web_sandbox.faults.queue(*faults)
    assert vk.group(web_apis["vk"].group_id)["id"] == int(web_apis["vk"].group_id)


def test_vk_paces_its_own_calls(web_sandbox, web_apis):
    client = VkClient(web_apis["vk"].token, web_sandbox.url(web_apis["vk"]), requests_per_second=10)
    for _ in range(5):
        client.group(web_apis["vk"].group_id)
    gaps = [b - a for a, b in itertools.pairwise(web_apis["vk"].call_times)]
    assert min(gaps) >= 0.09


def test_vk_stats_cover_each_moscow_day(vk, web_apis):
    since = datetime(2025, 3, 14, tzinfo=timezone(timedelta(hours=3)))
    periods = vk.stats(web_apis["vk"].group_id, since, since + timedelta(days=3))
    assert len(periods) == 3
    assert {p["period_from"] for p in periods} == {int((since + timedelta(days=n)).timestamp()) for n in range(3)}


# --- Telegram ------------------------------------------------------------------------------------------


def test_telegram_snapshot_calls(telegram, web_apis):
    assert telegram.me()["is_bot"]
    assert telegram.chat(web_apis["telegram"].channel)["type"] == "channel"
    assert telegram.member_count(web_apis["telegram"].channel) == 5120


def test_telegram_bad_token_is_not_retried_and_path_is_redacted(web_sandbox, web_apis):
    retry = fast_retry()
    client = TelegramClient("987654321:WRONGwrongWRONGwrong", web_sandbox.url(web_apis["telegram"]), retry=retry)
    with pytest.raises(TelegramAuthError, match="BotFather") as caught:
        client.me()
    assert retry.slept == [] and "WRONGwrong" not in str(caught.value)


def test_telegram_429_honours_retry_after_and_502_page_is_transient(telegram, web_sandbox, web_apis):
    web_sandbox.faults.queue("rate_limit", "html")
    assert telegram.me()["username"] == "glame_stats_bot"
    assert telegram.retry.slept[0] == 2.0 and len(telegram.retry.slept) == 2


def test_telegram_updates_are_read_without_stealing_them(telegram, web_apis):
    api = web_apis["telegram"]
    first = telegram.updates()
    assert len(first) == 12 and api.confirmed_below == 0
    assert telegram.updates() == first  # still there for any other consumer
    telegram.updates(offset=first[-1]["update_id"] + 1)
    assert telegram.updates(offset=first[-1]["update_id"] + 1) == []


def test_telegram_conflict_is_updates_unavailable(telegram, web_apis):
    web_apis["telegram"].webhook_set = True
    with pytest.raises(UpdatesUnavailable, match="webhook"):
        telegram.updates()
