"""When the dbt models are built: by declaration, after the loads they read, through one automation sensor.

Every model and seed is daily-partitioned (Moscow days) and carries `model_condition()`. A load of days
D1..Dn of a daily source requests those days of the models downstream, in the same evaluation, so the
sensor asks for one range and submits ONE run for it (one partitions definition and a single-run
backfill policy across the whole dbt project); the range becomes dbt's window (GLAME_DBT_START_DATE/END_DATE).
The models wait until every run loading something upstream of them has ended, so a load run's models are
one build after it.
An asset without days (1C's catalogues, a counter file, an inbox file) requests the latest week, the
daily schedule's window: then a daily run's catalogues and registers ask for the same days and stay one
run (Dagster runs a parent and its child together only for the same days), and no load of a catalogue
rebuilds years of days (the tables are rebuilt whole in any run).

The daily schedule's run holds its models itself (defs/schedules.py); its loads are not the automation's
(`LoadedWithItsModels`), and `models_after_failed_loads` builds what a failed load of it skipped.
"""

from __future__ import annotations

import weakref
from datetime import timedelta
from functools import cache

import dagster as dg
from dagster._core.storage.tags import WILL_RETRY_TAG  # set on a failed run that run retries will retry
from dagster._record import copy  # SensorExecutionData is a Dagster record

from glame_pipelines.defs import jobs
from glame_pipelines.defs.partitions import daily_partitions
from glame_pipelines.defs.schedules import IN_RUN, TRAILING_DAYS
from glame_pipelines.orchestration import MODEL_GROUPS
from glame_pipelines.settings import RANGE_END, RANGE_START

# Loads and builds of `glame run` (orchestration.LAUNCHED_BY): it builds its window's models itself.
GLAME_RUN = {"glame/launched_by": "glame run"}
# How often the models' conditions are evaluated: the longest a finished load waits for its models run. A tick
# took 0.65–0.8 s in process, 3–7 s on the code server while runs were starting on a 2-core machine. At 15 s the
# daily run took 51–55 s from the schedule's tick to the last mart, up to about 65 s by the tick's phase; at 10 s
# the ticks came 10–15 s apart (the sensor loop runs every 5 s and a long tick delays the next), for 0.65 s of
# work a tick. The daily run no longer waits for them: it builds its models itself.
AUTOMATION_SECONDS = 10
# Assets whose partitions are the Moscow days (set by definitions.with_day_tags): their days map one to one.
DAY_TAG = ("glame/partitions", "daily")


def days() -> dg.AssetSelection:
    return dg.AssetSelection.tag(*DAY_TAG)


def loaded() -> dg.AutomationCondition:
    """New data in a dependency: a materialisation since the last evaluation, except one of `glame run` or of
    the daily run (both build their models themselves) or of a run that also builds this model; or a
    dependency that is requested in this same evaluation (so the whole chain goes into one run)."""
    return (
        dg.AutomationCondition.newly_updated()
        & ~dg.AutomationCondition.executed_with_root_target()
        & ~dg.AutomationCondition.all_new_updates_have_run_tags(tag_values=GLAME_RUN)
        & ~LoadedWithItsModels()
    ).with_label("newly_loaded") | dg.AutomationCondition.will_be_requested()


class PythonCondition(dg.AutomationCondition):
    """A condition of ours: it reads the instance at each evaluation and keeps no cursor of its own."""

    label = ""

    @property
    def name(self) -> str:
        return self.label

    @property
    def requires_cursor(self) -> bool:
        return False


