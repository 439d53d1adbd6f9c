"""The daily schedule's selection, the models following loads by their automation conditions, and the
failure alert."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest
from conftest import fast_retry  # noqa: F401 - shared helpers live there

from glame_pipelines.defs import alerts, schedules
from glame_pipelines.definitions import defs
from glame_pipelines.settings import moscow_today

ONEC_ENV = {"ONEC_API_URL": "http://x/odata/standard.odata", "ONEC_API_TOKEN": "t"}
VK_ENV = {"VK_ACCESS_TOKEN": "t", "VK_GROUP_ID": "1"}
# The week the daily schedule reloads: yesterday in Moscow and the six days before.
WEEK = [(moscow_today() - timedelta(n)).isoformat() for n in range(7, 0, -1)]


def groups_of(keys) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {graph.get(k).group_name for k in keys}


def test_daily_run_takes_yesterday_and_a_trailing_week_of_configured_sources_only():
    request = schedules.daily_run_request(date(2025, 6, 10), defs.resolve_asset_graph(), env={**ONEC_ENV, **VK_ENV})
    assert request.tags["dagster/asset_partition_range_start"] == "2025-06-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-06-09"
    assert groups_of(request.asset_selection) == {"onec", "vk"}
    assert "yandex_metrika (set YANDEX_METRIKA_COUNTER_ID, YANDEX_METRIKA_OAUTH_TOKEN)" in request.tags["glame/skipped_sources"]
    assert dg.AssetKey(["instagram", "stories"]) not in request.asset_selection


def test_daily_run_skips_when_nothing_is_configured():
    result = schedules.daily_run_request(date(2025, 6, 10), defs.resolve_asset_graph(), env={})
    assert isinstance(result, dg.SkipReason) and "ONEC_API_URL" in result.skip_message


def test_schedule_is_at_six_moscow():
    schedule = defs.resolve_schedule_def("daily_analytics_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "Europe/Moscow")


class Daemon:
    """The automation sensor's ticks over an instance (dg.evaluate_automation_conditions, as under the
    daemon); `settle` reports each request built, as its run would, and ticks until nothing is asked."""

    def __init__(self):
        self.instance = dg.DagsterInstance.ephemeral()
        self.graph = defs.resolve_asset_graph()
        self.models = [k for k in self.graph.get_all_asset_keys() if self.graph.get(k).automation_condition]
        self.cursor = None

    def tick(self) -> dict[dg.AssetKey, set]:
        result = dg.evaluate_automation_conditions(defs=defs, instance=self.instance, cursor=self.cursor)
        self.cursor = result.cursor
        return {key: set(result.get_requested_partitions(key)) for key in self.models if result.get_num_requested(key)}

    def built(self, requested: dict[dg.AssetKey, set]) -> dict[dg.AssetKey, set]:
        for key, partitions in requested.items():
            self.load(key, partitions)
        return requested

    def settle(self, ticks: int = 6) -> list[dict[dg.AssetKey, set]]:
        """The requests of each tick (a run per partitions definition); a tick without one included."""
        return [self.built(self.tick()) for _ in range(ticks)]

    def partitions(self, key: dg.AssetKey, days=WEEK) -> list:
        return list(days) if self.graph.get(key).partitions_def else [None]

    def load(self, key: dg.AssetKey, partitions) -> None:
        for partition in partitions:
            self.instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))

    def fail(self, key: dg.AssetKey, partitions) -> None:
        """A real failed execution of the asset (a run that planned it and failed), per partition."""
        partitions_def = self.graph.get(key).partitions_def

        @dg.asset(key=key, partitions_def=partitions_def)
        def broken():
            raise dg.Failure(description="the source failed")

        for partition in partitions:
            dg.materialize([broken], instance=self.instance, partition_key=partition, raise_on_error=False)


def names(requests) -> set[str]:
    return {key.path[-1] for request in requests for key in request}


def test_models_after_a_partial_failure_leave_out_what_depends_on_the_failed_source():
    daemon = Daemon()
    daemon.settle()  # the seeds and what reads them, once
    sales, stats = dg.AssetKey(["onec", "sales"]), dg.AssetKey(["vk", "group_stats"])
    daemon.load(stats, WEEK)
    daemon.fail(sales, WEEK)
    built = names(daemon.settle())
    assert "stg_vk__group_stats" in built and "social_daily" in built
    assert not built & {"stg_onec__sales", "sales_daily", "unified_daily"}
    daemon.load(sales, WEEK)  # the next load succeeds: what it feeds is built, the trailing week of the marts
    requests = daemon.settle()
    assert {"sales_daily", "unified_daily"} <= names(requests)
    assert {p for r in requests for p in r.get(dg.AssetKey(["marts", "sales_daily"]), ())} == set(WEEK)


def test_a_failed_optional_1c_set_leaves_out_only_what_reads_it():
    """A base without a bonus program: the failed bonus assets must not keep the sales marts from being built."""
    daemon = Daemon()
    daemon.settle()
    for name in ("sales", "customers"):
        daemon.load(dg.AssetKey(["onec", name]), daemon.partitions(dg.AssetKey(["onec", name])))
    for name in ("bonus_points", "bonus_balances"):
        daemon.fail(dg.AssetKey(["onec", name]), daemon.partitions(dg.AssetKey(["onec", name]), WEEK[:1]))
    built = names(daemon.settle())
    assert {"stg_onec__sales", "sales_daily", "unified_daily", "customer_purchases", "stg_onec__customers"} <= built
    assert not built & {"stg_onec__bonus_points", "stg_onec__bonus_balances", "customer_profile"}


def test_a_counter_file_rebuilds_store_traffic_without_waiting_for_the_morning():
    daemon = Daemon()
    daemon.settle()
    daemon.instance.add_dynamic_partitions("ftp_counter_files", ["/counters/2025-06-09_store1.csv"])
    daemon.load(dg.AssetKey(["ftp_counters", "visits"]), ["/counters/2025-06-09_store1.csv"])
    built = names(daemon.settle())
    assert {"stg_ftp_counters__visits", "store_traffic_daily", "unified_daily"} <= built
    assert "customer_profile" not in built


VIEW = dg.AssetKey(["staging", "stg_ftp_counters__visits"])


def test_a_backlog_of_files_does_not_queue_one_models_run_per_file():
    """One build follows many loads: files loaded between two ticks are one request, and files loaded
    while that build runs queue nothing (it reads them, or one more build follows), not one build each."""
    daemon = Daemon()
    daemon.settle()
    visits = dg.AssetKey(["ftp_counters", "visits"])
    files = [f"/counters/2025-06-{n % 30 + 1:02d}_store{n}.csv" for n in range(100)]
    daemon.instance.add_dynamic_partitions("ftp_counter_files", files)
    daemon.load(visits, files[:50])
    first = daemon.tick()
    assert VIEW in first
    # The run the sensor requested is running (its planned materialisations are recorded).
    job = defs.resolve_job_def("models_job")
    run = daemon.instance.create_run_for_job(job, asset_selection=frozenset(first), status=dg.DagsterRunStatus.STARTED)
    for start in range(50, 100, 10):  # ten files between two ticks, five times
        daemon.load(visits, files[start:start + 10])
        assert daemon.tick() == {}  # ~in_progress / ~any_deps_in_progress: nothing more is queued
    daemon.built(first)  # it builds after those loads, so it read them all
    daemon.instance.report_run_canceled(run)  # and ends
    later = [r for r in daemon.settle() if VIEW in r]
    assert later == []  # 100 files, one build
    daemon.instance.add_dynamic_partitions("ftp_counter_files", ["/counters/2025-07-01_store1.csv"])
    daemon.load(visits, ["/counters/2025-07-01_store1.csv"])  # a file after the build: one build more
    assert len([r for r in daemon.settle() if VIEW in r]) == 1


def test_models_built_after_the_loads_leave_the_sensor_nothing_to_do():
    """`glame run` builds its window's models in-process right after its loads: at its next tick the
    automation sensor finds every model newer than its deps and requests nothing."""
    daemon = Daemon()
    daemon.settle()
    for key in (dg.AssetKey(["onec", "sales"]), dg.AssetKey(["vk", "group_stats"])):
        daemon.load(key, WEEK)
    for key in daemon.models:
        daemon.load(key, daemon.partitions(key))
    assert names(daemon.settle(3)) == set()


def test_partitioned_models_are_requested_together_for_the_trailing_week():
    """The window-incremental models of one tick share one request over the week the schedule reloads:
    with their single-run backfill policy that is one run and one dbt invocation, not seven."""
    daemon = Daemon()
    daemon.settle()
    daemon.load(dg.AssetKey(["onec", "sales"]), WEEK)
    partitioned = [r for r in daemon.settle() if any(p is not None for ps in r.values() for p in ps)]
    assert len(partitioned) == 1
    assert {k.path[-1] for k in partitioned[0]} == {"int_document_stores", "customer_purchases", "sales_daily",
                                                   "int_customer_totals"}
    assert all(days == set(WEEK) for days in partitioned[0].values())
    policies = {defs.resolve_assets_def(k).backfill_policy for k in partitioned[0]}
    assert policies == {dg.BackfillPolicy.single_run()}


def test_model_graph_is_no_deeper_than_the_failure_guard_looks():
    """upstream_failed follows deps MODEL_DEPTH levels up: a longer chain would escape it."""
    from functools import cache

    from glame_pipelines.defs.dbt.automation import MODEL_DEPTH

    graph = defs.resolve_asset_graph()

    @cache
    def depth(key: dg.AssetKey) -> int:
        parents = graph.get(key).parent_keys
        return 1 + max(map(depth, parents)) if parents else 0

    assert max(depth(key) for key in graph.get_all_asset_keys() if graph.get(key).automation_condition) <= MODEL_DEPTH


def failure_context(job_name: str, reason: str) -> dg.RunFailureSensorContext:
    """A real failed run, and the context the failure sensor gets for it."""

    @dg.op
    def broken():
        raise dg.Failure(description=reason)

    job = dg.JobDefinition(graph_def=dg.GraphDefinition(name=job_name, node_defs=[broken]))
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    return dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure", dagster_event=result.get_run_failure_event(), dagster_instance=instance,
        dagster_run=result.dagster_run).for_run_failure()


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
    monkeypatch.setattr("glame_pipelines.clients.telegram.TelegramClient.call",
                        lambda *args, **kwargs: pytest.fail("no chat is set: nothing may be sent"))

    context = failure_context("failing_vk_job", "VK rejected the access token (code 5)")
    assert "failing_vk_job failed" in alerts.alert_text(context)
    alerts.alert_on_run_failure(context)
