"""Answers of an unexpected shape through the assets (issue 10, section 4): the sandbox APIs, with one
field of one answer changed, fail the asset with a dg.Failure naming the source and the field (no
stack trace, no token, the previous rows kept), or quarantine the one bad record and load the rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import dagster as dg
import orjson
import pytest
from conftest import ftp_resource, latest, web_resources

from glame_pipelines.clients.metrika import DEMOGRAPHIC_DIMENSIONS, DEMOGRAPHIC_METRICS, MetrikaUnexpectedResponse
from glame_pipelines.defs.ftp_counters.assets import counter_files, visits
from glame_pipelines.defs.instagram.assets import account_daily, media
from glame_pipelines.defs.onec.assets import register_assets
from glame_pipelines.defs.onec.resources import OnecResource
from glame_pipelines.defs.telegram.assets import channel_daily, channel_posts
from glame_pipelines.defs.vk.assets import group_stats, wall_posts
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.defs.yandex_metrika.assets import demographic_rows, demographics
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD
from glame_pipelines.sandbox.server import Api, Request, Response, SandboxServer
from glame_pipelines.settings import moscow_today

DAY = "2025-03-14"


SALES = register_assets[0]


class Mutating(Api):
    """A sandbox API whose JSON answers pass through `mutate(request, body)` when one is set."""

    def __init__(self, inner: Api):
        self.inner, self.prefix = inner, inner.prefix
        self.mutate: Callable[[Request, object], object] | None = None

    def __getattr__(self, name):  # token, counter_id, account_id… of the simulated API
        return getattr(self.inner, name)

    def handle(self, request: Request) -> Response:
        response = self.inner.handle(request)
        if self.mutate is None or response.status != 200 or not response.body.lstrip().startswith((b"{", b"[")):
            return response
        return Response(
            response.status, orjson.dumps(self.mutate(request, orjson.loads(response.body))), response.headers
        )

    def rate_limit_response(self) -> Response:
        return self.inner.rate_limit_response()

    def server_error_response(self, status: int) -> Response:
        return self.inner.server_error_response(status)


@pytest.fixture
def apis(web_apis):
    wrapped = {name: Mutating(api) for name, api in web_apis.items()}
    with SandboxServer(list(wrapped.values())) as server:
        wrapped["server"] = server
        yield wrapped


def resources_for(warehouse_url, apis) -> dict:
    return web_resources(warehouse_url, apis["server"], {k: v for k, v in apis.items() if k != "server"})


def materialize(assets, resources, **kwargs):
    return dg.materialize(
        assets, resources=resources, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, **kwargs
    )


def failure(result) -> str:
    """The run's one failure, which must be a dg.Failure with a description, not an error with a stack trace."""
    assert not result.success
    events = result.get_step_failure_events()
    assert len(events) == 1
    data = events[0].step_failure_data
    assert data.user_failure_data is not None, f"not a dg.Failure: {data.error.message if data.error else data}"
    description = data.user_failure_data.description
    for bare in ("KeyError", "IndexError", "TypeError", "AttributeError", "Traceback", "InvalidOperation"):
        assert bare not in description
    return description


def rejects(conn, source: str) -> list[tuple]:
    return conn.execute(
        "select record_no, reason from raw.load_rejects where source = %s order by 1", (source,)
    ).fetchall()


def table(conn, name: str) -> list[tuple]:
    return conn.execute(f"select * from raw.{name} order by 1, 2, 3").fetchall()


# --- Yandex.Metrika -------------------------------------------------------------------------------------


def without_gender(request: Request, body):
    """The issue's answer: a demographics row whose dimensions lack ym:s:gender."""
    if "ym:s:gender" in request.query.get("dimensions", "") and body["data"]:
        del body["data"][2]["dimensions"][1]
    return body


def test_a_metrika_row_without_gender_fails_demographics_by_name_and_keeps_the_day(warehouse_url, apis, conn):
    """Regression: `KeyError: 'ym:s:gender'` and a Dagster stack trace, from a row lacking a requested dimension."""
    resources = resources_for(warehouse_url, apis)
    assert materialize([demographics], resources, partition_key=DAY).success
    before = table(conn, "yandex_metrika_demographics")
    apis["metrika"].mutate = without_gender
    description = failure(materialize([demographics], resources, partition_key=DAY))
    assert description.startswith("Yandex.Metrika: Yandex.Metrika answered GET stat/v1/data")
    assert (
        "row 3 of 'data' has 2 'dimensions' where 3 were requested (ym:s:date, ym:s:gender, ym:s:ageInterval)"
        in description
    )
    assert apis["metrika"].token not in description
    assert table(conn, "yandex_metrika_demographics") == before