class UpstreamFailed(PythonCondition):
    """Some asset upstream whose latest execution failed and which is not being rebuilt now: the model keeps
    its data until that asset succeeds (a failed optional 1C register holds back only what reads it).

    A failed day of a daily asset holds that day; a failed asset of other partitions (a counter file, a
    catalogue) holds every day. This was `any_deps_match` nested once per level of the graph (seven), whose
    evaluation trees made 4,796 nodes and 7 MB per tick, written to the instance at every tick; half of it
    was this condition; a tick took 3–7 s on the code server, and 14.5 s until the daemon had written it."""

    label = "upstream_failed"

    async def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        held = context.get_empty_subset()
        for key in sorted(context.asset_graph.get_ancestor_asset_keys(context.key)):
            failed = await failed_partitions(context.asset_graph_view, key)
            requested = context.request_subsets_by_key.get(key)
            if failed and requested is not None:
                failed -= partition_keys(requested)
            if not failed:
                continue
            if context.partitions_def is None or context.asset_graph.get(key).partitions_def != context.partitions_def:
                return dg.AutomationResult(context, context.candidate_subset)
            held = held.compute_union(context.candidate_subset.compute_intersection_with_partition_keys(failed))
        return dg.AutomationResult(context, held)


# Per evaluation (its view of the instance), the failed partitions of each asset, as plain keys: a cached
# subset would hold the view, and with it every evaluation's caches, alive (a weak key's value must not).
_failed: weakref.WeakKeyDictionary[object, dict[dg.AssetKey, frozenset]] = weakref.WeakKeyDictionary()


def partition_keys(subset) -> frozenset:
    """The subset's partition keys; an unpartitioned asset's is {None} when it is in the subset."""
    if subset.is_empty:
        return frozenset()
    return frozenset(subset.expensively_compute_partition_keys()) if subset.is_partitioned else frozenset({None})


async def failed_partitions(view, key: dg.AssetKey) -> frozenset:
    """The partitions of `key` whose latest execution failed, read once per evaluation."""
    known = _failed.setdefault(view, {})
    if key not in known:
        known[key] = partition_keys(
            await view.compute_execution_failed_subset(key=key, from_subset=view.get_full_subset(key=key))
        )
    return known[key]


class LoadedWithItsModels(PythonCondition):
    """The dependency's partitions whose latest materialisation came from a run that builds its models itself
    (the daily run, tagged `IN_RUN`): those are not the automation's to build.

    Not `all_new_updates_have_run_tags`: on a run over a range of days it saw the tag on the range's last
    day only, and the automation asked for the six days before it (tests/test_automation.py). Read per
    partition here, once for the dependency's candidate days, and only where the dependency was updated."""

    label = "loaded_with_its_models"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        candidate = context.candidate_subset
        partitions_def = context.asset_graph.get(context.key).partitions_def
        if candidate.is_empty or partitions_def not in (None, daily_partitions):
            return dg.AutomationResult(context, context.get_empty_subset())  # not an asset of the daily run
        instance = context.asset_graph_view.instance
        days = sorted(partition_keys(candidate) - {None})
        latest: dict[str | None, str] = {}
        for chunk in [days[i : i + 100] for i in range(0, len(days), 100)] or [None]:  # a year's backfill too
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=context.key, asset_partitions=chunk), limit=10_000
            ).records
            for record in records:  # newest first
                latest.setdefault(record.partition_key, record.run_id)
        in_run = {run_id: builds_its_models(instance, run_id) for run_id in set(latest.values())}  # a run read once
        tagged = {partition for partition, run_id in latest.items() if in_run[run_id]}
        if not candidate.is_partitioned:
            return dg.AutomationResult(context, candidate if None in tagged else context.get_empty_subset())
        return dg.AutomationResult(context, candidate.compute_intersection_with_partition_keys(tagged))


def builds_its_models(instance: dg.DagsterInstance, run_id: str) -> bool:
    run = instance.get_run_by_id(run_id)
    return run is not None and all(run.tags.get(name) == value for name, value in IN_RUN.items())


class UpstreamRunGoing(PythonCondition):
    """A run not yet ended (queued, starting, started) targets an asset upstream of this model.

    Dagster's `in_progress()` clears for an asset as soon as its step has materialized it, while its run
    goes on: after a daily load, the models over the fast sources were requested while 1C was still
    loading, and the models came in two runs, the second queued behind the first (measured: 183 s from the
    tick to the last mart, two dbt starts). Holding a model until every run that loads something it reads
    has ended makes a load run's models one build. Evaluated on the code server (the sensor's
    `use_user_code_server`), which is why it can read the runs."""

    label = "upstream_run_going"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        targeted = targets_of_runs_going(context.asset_graph_view)
        ancestors = context.asset_graph.get_ancestor_asset_keys(context.key)
        going = bool(targeted & ancestors)
        return dg.AutomationResult(context, context.candidate_subset if going else context.get_empty_subset())


