"""The daily schedule's selection, the models' automation after loads, and the failure alert."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from conftest import fast_retry  # noqa: F401 - shared helpers live there
from dagster._core.utils import make_new_run_id

from glame_pipelines.definitions import defs
from glame_pipelines.defs import alerts, schedules
from glame_pipelines.defs.dbt import automation
from glame_pipelines.orchestration import MODEL_GROUPS
from glame_pipelines.settings import RANGE_END, RANGE_START

ONEC_ENV = {"ONEC_API_URL": "http://x/odata/standard.odata", "ONEC_API_TOKEN": "t"}
VK_ENV = {"VK_ACCESS_TOKEN": "t", "VK_GROUP_ID": "1"}


def groups_of(keys) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {graph.get(k).group_name for k in keys}


def test_daily_run_takes_yesterday_and_a_trailing_week_of_configured_sources_only():
    request = schedules.daily_run_request(date(2025, 6, 10), defs.resolve_asset_graph(), env={**ONEC_ENV, **VK_ENV})
    assert request.tags["dagster/asset_partition_range_start"] == "2025-06-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-06-09"
    loads = {k for k in request.asset_selection if k.path[0] not in MODEL_GROUPS}
    assert groups_of(loads) == {"onec", "vk"}
    models = {k.path[-1] for k in request.asset_selection if k.path[0] in MODEL_GROUPS}  # what they feed, one run
    assert {"stg_onec__sales", "sales_daily", "social_daily", "unified_daily"} <= models
    assert "web_traffic_daily" not in models  # Metrika is not configured
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


NOW = datetime(2025, 6, 10, 6, 30, tzinfo=ZoneInfo("Europe/Moscow"))  # after the daily run of 2025-06-10
WEEK = [f"2025-06-{day:02d}" for day in range(3, 10)]  # the schedule's window: 2025-06-03 .. 2025-06-09


class Site:
    """An instance and the models' automation evaluated on it tick by tick, as the sensor does."""

    def __init__(self):
        self.instance = dg.DagsterInstance.ephemeral()
        self.graph = defs.resolve_asset_graph()
        self.cursor = None
        self.tick()  # the first evaluation only sets the baseline

    def tick(self) -> dict[str, list[str]]:
        """What the sensor requests now: model name -> its days."""
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=self.instance, cursor=self.cursor, evaluation_time=NOW
        )
        self.cursor = result.cursor
        return {
            r.key.path[-1]: sorted(r.true_subset.expensively_compute_partition_keys())
            for r in result.results
            if r.true_subset.size
        }

    def load(self, *keys: dg.AssetKey, days=WEEK, tags=None, fail=False) -> None:
        """A run that loads `keys` over `days` (one partition range, as the daily run does), or fails."""
        stubs = [self._stub(key, fail) for key in keys]
        dg.materialize(
            stubs,
            instance=self.instance,
            tags={**(tags or {}), RANGE_START: days[0], RANGE_END: days[-1]},
            raise_on_error=False,
        )

    def going_run(self, *keys: dg.AssetKey) -> dg.DagsterRun:
        """A load run of `keys` over the week, created and not ended (its steps are played by `load`)."""
        run = self.instance.create_run_for_job(
            defs.resolve_job_def("sources_job"),
            asset_selection=frozenset(keys),
            tags={RANGE_START: WEEK[0], RANGE_END: WEEK[-1]},
        )
        self.instance.report_dagster_event(
            dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name), run.run_id
        )
        return run

    def end(self, run: dg.DagsterRun) -> None:
        self.instance.report_dagster_event(
            dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name), run.run_id
        )

    def daily(self, *loads: dg.AssetKey, failing=(), tags=None) -> dg.DagsterRun:
        """The daily run: `loads` and the models they feed in one run over the week, the models one step (named
        as the dbt step) after the loads; a failing load leaves it skipped."""
        models = sorted(
            (dg.AssetSelection.assets(*loads).downstream() & dg.AssetSelection.groups(*MODEL_GROUPS)).resolve(
                self.graph
            )
        )
        in_run = {*loads, *models}
        specs = [
            dg.AssetSpec(
                key,
                deps=[parent for parent in self.graph.get(key).parent_keys if parent in in_run],
                partitions_def=self.graph.get(key).partitions_def,
            )
            for key in models
        ]

        @dg.multi_asset(specs=specs, name="glame_dbt_models")
        def dbt_step():
            for key in self.graph.toposorted_asset_keys:  # as dbt yields them: parents first
                if key in in_run and key in models:
                    yield dg.MaterializeResult(asset_key=key)

        assets = [*(self._stub(key, key in failing) for key in loads), dbt_step]
        job = dg.define_asset_job("daily_analytics_job").resolve(
            asset_graph=dg.Definitions(assets=assets).resolve_asset_graph()
        )
        result = job.execute_in_process(
            instance=self.instance,
            asset_selection=sorted(in_run),  # the run's asset selection, as the schedule's request sets it
            tags={**(tags or {}), RANGE_START: WEEK[0], RANGE_END: WEEK[-1]},
            raise_on_error=False,
        )
        return result.dagster_run

    def load_files(self, paths: list[str]) -> None:
        self.instance.add_dynamic_partitions("ftp_counter_files", paths)
        self.load(dg.AssetKey(["ftp_counters", "visits"]), days=paths)

    def _stub(self, key: dg.AssetKey, fail: bool) -> dg.AssetsDefinition:
        @dg.asset(key=key, partitions_def=self.graph.get(key).partitions_def)
        def stub() -> None:
            if fail:
                raise dg.Failure(description="the source failed")

        return stub


