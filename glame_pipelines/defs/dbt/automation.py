"""When the dbt models are built: by declaration, after the loads they read, through one automation sensor.

Every model and seed is daily-partitioned (Moscow days) and carries `model_condition()`. A load of days
D1..Dn of a daily source requests those days of the models downstream, in the same evaluation, so the
sensor asks for one range and Dagster launches ONE run for it (one partitions definition and a
single-run backfill policy across the whole dbt project); the range becomes dbt's `start_date`/`end_date`.
An asset without days (1C's catalogues, a counter file, an inbox file) requests the latest week, the
daily schedule's window: then a daily run's catalogues and registers ask for the same days and stay one
run (Dagster runs a parent and its child together only for the same days), and no load of a catalogue
rebuilds years of days (the tables are rebuilt whole in any run).
"""

from __future__ import annotations

import weakref
from datetime import timedelta
from functools import cache

import dagster as dg

from glame_pipelines.defs.schedules import TRAILING_DAYS
from glame_pipelines.orchestration import MODEL_GROUPS

# Loads and builds of `glame run` (orchestration.LAUNCHED_BY): it builds its window's models itself.
GLAME_RUN = {"glame/launched_by": "glame run"}
# Assets whose partitions are the Moscow days (set by definitions.with_day_tags): their days map one to one.
DAY_TAG = ("glame/partitions", "daily")
FAILURE_DEPTH = 7  # longest path from a raw asset to a mart (raw, staging, intermediate x3, mart, mart)


def days() -> dg.AssetSelection:
    return dg.AssetSelection.tag(*DAY_TAG)


def loaded() -> dg.AutomationCondition:
    """New data in a dependency: a materialisation since the last evaluation, except one of `glame run`
    (which builds its models itself) or of a run that also builds this model; or a dependency that is
    requested in this same evaluation (so the whole chain goes into one run)."""
    return (
        dg.AutomationCondition.newly_updated()
        & ~dg.AutomationCondition.executed_with_root_target()
        & ~dg.AutomationCondition.all_new_updates_have_run_tags(tag_values=GLAME_RUN)
    ).with_label("newly_loaded") | dg.AutomationCondition.will_be_requested()


def upstream_failed(depth: int = FAILURE_DEPTH) -> dg.AutomationCondition:
    """Some asset upstream whose latest execution failed and which is not being rebuilt now: the model
    keeps its data until that asset succeeds (a failed optional 1C register holds back only what reads it)."""
    failed = (dg.AutomationCondition.execution_failed() & ~dg.AutomationCondition.will_be_requested()).with_label(
        "failed"
    )
    condition = dg.AutomationCondition.any_deps_match(failed)
    for _ in range(depth - 1):
        condition = dg.AutomationCondition.any_deps_match(failed | condition)
    return condition.with_label("upstream_failed")


class UpstreamRunGoing(dg.AutomationCondition):
    """A run not yet ended (queued, starting, started) targets an asset upstream of this model.

    Dagster's `in_progress()` clears for an asset as soon as its step has materialized it, while its run
    goes on: after a daily load, the models over the fast sources were requested while 1C was still
    loading, and the models came in two runs, the second queued behind the first (measured: 183 s from the
    tick to the last mart, two dbt starts). Holding a model until every run that loads something it reads
    has ended makes a load run's models one build. Evaluated on the code server (the sensor's
    `use_user_code_server`), which is why it can read the runs."""

    @property
    def name(self) -> str:
        return "upstream_run_going"

    @property
    def requires_cursor(self) -> bool:
        return False

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
        & ~upstream_failed()
    ).with_label("after_loads")


def models_automation(selection: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    """The one sensor that evaluates the models' conditions. A range of days becomes a backfill that the
    daemon runs as one run (single-run backfill policy). It runs on the code server, which can evaluate
    `UpstreamRunGoing` (Python of ours)."""
    return dg.AutomationConditionSensorDefinition(
        "models_automation",
        target=selection,
        use_user_code_server=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Builds the dbt models after the loads they read (the models' automation conditions).",
    )


@dg.definitions
def automation_definitions() -> dg.Definitions:
    return dg.Definitions(sensors=[models_automation(dg.AssetSelection.groups(*MODEL_GROUPS))])
