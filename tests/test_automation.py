"""The daily schedule's selection, the models-after-loads requests, and the failure alert."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest
from conftest import fast_retry  # noqa: F401 - shared helpers live there

from glame_pipelines.definitions import defs
from glame_pipelines.defs import alerts, automation, schedules

ONEC_ENV = {"ONEC_API_URL": "http://x/odata/standard.odata", "ONEC_API_TOKEN": "t"}
VK_ENV = {"VK_ACCESS_TOKEN": "t", "VK_GROUP_ID": "1"}


def groups_of(keys) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {graph.get(k).group_name for k in keys}


def test_daily_run_takes_yesterday_and_a_trailing_week_of_configured_sources_only():
    request = schedules.daily_run_request(date(2025, 6, 10), defs.resolve_asset_graph(), env={**ONEC_ENV, **VK_ENV})
    assert request.tags["dagster/asset_partition_range_start"] == "2025-06-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-06-09"
    assert groups_of(request.asset_selection) == {"onec", "vk"}
    assert (
        "yandex_metrika (set YANDEX_METRIKA_COUNTER_ID, YANDEX_METRIKA_OAUTH_TOKEN)"
        in request.tags["glame/skipped_sources"]
    )
    assert dg.AssetKey(["instagram", "stories"]) not in request.asset_selection


def test_daily_run_skips_when_nothing_is_configured():
    result = schedules.daily_run_request(date(2025, 6, 10), defs.resolve_asset_graph(), env={})
    assert isinstance(result, dg.SkipReason) and "ONEC_API_URL" in result.skip_message


def test_schedule_is_at_six_moscow():
    schedule = defs.resolve_schedule_def("daily_analytics_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "Europe/Moscow")


def test_models_after_a_partial_failure_leave_out_what_depends_on_the_failed_source():
    run = dg.DagsterRun(
        job_name="daily_analytics_job",
        run_id="r1",
        asset_selection=frozenset({dg.AssetKey(["onec", "sales"]), dg.AssetKey(["vk", "group_stats"])}),
        tags={"glame/window_start": "2025-06-03", "glame/window_end": "2025-06-09"},
    )
    request = automation.models_request(run, failed={dg.AssetKey(["onec", "sales"])}, graph=defs.resolve_asset_graph())
    names = {k.path[-1] for k in request.asset_selection}
    assert "stg_vk__group_stats" in names and "social_daily" in names
    assert not names & {"stg_onec__sales", "sales_daily", "unified_daily"}
    assert request.tags["glame/window_start"] == "2025-06-03"
    full = automation.models_request(run, failed=set(), graph=defs.resolve_asset_graph())
    assert {"sales_daily", "unified_daily", "social_daily"} <= {k.path[-1] for k in full.asset_selection}


def test_a_failed_optional_1c_set_leaves_out_only_what_reads_it():
    """A base without a bonus program: the failed bonus assets must not keep the sales marts from being built."""
    run = dg.DagsterRun(
        job_name="daily_analytics_job",
        run_id="r3",
        asset_selection=frozenset(
            {dg.AssetKey(["onec", name]) for name in ("sales", "bonus_points", "bonus_balances", "customers")}
        ),
    )
    failed = {dg.AssetKey(["onec", "bonus_points"]), dg.AssetKey(["onec", "bonus_balances"])}
    names = {
        k.path[-1]
        for k in automation.models_request(run, failed=failed, graph=defs.resolve_asset_graph()).asset_selection
    }
    assert {"stg_onec__sales", "sales_daily", "unified_daily", "customer_purchases", "stg_onec__customers"} <= names
    assert not names & {"stg_onec__bonus_points", "stg_onec__bonus_balances", "customer_profile"}


def test_a_counter_file_rebuilds_store_traffic_without_waiting_for_the_morning():
    run = dg.DagsterRun(
        job_name="ftp_counter_files_job",
        run_id="r2",
        asset_selection=frozenset({dg.AssetKey(["ftp_counters", "visits"])}),
    )
    names = {
        k.path[-1]
        for k in automation.models_request(run, failed=set(), graph=defs.resolve_asset_graph()).asset_selection
    }
    assert {"stg_ftp_counters__visits", "store_traffic_daily", "unified_daily"} <= names
    assert "customer_profile" not in names


def failure_context(job_name: str, reason: str) -> dg.RunFailureSensorContext:
    """A real failed run, and the context the failure sensor gets for it."""

    @dg.op
    def broken():
        raise dg.Failure(description=reason)

    job = dg.JobDefinition(graph_def=dg.GraphDefinition(name=job_name, node_defs=[broken]))
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    return dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()


def test_failed_run_alerts_on_telegram_when_a_chat_is_set(web_sandbox, web_apis, monkeypatch):
    telegram = web_apis["telegram"]
    sent = []
    original = type(telegram).handle

    def record(self, request):
        if request.path.endswith("/sendMessage"):
            import orjson

            sent.append(orjson.loads(request.body))
            from glame_pipelines.sandbox.server import Response

            return Response.json({"ok": True, "result": {"message_id": 1}})
        return original(self, request)

    monkeypatch.setattr(type(telegram), "handle", record)
    monkeypatch.setenv("TELEGRAM_ALERT_CHAT_ID", "-100777")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram.token)
    monkeypatch.setenv("TELEGRAM_API_URL", web_sandbox.url(telegram))

    context = failure_context("failing_job", "1C: 1C rejected the credentials (HTTP 401)")
    alerts.alert_on_run_failure(context)
    assert len(sent) == 1 and sent[0]["chat_id"] == "-100777"
    assert "failing_job failed" in sent[0]["text"] and "rejected the credentials" in sent[0]["text"]
    assert telegram.token not in sent[0]["text"]


def test_failed_run_is_logged_without_a_chat(monkeypatch):
    monkeypatch.delenv("TELEGRAM_ALERT_CHAT_ID", raising=False)
    monkeypatch.setattr(
        "glame_pipelines.clients.telegram.TelegramClient.call",
        lambda *args, **kwargs: pytest.fail("no chat is set: nothing may be sent"),
    )

    context = failure_context("failing_vk_job", "VK rejected the access token (code 5)")
    assert "failing_vk_job failed" in alerts.alert_text(context)
    alerts.alert_on_run_failure(context)


def test_a_backlog_of_files_does_not_queue_one_models_run_per_file():
    run = dg.DagsterRun(
        job_name="ftp_counter_files_job",
        run_id="r3",
        asset_selection=frozenset({dg.AssetKey(["ftp_counters", "visits"])}),
    )
    request = automation.models_request(run, failed=set(), graph=defs.resolve_asset_graph())
    everything = set(request.asset_selection) | {dg.AssetKey(["marts", "customer_profile"])}
    assert automation.covered_by_waiting_run(request, [set(request.asset_selection)])
    assert automation.covered_by_waiting_run(request, [everything])
    assert not automation.covered_by_waiting_run(request, [])
    narrow = {dg.AssetKey(["staging", "stg_ftp_counters__visits"])}
    assert not automation.covered_by_waiting_run(request, [narrow])