ONEC_SALES, VK_STATS = dg.AssetKey(["onec", "sales"]), dg.AssetKey(["vk", "group_stats"])


def test_models_after_a_partial_failure_leave_out_what_depends_on_the_failed_source():
    site = Site()
    site.load(VK_STATS)
    site.load(ONEC_SALES, fail=True)
    requested = site.tick()
    assert "stg_vk__group_stats" in requested and "social_daily" in requested
    assert not set(requested) & {"stg_onec__sales", "sales_daily", "unified_daily"}
    assert requested["social_daily"] == WEEK  # the run's days become the models' partitions (dbt's window)
    full = Site()
    full.load(VK_STATS, ONEC_SALES)
    requested = full.tick()
    assert {"sales_daily", "unified_daily", "social_daily"} <= set(requested)
    assert requested["sales_daily"] == WEEK


def test_a_failed_optional_1c_set_leaves_out_only_what_reads_it():
    """A base without a bonus program: the failed bonus assets must not keep the sales marts from being built."""
    site = Site()
    site.load(*(dg.AssetKey(["onec", name]) for name in ("sales", "customers")))
    site.load(dg.AssetKey(["onec", "bonus_points"]), dg.AssetKey(["onec", "bonus_balances"]), fail=True)
    names = set(site.tick())
    assert {"stg_onec__sales", "sales_daily", "unified_daily", "customer_purchases", "stg_onec__customers"} <= names
    assert not names & {"stg_onec__bonus_points", "stg_onec__bonus_balances", "customer_profile"}


def test_a_counter_file_rebuilds_store_traffic_without_waiting_for_the_morning():
    site = Site()
    site.load_files(["A/250609.txt"])
    names = set(site.tick())
    assert {"stg_ftp_counters__visits", "store_traffic_daily", "unified_daily"} <= names
    assert "customer_profile" not in names


