"""The morning digest on a fixed dataset (tests/digest_fixture.py) built into the marts by a real `dbt
build` once for the module, sent through the sandbox Telegram Bot API."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from digest_fixture import DROP, NORMAL, STALE, load_fixture
from test_marts import dbt

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.telegram import TelegramClient, TelegramError
from glame_pipelines.definitions import defs
from glame_pipelines.defs.digest.assets import (
    DAY_TAG,
    DIGEST_KEY,
    MARTS,
    anomaly_checks,
    daily_run_groups,
    digest_job,
    digest_request,
    morning_digest,
)
from glame_pipelines.defs.digest.resources import DigestChatResource
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.digest.baseline import Metric, Thresholds, baseline, judge
from glame_pipelines.digest.delivery import deliver, sent_log
from glame_pipelines.digest.figures import read_figures
from glame_pipelines.digest.report import build_digest
from glame_pipelines.digest.text import change, number, percent, plain, rub, split_message, units
from glame_pipelines.sandbox.server import SandboxServer
from glame_pipelines.sandbox.web import TelegramApi, parse_html_entities
from glame_pipelines.settings import RANGE_END
from glame_pipelines.warehouse.connection import with_database

GOLDEN = Path(__file__).parent / "golden" / "digest_2025-12-02.html"
CHAT = "-1009876543210"
CENTRUM_REVENUE = "revenue:b5b075c2-a355-5256-83ea-c38497c7bca8:offline"


@pytest.fixture(scope="module")
def marts_url(pg_server_url, tmp_path_factory):
    name = f"glame_digest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = with_database(pg_server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        load_fixture(conn)
    selection = [f"+{mart}" for mart in (*MARTS, "unified_daily")]  # unified_daily: a test of sales_daily reads it
    build = dbt(url, "build", "--select", *selection, target=tmp_path_factory.mktemp("dbt-target"))
    assert build.returncode == 0, build.stdout[-4000:]
    yield url
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def conn(marts_url):
    """The module's marts, with an empty record of sent messages for each test."""
    with psycopg.connect(marts_url, autocommit=True) as connection:
        connection.execute("drop schema if exists ops cascade")
        yield connection


@pytest.fixture
def telegram():
    api = TelegramApi(seed=3)
    with SandboxServer([api]) as server:
        client = TelegramClient(api.token, server.url(api), retry=RetryPolicy(max_attempts=1), timeout=5)
        yield api, client, server


def raise_rollback():
    raise psycopg.Rollback()


def digest_of(conn, day: date, **kwargs):
    return build_digest(read_figures(conn, day), thresholds=Thresholds(), **kwargs)


def test_russian_formatting():
    assert rub(1234567) == "1 234 567 ₽" and number(-1500) == "−1 500"
    assert change(112, 100) == "+12 %" and change(95, 100) == "−5 %" and change(100, 100) == "0 %"
    assert change(5, None) == "—" and change(5, 0) == "—"
    assert percent(0.0735) == "7,4 %"


def test_normal_day_is_the_golden_message_and_raises_no_alert(conn):
    """The exact text of an ordinary day: any change to wording, figures or formatting shows here."""
    digest = digest_of(conn, NORMAL)
    assert digest.html + "\n" == GOLDEN.read_text(encoding="utf-8")
    assert digest.complete and digest.anomalies == [] and digest.alerts == []


def test_normal_day_is_sent_once_and_a_rerun_sends_nothing_more(conn, telegram):
    api, client, _ = telegram
    digest = digest_of(conn, NORMAL)
    sent = deliver(conn, client, CHAT, digest)
    assert [(s.kind, s.key) for s in sent] == [("digest", "")]
    assert [m["html"] for m in api.sent] == [digest.html] and api.sent[0]["chat_id"] == CHAT
    assert api.sent[0]["text"] == plain(digest.html)  # what the chat shows: the HTML parsed by the Bot API
    assert deliver(conn, client, CHAT, digest_of(conn, NORMAL)) == []  # the day re-run
    assert len(api.sent) == 1
    again = deliver(conn, client, CHAT, digest, force=True)  # `glame digest --date D --send`
    assert [s.kind for s in again] == ["digest"] and len(api.sent) == 2
    assert [row[:2] for row in sent_log(conn, NORMAL)] == [("digest", "")]


