"""Running assets through the Dagster instance from the command line, so runs show in the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from glame_pipelines.settings import RANGE_END, RANGE_START
from glame_pipelines.sources import turned_off_assets

MODEL_GROUPS = ("reference", "staging", "intermediate", "marts")
LAUNCHED_BY = {"glame/launched_by": "glame run"}


def _console(level: str) -> dict:
    return {"loggers": {"console": {"config": {"log_level": level}}}}


@dataclass
class Outcome:
    run_id: str | None = None
    materialized: dict[str, dict] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    failed_assets: set[dg.AssetKey] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)
    checks_failed: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures and not self.checks_failed

    def report(self) -> list[str]:
        lines = [
            f"  ok    {key}" + (f": {meta['dagster/row_count']:,} rows" if "dagster/row_count" in meta else "")
            for key, meta in sorted(self.materialized.items())
        ]
        lines += [f"  skip  {name}: {reason}" for name, reason in sorted(self.skipped.items())]
        lines += [f"  FAIL  {step}: {message}" for step, message in sorted(self.failures.items())]
        lines += [f"  FAIL  check {name}" for name in self.checks_failed]
        if self.run_id:
            lines.append(f"  run {self.run_id} (open it in the Dagster UI: make dev)")
        return lines


def execute(
    defs: dg.Definitions, job_name: str, keys: list[dg.AssetKey], tags: dict[str, str], log_level: str = "INFO"
) -> Outcome:
    """One run of a job of `defs` over `keys`, in this process, recorded in the Dagster instance."""
    outcome = Outcome()
    if not keys:
        return outcome
    job = defs.resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        asset_selection=keys,
        tags=tags,
        raise_on_error=False,
        run_config=_console(log_level),
    )
    outcome.run_id = result.run_id
    for event in result.all_events:
        if event.is_step_materialization:
            materialization = event.event_specific_data.materialization
            outcome.materialized[materialization.asset_key.to_user_string()] = {
                k: getattr(v, "value", v) for k, v in materialization.metadata.items()
            }
        elif event.is_step_failure:
            data = event.step_failure_data
            message = data.user_failure_data.description if data.user_failure_data else data.error.message.strip()
            outcome.failures[event.step_key] = message
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                outcome.checks_failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    outcome.failed_assets = failed_assets(keys, set(outcome.failures), outcome.materialized)
    return outcome


def failed_assets(keys, failed_steps: set[str], materialized=()) -> set[dg.AssetKey]:
    """The assets of a run whose step failed (step keys are `<prefix>__<name>`): only what depends on
    them is left out of the models that follow, not their whole source."""
    return {
        key
        for key in keys
        if key.to_user_string() not in materialized and ({"__".join(key.path), key.path[-1]} & failed_steps)
    }


def failed_assets_of(instance: dg.DagsterInstance, run: dg.DagsterRun, graph) -> set[dg.AssetKey]:
    """The assets of a run whose steps failed."""
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    loaded = run.asset_selection or graph.get_all_asset_keys()
    return failed_assets(loaded, {record.step_key for record in failures if record.step_key})


def run_sources(defs: dg.Definitions, groups: list[str], first: date, last: date) -> Outcome:
    """One run of `sources_job` over the groups' assets for the inclusive Moscow-day range."""
    graph = defs.resolve_asset_graph()
    off = turned_off_assets()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name in groups and k not in off]
    tags = {RANGE_START: first.isoformat(), RANGE_END: last.isoformat(), **LAUNCHED_BY}
    outcome = execute(defs, "sources_job", keys, tags, "INFO")  # INFO carries the per-week progress lines
    outcome.skipped = {k.to_user_string(): reason for k, reason in off.items() if graph.get(k).group_name in groups}
    return outcome


def run_models(
    defs: dg.Definitions, failed: set[dg.AssetKey] = frozenset(), window: tuple[date, date] | None = None
) -> Outcome:
    """Build the dbt models for the window's days (their partition range; one run, one dbt build), leaving
    out those downstream of an asset that just failed. Its tag keeps the automation from building them again."""
    graph = defs.resolve_asset_graph()
    models = dg.AssetSelection.groups(*MODEL_GROUPS).resolve(graph)
    if failed:
        models -= dg.AssetSelection.assets(*failed).downstream().resolve(graph)
    tags = dict(LAUNCHED_BY)
    if window:
        tags.update({RANGE_START: window[0].isoformat(), RANGE_END: window[1].isoformat()})
    return execute(defs, "models_job", sorted(models), tags, "WARNING")
