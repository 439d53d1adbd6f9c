"""The models follow the loads by declaration: each dbt asset carries an automation condition, and one
automation sensor (running by default) evaluates them every 30 seconds under the daemon."""

from datetime import timedelta

import dagster as dg

from glame_pipelines.settings import TRAILING_DAYS

MODEL_GROUPS = ("reference", "staging", "intermediate", "marts")
# The daily schedule reloads yesterday and the days before it: the daily-partitioned models rebuild them.
TRAILING_WINDOW = timedelta(days=TRAILING_DAYS)
# The partitioned models form chains up to this long (int_document_stores -> customer_purchases -> ...).
PARTITIONED_DEPTH = 4
# Raw table -> staging -> intermediate -> ... -> unified_daily: the longest path to a model (a test keeps it so).
MODEL_DEPTH = 7


def seed_condition() -> dg.AutomationCondition:
    """Seeds (mappings the models join) are built when missing or edited; no load changes them. A seed whose
    build failed waits for an edit instead of being retried every tick."""
    return (
        (dg.AutomationCondition.missing() & ~dg.AutomationCondition.execution_failed())
        | dg.AutomationCondition.code_version_changed().since_last_handled()
    ) & ~dg.AutomationCondition.in_progress()


def about_to_change(depth: int = PARTITIONED_DEPTH) -> dg.AutomationCondition:
    """True for a model that will be rebuilt soon: it is in progress, or one of its deps is being built
    (just updated, requested this tick, in progress, or itself about to change, `depth` levels up)."""
    changed = (dg.AutomationCondition.newly_updated() | dg.AutomationCondition.will_be_requested()
               | dg.AutomationCondition.in_progress())
    if depth > 1:
        changed |= about_to_change(depth - 1)
    return dg.AutomationCondition.in_progress() | dg.AutomationCondition.any_deps_match(changed)


def upstream_failed(depth: int = MODEL_DEPTH) -> dg.AutomationCondition:
    """True when a dep, or a dep of a dep (`depth` levels up), failed its latest execution; of a daily
    partitioned asset, only its days in the trailing week count (older ones are no longer reloaded)."""
    failed = dg.AutomationCondition.execution_failed() & dg.AutomationCondition.in_latest_time_window(TRAILING_WINDOW)
    if depth > 1:
        failed |= upstream_failed(depth - 1)
    return dg.AutomationCondition.any_deps_match(failed)


def model_condition(daily: dg.AssetSelection) -> dg.AutomationCondition:
    """Eager without its missing-deps guard, with a failure guard and a wait for partitioned deps.

    A model is built once one of its deps was updated since it was last requested, but not while a dep or
    itself is in progress (a backlog of loads becomes one build after the last, not one per load), and not
    while an asset upstream of it failed its latest execution: it keeps its data until that asset loads
    again; the models beside it still build. Eager's `~any_deps_missing` is left out on purpose: a source
    that is not configured, or days before it was first loaded, would keep every mart it feeds unbuilt.
    The daily-partitioned models (`daily`) run apart from the others (a run holds one partitions
    definition), one tick later than the views they read: a model reading one of them waits while it is
    about to be rebuilt, so it is built once, after it, not once before and once after.
    For the daily-partitioned models, the latest time window is the trailing week the schedule reloads."""
    return (
        dg.AutomationCondition.in_latest_time_window(TRAILING_WINDOW)
        & dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & ~upstream_failed().with_label("upstream_failed")
        & ~dg.AutomationCondition.any_deps_match(
            about_to_change() & ~dg.AutomationCondition.will_be_requested()  # requested in this run: fine
        ).allow(daily).with_label("partitioned_deps_pending")
    ).with_label("models_after_loads")


models_job = dg.define_asset_job(
    "models_job",
    selection=dg.AssetSelection.groups(*MODEL_GROUPS),
    description="Build and test the dbt models (the daily-partitioned ones for the run's partition range).",
    tags={"glame/kind": "models"},
)  # no step retry: a failed build is a data or model error; the next load rebuilds

models_automation = dg.AutomationConditionSensorDefinition(
    "models_automation",
    target=dg.AssetSelection.groups(*MODEL_GROUPS),
    run_tags={"glame/kind": "models"},
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Builds the models whose automation condition is true: after each load, once it is done.",
)