def test_revenue_drop_in_one_store_is_flagged_and_alerted_once(conn, telegram):
    """CENTRUM sold 40 % of its usual Wednesday: flagged in the digest, and sent at once as an alert."""
    api, client, _ = telegram
    digest = digest_of(conn, DROP)
    assert [(a.metric.key, a.severe) for a in digest.anomalies] == [(CENTRUM_REVENUE, True)]
    assert "🔴 Выручка: GLAME &lt;ТЦ&gt; &quot;Центрум&quot; &amp; Co (магазин): 66 500 ₽ при обычных" in digest.html
    sent = deliver(conn, client, CHAT, digest)
    assert [(s.kind, s.key) for s in sent] == [("alert", CENTRUM_REVENUE), ("digest", "")]
    assert api.sent[0]["text"].startswith('🚨 GLAME · 03.12\n🔴 Выручка: GLAME <ТЦ> "Центрум" & Co (магазин): 66 500 ₽')
    assert deliver(conn, client, CHAT, digest_of(conn, DROP)) == []
    assert deliver(conn, client, CHAT, digest, force=True)[0].kind == "digest"  # forcing resends the digest only
    assert sum(m["text"].startswith("🚨") for m in api.sent) == 1


def test_a_source_that_failed_is_named_and_its_numbers_absent(conn):
    """VK failed in the daily run: its data in the marts may be older or partial, so none is shown."""
    digest = digest_of(conn, NORMAL, failed={"vk"})
    assert "• ВКонтакте: загрузка за 02.12 не удалась, цифры не показаны" in digest.html
    assert "ВКонтакте: нет данных за день (см. выше)" in digest.html
    assert "1 565" not in digest.html and "5 285" not in digest.html  # VK's reach and members that day
    assert "Не проверялись (данные неполные): ВКонтакте." in digest.html
    assert not digest.complete and "Instagram: охват 3 509" in digest.html


def test_a_stale_source_is_named_never_zero_and_raises_no_alert(conn, telegram):
    """Metrika has no rows for Thursday: not "0 visits" (which would be a severe alert), but a named gap."""
    _, client, _ = telegram
    digest = digest_of(conn, STALE)
    assert "• Яндекс Метрика: нет данных за 04.12 (последние — за 03.12), цифры не показаны" in digest.html
    assert "Визиты:" not in digest.html and "Главный источник" not in digest.html
    assert digest.alerts == [] and not digest.complete
    assert [s.kind for s in deliver(conn, client, CHAT, digest)] == ["digest"]
    loaded = digest_of(conn, STALE, loaded={"yandex_metrika"})  # Dagster says Metrika loaded the day: a true zero
    assert [(a.metric.key, a.severe) for a in loaded.anomalies] == [("web_visits", True)]


def test_a_store_without_its_counter_file_is_named_and_not_judged(conn):
    with conn.transaction():  # the file of YALTA never arrived; rolled back after
        conn.execute(
            "update marts.store_traffic_daily set visitors = null, has_counter_data = false "
            "where visit_date = %s and counter_folder = 'YALTA'",
            (NORMAL,),
        )
        digest = digest_of(conn, NORMAL)
        raise_rollback()
    assert "• GLAME Ялта Набережная: нет файла счётчика за 02.12, посетители не показаны" in digest.html
    assert "GLAME Ялта Набережная: нет файла счётчика" in digest.html and "посетители 262" not in digest.html
    assert not any(a.metric.key == "visitors:YALTA" for a in digest.anomalies)


