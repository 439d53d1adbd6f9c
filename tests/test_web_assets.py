"""Web and social assets through Dagster into Postgres: idempotent days, one snapshot row per day."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest
from conftest import latest, replaced, web_resources

from glame_pipelines.defs.instagram.assets import account_daily, media, media_insights, stories
from glame_pipelines.defs.telegram.assets import channel_daily, channel_posts
from glame_pipelines.defs.vk.assets import group_daily, group_stats, wall_posts
from glame_pipelines.defs.yandex_metrika.assets import demographics, traffic

DAY = "2025-03-14"


ALL_PARTITIONED = [traffic, demographics, account_daily, media_insights, group_stats, group_daily, channel_daily]
UNPARTITIONED = [media, stories, wall_posts, channel_posts]
TABLES = [
    "yandex_metrika_traffic",
    "yandex_metrika_demographics",
    "instagram_account_daily",
    "instagram_media",
    "instagram_media_insights",
    "instagram_stories",
    "vk_group_stats",
    "vk_group_daily",
    "vk_wall_posts",
    "telegram_channel_daily",
    "telegram_channel_posts",
]


def materialize(assets, resources, **kwargs):
    return dg.materialize(assets, resources=resources, instance=dg.DagsterInstance.ephemeral(), **kwargs)


def snapshot(conn) -> dict[str, list]:
    return {t: conn.execute(f"select * from raw.{t} order by 1, 2").fetchall() for t in TABLES}


def test_every_web_source_loads_and_a_rerun_changes_nothing(warehouse_url, web_sandbox, web_apis, conn):
    resources = web_resources(warehouse_url, web_sandbox, web_apis)
    assert materialize(ALL_PARTITIONED, resources, partition_key=latest()).success
    assert materialize(UNPARTITIONED, resources).success
    first = snapshot(conn)
    assert all(first[t] for t in TABLES), [t for t in TABLES if not first[t]]
    assert materialize(ALL_PARTITIONED, resources, partition_key=latest()).success
    assert materialize(UNPARTITIONED, resources).success
    assert snapshot(conn) == first


def test_snapshots_are_one_row_per_account_per_day(warehouse_url, web_sandbox, web_apis, conn):
    """The old system appended a row on every sync and counted rows; a re-run must replace the day."""
    resources = web_resources(warehouse_url, web_sandbox, web_apis)
    for _ in range(3):
        materialize([group_daily, channel_daily, account_daily], resources, partition_key=latest())
    for table in ("vk_group_daily", "telegram_channel_daily", "instagram_account_daily"):
        assert conn.execute(f"select count(*), count(distinct date) from raw.{table}").fetchone() == (1, 1)
    assert conn.execute("select followers_count from raw.instagram_account_daily").fetchone()[0] == 24817


def test_old_days_keep_their_snapshot_and_get_their_insights(warehouse_url, web_sandbox, web_apis, conn):
    resources = web_resources(warehouse_url, web_sandbox, web_apis)
    assert materialize([account_daily, group_daily], resources, partition_key=DAY).success
    row = conn.execute(
        "select followers_count, reach from raw.instagram_account_daily where date = %s", (DAY,)
    ).fetchone()
    assert row[0] is None and row[1] == web_apis["instagram"].account_day(date(2025, 3, 14))["reach"]
    assert conn.execute("select to_regclass('raw.vk_group_daily')").fetchone()[0] is None


def test_metrika_day_matches_the_counter_and_repulls_the_days_before(warehouse_url, web_sandbox, web_apis, conn):
    resources = web_resources(warehouse_url, web_sandbox, web_apis)
    assert materialize([traffic], resources, partition_key=DAY).success
    days = [d for (d,) in conn.execute("select distinct date from raw.yandex_metrika_traffic order by 1")]
    assert days == [date(2025, 3, 12), date(2025, 3, 13), date(2025, 3, 14)]
    visits = conn.execute("select sum(visits) from raw.yandex_metrika_traffic where date = %s", (DAY,)).fetchone()[0]
    api = web_apis["metrika"]
    from glame_pipelines.sandbox.web import TRAFFIC_SOURCES

    assert visits == sum(api.visits(date(2025, 3, 14), s)["ym:s:visits"] for s in TRAFFIC_SOURCES)


def test_metrika_counter_without_ecommerce_still_loads(warehouse_url, web_sandbox, web_apis, conn):
    web_apis["metrika"].ecommerce = False
    assert materialize([traffic], web_resources(warehouse_url, web_sandbox, web_apis), partition_key=DAY).success
    assert conn.execute("select count(*), count(ecommerce_revenue) from raw.yandex_metrika_traffic").fetchone()[1] == 0


def test_metrika_row_with_nulls_loads_as_not_set_with_null_metrics(warehouse_url, web_sandbox, web_apis, conn):
    """Metrika answers visits it cannot attribute with a null dimension and null metrics: the row loads
    (source "(not set)", nulls kept as nulls, not zeros) and the day's visits stay whole."""
    api = web_apis["metrika"]
    api.rows_with_nulls.add(date(2025, 3, 14))
    resources = web_resources(warehouse_url, web_sandbox, web_apis)
    assert materialize([traffic], resources, partition_key=DAY).success
    row = conn.execute(
        "select visits, users, pageviews, bounce_rate, page_depth, avg_visit_duration_seconds "
        "from raw.yandex_metrika_traffic where date = %s and traffic_source = '(not set)'",
        (DAY,),
    ).fetchall()
    assert row == [(3, 3, None, None, None, None)]
    from glame_pipelines.sandbox.web import TRAFFIC_SOURCES

    visits = conn.execute("select sum(visits) from raw.yandex_metrika_traffic where date = %s", (DAY,)).fetchone()[0]
    assert visits == 3 + sum(api.visits(date(2025, 3, 14), s)["ym:s:visits"] for s in TRAFFIC_SOURCES)
    table = "select * from raw.yandex_metrika_traffic order by date, traffic_source"
    before = conn.execute(table).fetchall()
    assert materialize([traffic], resources, partition_key=DAY).success
    assert conn.execute(table).fetchall() == before


