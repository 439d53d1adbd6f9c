"""The 1C OData client against the sandbox: the real HTTP code, paging, literals, errors and fallbacks."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import fast_retry

from glame_pipelines.clients.http import TransientError
from glame_pipelines.clients.onec import (
    OnecAuthError,
    OnecBadRequest,
    OnecClient,
    OnecNotPublished,
    basic_token,
    datetime_literal,
    guid_literal,
    parse_onec_datetime,
    period_filter,
)
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, expected_sales

SALES = "AccumulationRegister_Продажи_RecordType"
DAY = date(2025, 3, 14)
NEXT = date(2025, 3, 15)


def keys(rows):
    return sorted((r["Recorder"], r["LineNumber"]) for r in rows)


def test_literals_are_typed_and_guids_are_validated():
    """1C rejects bare dates (`Period ge 2025-01-01T00:00:00`), the old integration's bug."""
    assert datetime_literal(date(2025, 1, 1)) == "datetime'2025-01-01T00:00:00'"
    assert period_filter("Period", DAY, NEXT) == (
        "Period ge datetime'2025-03-14T00:00:00' and Period lt datetime'2025-03-15T00:00:00'"
    )
    assert guid_literal("1FA1A135-D89B-11E6-8343-40167E2531C3") == "guid'1fa1a135-d89b-11e6-8343-40167e2531c3'"
    for bad in ("1' or 1 eq 1 or '", "", "not-a-guid", None):
        with pytest.raises(ValueError):
            guid_literal(bad)
    assert parse_onec_datetime("0001-01-01T00:00:00") is None
    assert parse_onec_datetime("2025-03-14T22:00:00") == datetime(2025, 3, 14, 22)


def test_cyrillic_login_is_utf8_before_base64():
    assert basic_token("Администратор", "пароль") == "0JDQtNC80LjQvdC40YHRgtGA0LDRgtC+0YA60L/QsNGA0L7Qu9GM"


def test_window_pages_to_the_end_and_matches_the_source(onec_client, world):
    rows = list(onec_client.iter_window(SALES, DAY, NEXT, orderby=("Recorder", "LineNumber")))
    expected = expected_sales(world, DAY, NEXT)
    assert len(rows) > onec_client.page_size  # more than one page was needed
    assert keys(rows) == keys(expected)
    assert sum(r["Сумма"] for r in rows) == pytest.approx(sum(r["Сумма"] for r in expected), abs=0.001)


def test_paging_stops_on_a_short_page_without_an_extra_request(onec_client, sandbox):
    rows = list(onec_client.iter_records("Catalog_Склады"))
    assert len(rows) == 4
    assert len([p for _, p in sandbox.requests if "Catalog_Склады" in p]) == 1


def test_more_than_a_thousand_rows_are_read(onec_client, world):
    """The old integration never sent a date filter and so only saw the newest 1,000 register rows."""
    start, end = date(2025, 1, 1), date(2025, 2, 1)
    rows = list(onec_client.iter_window(SALES, start, end, orderby=("Recorder", "LineNumber")))
    assert len(rows) > 1000
    assert keys(rows) == keys(expected_sales(world, start, end))


def test_wrong_password_fails_at_once_with_the_remedy(sandbox, onec_api):
    retry = fast_retry()
    client = OnecClient(sandbox.url(onec_api), basic_token(DEFAULT_LOGIN, "wrong"), retry=retry)
    with pytest.raises(OnecAuthError, match="ONEC_API_TOKEN") as caught:
        client.probe(SALES)
    assert retry.slept == []  # auth errors are never retried
    assert basic_token(DEFAULT_LOGIN, "wrong") not in str(caught.value)


def test_odata_error_envelope_becomes_a_clear_exception(onec_client):
    with pytest.raises(OnecBadRequest, match="сегмент пути 'Нет'") as caught:
        onec_client.get(SALES, {"$filter": "Нет eq 1"})
    assert caught.value.code == "6"


def test_unpublished_entity_set_says_how_to_publish(onec_client, onec_api):
    onec_api.quirks.unpublished.add("Catalog_Склады")
    with pytest.raises(OnecNotPublished, match="Настройка стандартного интерфейса OData"):
        onec_client.probe("Catalog_Склады")