# One evaluation of the sensor shares one view of the instance: the runs are read once for it, not per model.
_runs_going: weakref.WeakKeyDictionary[object, frozenset[dg.AssetKey]] = weakref.WeakKeyDictionary()


def targets_of_runs_going(view) -> frozenset[dg.AssetKey]:
    """The assets that runs not yet ended will materialize, as of the evaluation that owns `view`."""
    if view not in _runs_going:
        instance = view.instance
        runs = instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS))
        _runs_going[view] = frozenset(asset for run in runs for asset in targets(instance, run))
    return _runs_going[view]


IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def targets(instance: dg.DagsterInstance, run: dg.DagsterRun) -> frozenset[dg.AssetKey]:
    """The run's asset selection; a job run in whole has none, and its planned materialisations say."""
    if run.asset_selection is not None:
        return frozenset(run.asset_selection)
    planned = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    return frozenset(record.asset_key for record in planned if record.asset_key)


@cache  # one immutable condition shared by every model: built once, not once per model at each load
def model_condition() -> dg.AutomationCondition:
    """eager() adapted to days: the days a daily dependency loaded, or the latest week when an asset
    without days loaded; not while a run that loads anything upstream is going, nor while the model itself
    is being built (a load run's models are one build once it has ended; a backlog of counter files becomes
    one build), nor below a failure. No `newly_missing`: a new day appearing at midnight has nothing to build
    until its loads arrive; nor `any_deps_missing`: dbt creates every raw table first, so a source never
    configured leaves its models empty instead of holding back the rest."""
    by_day = dg.AutomationCondition.any_deps_match(loaded()).allow(days()).with_label("days_loaded")
    whole = dg.AutomationCondition.in_latest_time_window(
        timedelta(days=TRAILING_DAYS)
    ) & dg.AutomationCondition.any_deps_match(loaded()).ignore(days()).with_label("undated_loaded")
    return (
        (by_day | whole).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & ~UpstreamRunGoing()
        & ~UpstreamFailed()
    ).with_label("after_loads")


class OneRunAutomationSensor(dg.AutomationConditionSensorDefinition):
    """Dagster's automation sensor, whose request for a range of days goes straight to the run queue as one run.

    Dagster hands a request for more than one partition to its backfill daemon, which looks for new
    backfills every 30 s (a fixed interval) and then launches the one run the single-run backfill policy
    asks for. Measured (`bench/serve_bench.py daily`): the backfill was created 37 s after the daily tick and
    its run 57 s after it, 20 s of the 80 s between the loads' end and the last mart. When every asset of the
    request asks for the same one range of days, this sensor submits that run itself, with the range's tags:
    the run the backfill daemon would have made, linked to the evaluations in the UI. Anything else (assets
    asking for different days) stays a backfill, which orders its runs."""

    def evaluate_tick(self, context: dg.SensorEvaluationContext):
        data = super().evaluate_tick(context)
        if not data.run_requests:
            return data
        graph = context.repository_def.asset_graph
        return copy(data, run_requests=[one_run(request, graph) for request in data.run_requests])

    def with_attributes(self, *, jobs=None, metadata=None) -> OneRunAutomationSensor:
        return OneRunAutomationSensor(
            name=self.name,
            target=self._sensor_target,
            tags=self._tags,
            run_tags=self._run_tags,
            default_status=self.default_status,
            minimum_interval_seconds=self.minimum_interval_seconds,
            description=self.description,
            metadata=metadata if metadata is not None else self._metadata,
            use_user_code_server=True,
        )