def test_the_daily_run_is_one_build_of_its_window_and_glame_run_none():
    """Every model of the daily run's sources asks for the same days: one partition range, which Dagster runs
    as one run (one partitions definition, single-run backfill policy). A load by `glame run` asks for
    nothing: it builds its models itself."""
    site = Site()
    site.load(*(k for k in site.graph.get_all_asset_keys() if k.path[0] in ("onec", "vk", "yandex_metrika")))
    requested = site.tick()
    assert {"sales_daily", "web_traffic_daily", "social_daily", "unified_daily", "stg_onec__customers"} <= set(
        requested
    )
    assert {tuple(days) for days in requested.values()} == {tuple(WEEK)}
    assert site.tick() == {}  # requested once; nothing new
    site.load(ONEC_SALES, VK_STATS, tags={"glame/launched_by": "glame run"})
    assert site.tick() == {}


def test_the_models_of_a_load_run_wait_for_its_end_and_are_one_request():
    """Dagster's `in_progress` clears for an asset once its step has materialized it: the social models were
    requested while the same run was still loading 1C, and came in a second run. They wait for the run's end."""
    site = Site()
    going = site.going_run(VK_STATS, ONEC_SALES)  # the daily load run, started
    site.load(VK_STATS)  # its VK step done, 1C still loading
    assert site.tick() == {}
    site.load(ONEC_SALES)  # its last step done; the run has not ended yet
    assert site.tick() == {}
    site.end(going)
    requested = site.tick()
    assert {"social_daily", "sales_daily", "unified_daily"} <= set(requested)
    assert {tuple(days) for days in requested.values()} == {tuple(WEEK)}
    assert site.tick() == {}


def test_a_run_going_elsewhere_in_the_graph_holds_nothing_it_does_not_load():
    site = Site()
    site.going_run(ONEC_SALES)
    site.load(VK_STATS)
    requested = site.tick()
    assert "social_daily" in requested
    assert not set(requested) & {"sales_daily", "unified_daily"}  # both read 1C's sales, still loading


def test_the_daily_run_builds_its_models_itself_and_the_automation_nothing_after():
    """The daily run holds its loads and the models they feed: the models' step starts when the last load
    ends, with no second run to wait for; the automation must not build them again."""
    site = Site()
    run = site.daily(VK_STATS, ONEC_SALES)
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert site.tick() == {}
    assert automation.models_left_unbuilt(site.instance, run, site.graph) == []


def failed_daily_run_sensor(site: Site, run: dg.DagsterRun):
    """`models_after_failed_loads` evaluated for a failed run, as the daemon evaluates it."""
    failure = next(iter(site.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.PIPELINE_FAILURE)))
    context = dg.build_run_status_sensor_context(
        sensor_name="models_after_failed_loads",
        dagster_event=failure.dagster_event,
        dagster_instance=site.instance,
        dagster_run=run,
        repository_def=defs.get_repository_def(),
    ).for_run_failure()
    return automation.models_after_failed_loads(context)


def test_after_a_failed_load_of_the_daily_run_the_models_not_reading_it_are_built_once():
    """A failed load skips the models' step of the daily run. `models_after_failed_loads` requests the models
    downstream of the loads that succeeded and of no failed one, over all the run's days; the automation adds
    nothing (each model built once: left to it, it asked for six of the seven days); a run Dagster will retry
    is left to its retry."""
    site = Site()
    daily = {"glame/models": "in_run"}
    run = site.daily(VK_STATS, ONEC_SALES, failing={ONEC_SALES}, tags=daily)
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert site.tick() == {}
    request = failed_daily_run_sensor(site, run)
    names = {key.path[-1] for key in request.asset_selection}
    assert {"stg_vk__group_stats", "social_daily"} <= names
    assert not names & {"stg_onec__sales", "sales_daily", "unified_daily"}
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == (WEEK[0], WEEK[-1])
    assert request.run_key == f"models-after-{run.run_id}"
    retried = site.daily(VK_STATS, ONEC_SALES, failing={ONEC_SALES}, tags={**daily, "dagster/will_retry": "true"})
    assert isinstance(failed_daily_run_sensor(site, retried), dg.SkipReason)
    # Its retry re-executes the failed load (and the skipped step) only, and fails again: the loads its parent
    # made still feed the models the sensor asks for.
    retry = retried.with_status(dg.DagsterRunStatus.FAILURE)._replace(
        run_id=make_new_run_id(), parent_run_id=retried.run_id, root_run_id=retried.run_id, tags=daily
    )
    site.instance.add_run(retry)
    assert {key.path[-1] for key in automation.models_left_unbuilt(site.instance, retry, site.graph)} == names
    built = site.daily(VK_STATS, ONEC_SALES, tags=daily)  # its models built: nothing left for the sensor
    assert automation.models_left_unbuilt(site.instance, built, site.graph) == []