def test_stores_that_sold_but_counted_nobody_are_one_severe_alert(conn, telegram):
    """Two counters at zero while their stores sold: both in one alert message, each metric once a day."""
    api, client, _ = telegram
    with conn.transaction():
        conn.execute(
            "update marts.store_traffic_daily set visitors = 0 where visit_date = %s "
            "and counter_folder in ('SEVASTOPOL', 'YALTA')",
            (NORMAL,),
        )
        digest = digest_of(conn, NORMAL)
        sent = deliver(conn, client, CHAT, digest)
        again = deliver(conn, client, CHAT, digest_of(conn, NORMAL))
        raise_rollback()
    assert [a.metric.key for a in digest.anomalies] == ["visitors:SEVASTOPOL", "visitors:YALTA"]
    assert [(s.kind, s.keys) for s in sent] == [("alert", ["visitors:SEVASTOPOL", "visitors:YALTA"]), ("digest", [""])]
    assert again == [] and len(api.sent) == 2
    assert api.sent[0]["text"].splitlines() == [
        "🚨 GLAME · 02.12",
        "🔴 Посетители: GLAME Севастополь Молл: 0 — продажи на 80 158 ₽, а счётчик насчитал 0 посетителей",
        "🔴 Посетители: GLAME Ялта Набережная: 0 — продажи на 106 148 ₽, а счётчик насчитал 0 посетителей",
    ]


def test_baseline_is_robust_to_one_outlier_week():
    """A holiday week (×5) moves neither the median nor the MAD: the ordinary day is not an anomaly."""
    history = (100, 104, 97, 500, 101, 99, 103, 98)
    assert baseline(list(history)).expected == 100.5
    assert judge(Metric("m", "m", "onec", 106, history), Thresholds()) is None
    assert judge(Metric("m", "m", "onec", 40, history, kind="revenue"), Thresholds()).severe
    assert judge(Metric("m", "m", "onec", 40, history[:3], kind="revenue"), Thresholds()) is None  # too few weeks
    strict = Thresholds.from_env({"GLAME_ANOMALY_MIN_CHANGE": "0.05", "GLAME_ANOMALY_Z": "1"})
    assert judge(Metric("m", "m", "onec", 110, history), strict) is not None


def long_message() -> str:
    lines = ["<b>GLAME · длинный день</b>"]
    for n in range(160):
        link = f'<a href="https://glame.ru/s?n={n}&amp;x=1">ссылка</a>'
        lines.append(f"Магазин <b>№{n}</b> &amp; <i>партнёры</i>: посетители {n} — {link}")
    return "\n".join(lines)


def test_a_long_message_is_split_between_lines_never_mid_tag(conn, telegram):
    api, client, _ = telegram
    message = long_message()
    assert len(message) > 3 * 4096
    parts = split_message(message)
    assert len(parts) == 5 and all(units(part) <= 4096 for part in parts)
    assert "\n".join(parts) == message  # nothing lost, nothing cut inside a line
    for part in parts:
        parse_html_entities(part)  # balanced tags, whole entities
    digest = digest_of(conn, NORMAL)
    digest.html = message
    sent = deliver(conn, client, CHAT, digest)
    assert len(sent[0].message_ids) == 5 and [m["html"] for m in api.sent] == parts


def test_a_single_line_longer_than_a_message_is_shortened_to_plain_text():
    line = "<b>" + "Очень &amp; длинно " * 400 + "</b>"
    (part,) = split_message(line)
    assert units(part) <= 4096 and part.endswith("…") and "<b>" not in part
    assert parse_html_entities(part).startswith("Очень & длинно")