def test_server_errors_are_retried_with_backoff(onec_client, sandbox):
    sandbox.faults.queue("server_error", "bad_gateway", "html")
    rows = list(onec_client.iter_records("Catalog_Склады"))
    assert len(rows) == 4
    assert len(onec_client.retry.slept) == 3


def test_persistent_server_error_gives_up_after_the_budget(onec_client, sandbox):
    sandbox.faults.queue(*["unavailable"] * 10)
    with pytest.raises(TransientError, match="HTTP 503"):
        onec_client.probe(SALES)
    assert len(onec_client.retry.slept) == onec_client.retry.max_attempts - 1


def test_timeout_is_retried(onec_client, sandbox):
    sandbox.faults.stall_seconds = 1.5
    sandbox.faults.queue("timeout")
    onec_client.timeout = 0.5
    assert len(list(onec_client.iter_records("Catalog_Склады"))) == 4
    assert len(onec_client.retry.slept) == 1


def test_dropped_connection_and_truncated_body_are_retried(onec_client, sandbox):
    sandbox.faults.queue("drop", "truncate")
    assert len(list(onec_client.iter_records("Catalog_Склады"))) == 4
    assert len(onec_client.retry.slept) == 2


def test_a_page_served_twice_is_fetched_again(onec_client, onec_api, world):
    onec_api.quirks.repeat_page_at_skip.add(50)
    rows = list(onec_client.iter_window(SALES, DAY, NEXT, orderby=("Recorder", "LineNumber")))
    assert keys(rows) == keys(expected_sales(world, DAY, NEXT))
    assert len(keys(rows)) == len(set(keys(rows)))


def test_rejected_period_filter_falls_back_to_exactly_that_day(onec_client, onec_api, world):
    onec_api.quirks.reject_filter_on.add(SALES)
    rows = list(onec_client.iter_window(SALES, DAY, NEXT, orderby=("Recorder", "LineNumber")))
    assert keys(rows) == keys(expected_sales(world, DAY, NEXT))
    plan = onec_client.query_plan(SALES)
    assert not plan.server_filter


def test_the_fallback_is_remembered_for_the_set(onec_client, onec_api, sandbox, world):
    onec_api.quirks.reject_filter_on.add(SALES)
    list(onec_client.iter_window(SALES, DAY, NEXT, orderby=("Recorder", "LineNumber")))
    sent_before = len(sandbox.requests)
    rows_next = list(onec_client.iter_window(SALES, NEXT, date(2025, 3, 16), orderby=("Recorder", "LineNumber")))
    assert keys(rows_next) == keys(expected_sales(world, NEXT, date(2025, 3, 16)))
    assert not any("$filter" in path for _, path in sandbox.requests[sent_before:])


def test_rejected_orderby_falls_back_to_unordered_paging(onec_client, onec_api, world):
    onec_api.quirks.reject_orderby_on.add(SALES)
    rows = list(onec_client.iter_window(SALES, DAY, NEXT, orderby=("Recorder", "LineNumber")))
    assert keys(rows) == keys(expected_sales(world, DAY, NEXT))
    plan = onec_client.query_plan(SALES)
    assert plan.server_filter and not plan.server_order


def test_filter_literals_reach_the_server_percent_encoded(onec_client, sandbox):
    list(onec_client.iter_window(SALES, DAY, NEXT))
    url = onec_client.url(SALES, {"$filter": period_filter("Period", DAY, NEXT)})
    assert "%D0%9F%D1%80%D0%BE%D0%B4%D0%B0%D0%B6%D0%B8" in url  # Продажи as UTF-8
    assert "Period%20ge%20datetime'2025-03-14T00:00:00'" in url
    assert "$format=json" in url


def test_catalog_read_survives_a_set_that_cannot_sort(onec_client, onec_api):
    onec_api.quirks.reject_orderby_on.add("Catalog_Контрагенты")
    assert len(list(onec_client.iter_all("Catalog_Контрагенты", orderby=["Ref_Key"]))) == 400