class Sensor:
    """The `models_automation` sensor itself, ticked on a site's instance as the daemon ticks it."""

    def __init__(self, site: Site):
        self.site, self.cursor = site, None
        self.sensor = defs.resolve_sensor_def("models_automation")
        self.tick()  # the first evaluation only sets the baseline

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.site.instance, repository_def=defs.get_repository_def(), cursor=self.cursor
        )
        data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return list(data.run_requests or ())


def test_a_range_of_days_goes_to_the_queue_as_one_run_not_through_the_backfill_daemon():
    """The backfill daemon looks for new backfills every 30 s; one range for every asset is one run now."""
    site = Site()
    sensor = Sensor(site)
    site.load(VK_STATS, ONEC_SALES)
    (request,) = sensor.tick()
    assert request.asset_graph_subset is None and not request.requires_backfill_daemon()
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == (WEEK[0], WEEK[-1])
    assert {"social_daily", "sales_daily", "unified_daily"} <= {k.path[-1] for k in request.asset_selection}
    assert request.tags["dagster/sensor_name"] == "models_automation"


def test_assets_asking_for_different_days_stay_one_backfill():
    site = Site()
    sensor = Sensor(site)
    site.load(VK_STATS, days=WEEK[:2])
    site.load(ONEC_SALES, days=WEEK[4:])
    (request,) = sensor.tick()
    assert request.requires_backfill_daemon()  # the backfill orders the runs of the different ranges


def test_a_year_of_backfill_is_one_build_of_the_year():
    site = Site()
    year = [d.isoformat() for d in (date(2024, 6, 10) + timedelta(n) for n in range(365))]
    site.load(ONEC_SALES, days=year)
    requested = site.tick()
    assert requested["sales_daily"] == year and {len(days) for days in requested.values()} == {365}


def test_a_backlog_of_files_does_not_queue_one_models_run_per_file():
    """100 counter files loaded while the models wait: one request, then none while it is pending."""
    site = Site()
    site.load_files([f"A/2506{n:02d}.txt" for n in range(1, 8)])
    first = site.tick()
    assert "store_traffic_daily" in first
    job = defs.resolve_implicit_global_asset_job_def()
    selection = [dg.AssetKey(["staging", "stg_ftp_counters__visits"]), dg.AssetKey(["marts", "store_traffic_daily"])]
    site.instance.create_run_for_job(
        job,
        asset_selection=frozenset(selection),
        tags={RANGE_START: WEEK[0], RANGE_END: WEEK[-1]},
    )  # the run the first request became, still queued
    for batch in range(5):  # 100 files in five loads, each followed by a tick
        site.load_files([f"B/{batch}{n:02d}.txt" for n in range(20)])
        assert "store_traffic_daily" not in site.tick()


def test_a_year_of_counter_files_at_once_is_one_request():
    """The first day of an installation: 1,095 files of 3 stores loaded by one run, then one evaluation asks
    for the store-traffic models once (a condition reading each file's materialisation must stay within
    Dagster's 10,000 records a query: a first version asked for 21,900 and failed the evaluation)."""
    site = Site()
    site.load_files([f"{store}/{date(2025, 1, 1) + timedelta(n):%y%m%d}.txt" for store in "ABC" for n in range(365)])
    assert {"stg_ftp_counters__visits", "store_traffic_daily", "unified_daily"} <= set(site.tick())
    assert site.tick() == {}


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