def test_sandbox_telegram_follows_the_bot_api_on_bad_html_and_length(telegram):
    _, client, _ = telegram
    with pytest.raises(TelegramError, match='can\'t parse entities: Unsupported start tag "glame"'):
        client.send_message(CHAT, "Выручка <glame> & co")
    with pytest.raises(TelegramError, match='Can\'t find end tag corresponding to start tag "b"'):
        client.send_message(CHAT, "<b>не закрыт")
    with pytest.raises(TelegramError, match="message is too long"):
        client.send_message(CHAT, "я" * 4097)
    with pytest.raises(TelegramError, match="message is too long"):  # 🚨 is two UTF-16 units, as Telegram counts
        client.send_message(CHAT, "🚨" * 2049)
    emoji_lines = "\n".join(["🔴" * 20] * 300)  # 6,299 characters but 12,299 units
    assert [len(client.send_message(CHAT, part)["text"]) for part in split_message(emoji_lines)] == [
        2078,
        2078,
        2078,
        62,
    ]
    with pytest.raises(TelegramError, match="chat not found"):
        client.send_message("-100111", "привет")
    assert client.send_message(CHAT, "&lt;ok&gt; <b>жирный</b>")["text"] == "<ok> жирный"


def test_asset_sends_once_with_the_text_as_metadata_and_checks_warn(marts_url, conn, telegram):
    api, _, server = telegram
    resources = {
        "warehouse": WarehouseResource(url=marts_url),
        "digest_chat": DigestChatResource(bot_token=api.token, chat_id=CHAT, base_url=server.url(api)),
    }
    marts = [dg.AssetSpec(key) for key in morning_digest.dependency_keys]
    defs = dg.Definitions(
        assets=[morning_digest, *marts], asset_checks=anomaly_checks, jobs=[digest_job], resources=resources
    )
    job = defs.resolve_job_def("digest_job")
    first = job.execute_in_process(tags={DAY_TAG: DROP.isoformat()})
    metadata = first.asset_materializations_for_node(morning_digest.op.name)[0].metadata
    assert metadata["sent"].value is True and metadata["alerts_sent"].value == [CENTRUM_REVENUE]
    assert metadata["html"].value == digest_of(conn, DROP).html and "66 500 ₽" in metadata["text"].value
    checks = {e.asset_key.path[-1]: e for e in first.get_asset_check_evaluations()}
    assert not checks["sales_daily"].passed and checks["sales_daily"].severity == dg.AssetCheckSeverity.WARN
    assert checks["store_traffic_daily"].passed and checks["web_traffic_daily"].passed
    again = job.execute_in_process(tags={DAY_TAG: DROP.isoformat()})  # re-executing the day
    metadata = again.asset_materializations_for_node(morning_digest.op.name)[0].metadata
    assert metadata["sent"].value is False and metadata["alerts_sent"].value == [] and len(api.sent) == 2
    assert DIGEST_KEY.path == ["digest", "morning"]


def _run(instance, name: str, tags: dict, step: str = "ok", fail: bool = False) -> str:
    @dg.op(name=step)
    def body():
        if fail:
            raise dg.Failure(description="the source failed")

    job = dg.JobDefinition(graph_def=dg.GraphDefinition(name=name, node_defs=[body]))
    return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False).run_id


def test_sensor_waits_for_the_daily_run_and_its_models_and_fires_once_a_day():
    instance = dg.DagsterInstance.ephemeral()
    today = date(2025, 12, 3)
    day = {RANGE_END: "2025-12-02"}
    assert isinstance(digest_request(instance, today), dg.SkipReason)
    _run(instance, "models_job", {})  # a counter file's models, before the daily run: not the trigger
    daily = _run(
        instance,
        "daily_analytics_job",
        {**day, "dagster/schedule_name": "daily_analytics_schedule"},
        step="vk__group_stats",
        fail=True,
    )
    assert "waiting for the models" in digest_request(instance, today).skip_message
    instance.add_run(models_run("sales_daily"))  # the automation's run after the daily run
    request = digest_request(instance, today)
    assert request.run_key == "digest-2025-12-02"  # Dagster launches one run per run key: once a day
    assert request.tags == {DAY_TAG: "2025-12-02", "glame/daily_run": daily}
    graph = defs.resolve_asset_graph
    assert daily_run_groups(instance, daily, graph) == ({"vk"}, set())
    # A base without a bonus program: its failed bonus asset feeds no figure of the digest, 1C is not "failed".
    bonus = _run(instance, "daily_analytics_job", day, step="onec__bonus_points", fail=True)
    assert daily_run_groups(instance, bonus, graph) == (set(), set())