def test_vk_post_without_views_is_loaded_with_null_views(warehouse_url, web_sandbox, web_apis, conn):
    assert materialize([wall_posts], web_resources(warehouse_url, web_sandbox, web_apis)).success
    total, with_views = conn.execute("select count(*), count(views) from raw.vk_wall_posts").fetchone()
    assert total == web_apis["vk"].posts and 0 < with_views < total


def test_telegram_409_reports_updates_unavailable_without_failing(warehouse_url, web_sandbox, web_apis):
    web_apis["telegram"].webhook_set = True
    result = materialize([channel_posts], web_resources(warehouse_url, web_sandbox, web_apis))
    assert result.success
    metadata = result.asset_materializations_for_node("telegram__channel_posts")[0].metadata
    assert metadata["updates"].value == "unavailable"


def test_telegram_confirms_updates_only_when_told(warehouse_url, web_sandbox, web_apis, conn):
    resources = web_resources(warehouse_url, web_sandbox, web_apis)
    materialize([channel_posts], resources)
    assert web_apis["telegram"].confirmed_below == 0
    resources["telegram"] = replaced(resources["telegram"], consume_updates="true")
    materialize([channel_posts], resources)  # reads, and stores the offset
    materialize([channel_posts], resources)  # confirms with the stored offset
    assert web_apis["telegram"].confirmed_below == 500_012
    assert conn.execute("select count(*) from raw.telegram_channel_posts").fetchone()[0] == 12


@pytest.mark.parametrize(
    "source, asset",
    [("instagram", account_daily), ("vk", group_stats), ("yandex_metrika", traffic), ("telegram", channel_daily)],
)
def test_expired_credentials_fail_clearly_and_keep_the_table(warehouse_url, web_sandbox, web_apis, conn, source, asset):
    resources = web_resources(warehouse_url, web_sandbox, web_apis)
    assert materialize([asset], resources, partition_key=latest()).success
    table = asset.key.path[0] + "_" + asset.key.path[1]
    before = conn.execute(f"select * from raw.{table}").fetchall()
    field = {
        "instagram": "access_token",
        "vk": "access_token",
        "yandex_metrika": "oauth_token",
        "telegram": "bot_token",
    }[source]
    resources[source] = replaced(resources[source], **{field: "123:revoked-token-value"})
    result = materialize([asset], resources, partition_key=latest(), raise_on_error=False)
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "revoked-token-value" not in message and ("token" in message.lower())
    assert conn.execute(f"select * from raw.{table}").fetchall() == before