def one_run(request: dg.RunRequest, graph) -> dg.RunRequest:
    """A backfill request whose assets all ask for the same one range of days, as one run over that range."""
    subset = request.asset_graph_subset
    if subset is None or subset.non_partitioned_asset_keys:
        return request
    by_key = subset.partitions_subsets_by_asset_key
    ranges = {tuple(by_key[key].get_partition_key_ranges(graph.get(key).partitions_def)) for key in by_key}
    policies = {graph.get(key).backfill_policy for key in by_key}
    if len(ranges) != 1 or policies != {dg.BackfillPolicy.single_run()}:
        return request
    (only,) = ranges
    if len(only) != 1:
        return request
    return dg.RunRequest(
        asset_selection=sorted(by_key),
        tags={**(request.tags or {}), RANGE_START: only[0].start, RANGE_END: only[0].end},
    )


def models_automation(selection: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    """The one sensor that evaluates the models' conditions. It runs on the code server, which can evaluate
    `UpstreamRunGoing` (Python of ours), and a range of days becomes one run (single-run backfill policy)."""
    return OneRunAutomationSensor(
        name="models_automation",
        target=selection,
        use_user_code_server=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=AUTOMATION_SECONDS,
        description="Builds the dbt models after the loads they read (the models' automation conditions).",
    )


def models_left_unbuilt(instance: dg.DagsterInstance, run: dg.DagsterRun, graph) -> list[dg.AssetKey]:
    """The models a failed run of loads and their models (the daily run) did not build because a load failed:
    those downstream of the loads made and of none not made, by the run or the runs it re-executes (a run
    retry re-executes only what failed). None once the models' step has started (a model that failed is a
    data or model error; what the step built stays built)."""
    selected = set(run.asset_selection or ())
    models = {key for key in selected if graph.has(key) and graph.get(key).group_name in MODEL_GROUPS}
    if not models:
        return []
    group = instance.get_run_group(run.run_id)
    run_ids = [r.run_id for r in group[1]] if group else [run.run_id]
    model_steps = {graph.assets_def_for_key(key).op.name for key in models}
    started = [e for run_id in run_ids for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)]
    if any(entry.step_key in model_steps for entry in started):
        return []
    made = {
        entry.dagster_event.asset_key
        for run_id in run_ids
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if entry.dagster_event and entry.dagster_event.asset_key
    }
    not_made = selected - models - made
    fed = dg.AssetSelection.assets(*(made - models)).downstream().resolve(graph) if made - models else set()
    held = dg.AssetSelection.assets(*not_made).downstream().resolve(graph) if not_made else set()
    return sorted((models & fed) - held)


@dg.run_failure_sensor(
    name="models_after_failed_loads",
    monitored_jobs=[jobs.daily_analytics_job],
    request_job=jobs.models_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_SECONDS,
)
def models_after_failed_loads(context: dg.RunFailureSensorContext):
    """After a daily run whose load failed, the models that do not read the failed load, over the run's days.

    The daily run holds its models (one run: no handoff between a load run and a models run); a failed load
    skips their step. Dagster's automation, left to it, requested them for six of the run's seven days, not
    its last (seen in tests/test_automation.py: its run-level conditions recognised a run over a range of days
    on the range's last day only), so the daily run's loads are not the automation's (`LoadedWithItsModels`)
    and this sensor requests the exact days. A run that Dagster will retry is left to its retry, which
    re-executes the skipped step."""
    run = context.dagster_run
    if run.tags.get(WILL_RETRY_TAG) == "true":
        return dg.SkipReason(f"run {run.run_id[:8]} will be retried")
    models = models_left_unbuilt(context.instance, run, context.repository_def.asset_graph)
    if not models:
        return dg.SkipReason(f"run {run.run_id[:8]} left no model unbuilt by a failed load")
    window = {tag: run.tags[tag] for tag in (RANGE_START, RANGE_END) if tag in run.tags}
    return dg.RunRequest(run_key=f"models-after-{run.run_id}", asset_selection=models, tags=window)


@dg.definitions
def automation_definitions() -> dg.Definitions:
    return dg.Definitions(
        sensors=[models_automation(dg.AssetSelection.groups(*MODEL_GROUPS)), models_after_failed_loads]
    )