def test_glame_digest_prints_and_sends_when_asked(marts_url, conn, telegram, tmp_path):
    """`glame digest --date D` prints the readable text (links kept); `--send` posts it, even again."""
    from test_cli import _sqlalchemy, glame

    api, _, server = telegram
    env = {"GLAME_WAREHOUSE_URL": marts_url, "GLAME_DAGSTER_PG_URL": _sqlalchemy(marts_url)}
    printed = glame("digest", "--date", DROP.isoformat(), env=env, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert 'GLAME <ТЦ> "Центрум" & Co (магазин): 66 500 ₽' in printed.stdout
    assert "открыть (https://www.instagram.com/p/GL058/)" in printed.stdout and api.sent == []
    env.update({"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_DIGEST_CHAT_ID": CHAT, "TELEGRAM_API_URL": server.url(api)})
    first = glame("digest", "--date", DROP.isoformat(), "--send", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    again = glame("digest", "--date", DROP.isoformat(), "--send", env=env, cwd=tmp_path)
    assert [m["text"].split()[0] for m in api.sent] == ["🚨", "GLAME", "GLAME"]  # the alert once, the digest as asked
    assert api.token not in first.stdout + first.stderr + again.stdout + again.stderr


def test_digest_is_registered_downstream_of_the_marts():
    from glame_pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assert {k.path[-1] for k in graph.get(DIGEST_KEY).parent_keys} == set(MARTS)
    assert defs.resolve_job_def("digest_job").name == "digest_job"
    assert "digest_after_daily_models" in {s.name for s in defs.sensors}
    assert {c.asset_key.path[-1] for c in graph.asset_check_keys if c.name == "no_weekday_anomaly"} == {
        "sales_daily",
        "store_traffic_daily",
        "web_traffic_daily",
        "social_daily",
    }


def test_sensor_follows_a_daily_run_that_built_its_models_itself():
    """The daily run holds the models its loads feed: when it built sales_daily, no later run is waited for."""
    instance = dg.DagsterInstance.ephemeral()

    @dg.op(name="glame_dbt_models")
    def models():
        yield dg.AssetMaterialization(asset_key=dg.AssetKey(["marts", "sales_daily"]))
        yield dg.Output(None)

    job = dg.JobDefinition(graph_def=dg.GraphDefinition(name="daily_analytics_job", node_defs=[models]))
    schedule = {"dagster/schedule_name": "daily_analytics_schedule", RANGE_END: "2025-12-02"}
    assert job.execute_in_process(instance=instance, tags=schedule).success
    assert digest_request(instance, date(2025, 12, 3)).run_key == "digest-2025-12-02"


def models_run(mart: str) -> dg.DagsterRun:
    return dg.DagsterRun(
        job_name="models_job",
        run_id=uuid.uuid4().hex,
        status=dg.DagsterRunStatus.SUCCESS,
        asset_selection=frozenset({dg.AssetKey(["marts", mart])}),
    )


def test_sensor_accepts_a_models_run_the_daily_request_was_folded_into():
    """A models run started after the daily run and building sales_daily (the automation's, whichever job
    it ran in) is the one the digest follows."""
    instance = dg.DagsterInstance.ephemeral()
    schedule = {"dagster/schedule_name": "daily_analytics_schedule"}
    _run(instance, "daily_analytics_job", {RANGE_END: "2025-12-02", **schedule})
    instance.add_run(models_run("store_traffic_daily"))
    assert isinstance(digest_request(instance, date(2025, 12, 3)), dg.SkipReason)  # a counter file's models only
    instance.add_run(models_run("sales_daily"))
    assert digest_request(instance, date(2025, 12, 3)).run_key == "digest-2025-12-02"