def test_the_row_function_raises_the_sources_error_not_a_key_error(apis):
    apis["metrika"].mutate = without_gender
    client = resources_for("postgresql://unused", apis)["yandex_metrika"].client()
    with pytest.raises(MetrikaUnexpectedResponse, match="ym:s:gender"):
        demographic_rows(client, apis["metrika"].counter_id, moscow_today() - timedelta(3))
    assert DEMOGRAPHIC_DIMENSIONS[1] == "ym:s:gender" and DEMOGRAPHIC_METRICS


def test_a_metrika_metric_of_another_type_fails_naming_it(warehouse_url, apis):
    def visits_as_object(request, body):
        body["data"][0]["metrics"][0] = {"value": 1}
        return body

    apis["metrika"].mutate = visits_as_object
    description = failure(materialize([demographics], resources_for(warehouse_url, apis), partition_key=DAY))
    assert "row 1 of 'data''s metric ym:s:visits is an object (1 items), not a number" in description


# --- Instagram -----------------------------------------------------------------------------------------


def test_instagram_total_value_null_fails_the_day_by_name(warehouse_url, apis):
    def reach_without_total(request, body):
        if request.path.endswith("/insights") and request.query.get("metric_type") == "total_value":
            body["data"][0]["total_value"] = None
        return body

    apis["instagram"].mutate = reach_without_total
    description = failure(materialize([account_daily], resources_for(warehouse_url, apis), partition_key=DAY))
    assert description.startswith("Instagram: Instagram answered GET ")
    assert "'total_value' is null, not an object" in description and apis["instagram"].token not in description


def test_an_instagram_media_without_timestamp_is_quarantined_and_the_rest_load(warehouse_url, apis, conn):
    def second_without_timestamp(request, body):
        if request.path.endswith("/media") and body.get("data") and "after" not in request.query:
            del body["data"][1]["timestamp"]
        return body

    resources = resources_for(warehouse_url, apis)
    apis["instagram"].mutate = second_without_timestamp
    assert materialize([media], resources).success
    assert rejects(conn, "instagram/media") == [(2, "MalformedRecord: the media has no 'timestamp'")]
    apis["instagram"].mutate = None
    loaded = conn.execute("select count(*) from raw.instagram_media").fetchone()[0]
    assert materialize([media], resources).success
    assert conn.execute("select count(*) from raw.instagram_media").fetchone()[0] == loaded + 1
    assert rejects(conn, "instagram/media") == []


# --- VK ------------------------------------------------------------------------------------------------


def test_vk_stats_counter_of_another_type_fails_by_name(warehouse_url, apis, conn):
    resources = resources_for(warehouse_url, apis)
    assert materialize([group_stats], resources, partition_key=DAY).success
    before = table(conn, "vk_group_stats")

    def views_as_list(request, body):
        if request.path == "stats.get":
            body["response"][0]["visitors"]["views"] = [1]
        return body

    apis["vk"].mutate = views_as_list
    description = failure(materialize([group_stats], resources, partition_key=DAY))
    assert description.startswith("VK: VK answered POST stats.get (group_id=")
    assert "period 1 of 'response''s 'visitors.views' is a list (1 items), not a number" in description
    assert "access_token" not in description and apis["vk"].token not in description
    assert table(conn, "vk_group_stats") == before


def test_a_vk_post_without_date_is_quarantined_and_the_rest_load(warehouse_url, apis, conn):
    def first_without_date(request, body):
        if request.path == "wall.get" and request.query.get("offset", "0") == "0":
            del body["response"]["items"][0]["date"]
        return body

    apis["vk"].mutate = first_without_date
    assert materialize([wall_posts], resources_for(warehouse_url, apis)).success
    assert rejects(conn, "vk/wall_posts") == [(1, "MalformedRecord: the post has no 'date'")]
    assert conn.execute("select count(*) from raw.vk_wall_posts").fetchone()[0] == apis["vk"].posts - 1


# --- Telegram ------------------------------------------------------------------------------------------


def test_telegram_chat_without_id_fails_by_name(warehouse_url, apis):
    def chat_without_id(request, body):
        if request.path.endswith("/getChat"):
            del body["result"]["id"]
        return body

    apis["telegram"].mutate = chat_without_id
    description = failure(materialize([channel_daily], resources_for(warehouse_url, apis), partition_key=latest()))
    assert description.startswith("Telegram: Telegram answered POST getChat")
    assert "the chat has no 'id'" in description and apis["telegram"].token.split(":")[-1] not in description


def test_a_telegram_post_with_text_for_a_date_is_quarantined(warehouse_url, apis, conn):
    def third_dated_in_words(request, body):
        if request.path.endswith("/getUpdates"):
            body["result"][2]["channel_post"]["date"] = "yesterday"
        return body

    apis["telegram"].mutate = third_dated_in_words
    assert materialize([channel_posts], resources_for(warehouse_url, apis)).success
    assert rejects(conn, "telegram/channel_posts") == [
        (3, "MalformedRecord: the post's 'date' is str 'yesterday', not a number")
    ]
    assert conn.execute("select count(*) from raw.telegram_channel_posts").fetchone()[0] == 11


# --- 1C ------------------------------------------------------------------------------------------------


@pytest.fixture
def onec_mutating(onec_api):
    wrapped = Mutating(onec_api)
    with SandboxServer([wrapped]) as server:
        wrapped.resources = lambda url: {
            "onec": OnecResource(
                api_url=server.url(wrapped), username=DEFAULT_LOGIN, password=DEFAULT_PASSWORD, page_size=200
            ),
            "warehouse": WarehouseResource(url=url),
        }
        yield wrapped


def test_a_1c_record_without_its_amount_is_quarantined_never_read_as_zero(warehouse_url, onec_mutating, conn):
    full = materialize([SALES], onec_mutating.resources(warehouse_url), partition_key=DAY)
    assert full.success
    count, total = conn.execute("select count(*), sum(amount) from raw.onec_sales").fetchone()

    def first_without_amount(request, body):
        if "Продажи_RecordType" in request.path and request.query.get("$skip") == "0" and body.get("value"):
            missing = body["value"][0].pop("Сумма")
            first_without_amount.missing = missing
        return body

    onec_mutating.mutate = first_without_amount
    assert materialize([SALES], onec_mutating.resources(warehouse_url), partition_key=DAY).success
    assert rejects(conn, "onec/sales") == [(1, "MalformedRecord: the record has no 'Сумма'")]
    after_count, after_total = conn.execute("select count(*), sum(amount) from raw.onec_sales").fetchone()
    assert (after_count, after_total) == (count - 1, total - Decimal(str(first_without_amount.missing)))


def test_a_1c_page_without_its_value_list_fails_by_name(warehouse_url, onec_mutating, conn):
    onec_mutating.mutate = lambda request, body: {**body, "value": {"records": body.get("value")}}
    description = failure(materialize([SALES], onec_mutating.resources(warehouse_url), partition_key=DAY))
    assert description.startswith("1C: 1C answered GET http://127.0.0.1:")
    assert "'value' is an object (1 items), not a list" in description and DEFAULT_PASSWORD not in description


# --- FTP counter files ---------------------------------------------------------------------------------


def ftp_materialize(server, warehouse_url, paths):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(counter_files.name, paths)
    resources = {"ftp_counters": ftp_resource(server), "warehouse": WarehouseResource(url=warehouse_url)}
    tags = {"dagster/asset_partition_range_start": paths[0], "dagster/asset_partition_range_end": paths[-1]}
    return dg.materialize([visits], resources=resources, instance=instance, tags=tags, raise_on_error=False)


VIVOTEK = {
    "Source": {"ModelName": "SC8131"},
    "Data": [
        {
            "CountingInfo": [
                {
                    "RuleName": "Entrance",
                    "In": 5,
                    "Out": 4,
                    "StartTime": "2025-12-01T07:00:00Z",
                    "EndTime": "2025-12-01T08:00:00Z",
                },
                {
                    "RuleName": "Entrance",
                    "Out": 2,
                    "StartTime": "2025-12-01T08:00:00Z",
                    "EndTime": "2025-12-01T09:00:00Z",
                },
                {
                    "RuleName": "Entrance",
                    "In": 7,
                    "Out": 6,
                    "StartTime": "2025-12-01T09:00:00Z",
                    "EndTime": "2025-12-01T10:00:00Z",
                },
            ]
        },
        None,
    ],
}


def test_counter_json_with_a_bad_entry_and_a_bad_block_loads_the_rest(ftp_sandbox, warehouse_url, conn):
    target = ftp_sandbox.root / "CENTRUM" / "251201.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(orjson.dumps(VIVOTEK))
    assert ftp_materialize(ftp_sandbox, warehouse_url, ["CENTRUM/251201.json"]).success
    assert conn.execute("select sum(entries), count(*) from raw.ftp_counter_visits").fetchone() == (12, 2)
    assert conn.execute("select line_no, reason from raw.ftp_counter_rejects order by 1").fetchall() == [
        (2, "KeyError: 'In'"),
        (4, "Data block 2 has no CountingInfo list"),
    ]


def test_a_truncated_counter_file_fails_naming_it(ftp_sandbox, warehouse_url, conn):
    target = ftp_sandbox.root / "CENTRUM" / "251202.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(orjson.dumps(VIVOTEK)[:120])
    description = failure(ftp_materialize(ftp_sandbox, warehouse_url, ["CENTRUM/251202.json"]))
    assert description.startswith("FTP counters: CENTRUM/251202.json rejected: malformed JSON")
    assert conn.execute("select status from raw.ftp_counter_files").fetchall() == [("rejected",)]
