"""Instance housekeeping: Dagster keeps every run and every compute log forever unless told otherwise, and
dagster-dbt leaves a target folder per dbt build. Tick retention is in dagster.yaml; runs, compute-log files
and the builds' target folders are pruned here, daily."""

import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from glame_pipelines.defs.dbt.project import dbt_project
from glame_pipelines.settings import TIMEZONE

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def retention_days(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def prune_runs(instance: dg.DagsterInstance, older_than: datetime, batch: int = 500) -> int:
    """Delete finished runs (with their events) last updated before `older_than`."""
    deleted = 0
    while True:
        records = instance.get_run_records(
            filters=dg.RunsFilter(statuses=FINISHED, updated_before=older_than), limit=batch
        )
        for record in records:
            instance.delete_run(record.dagster_run.run_id)
        deleted += len(records)
        if len(records) < batch:
            return deleted


def prune_files(folder: Path, older_than_seconds: float) -> int:
    """Remove compute-log files older than the limit, then the folders left empty."""
    if not folder.is_dir():
        return 0
    cutoff, removed = time.time() - older_than_seconds, 0
    for path in folder.rglob("*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(path.iterdir()):
            path.rmdir()
    return removed


# dagster-dbt's folder for one invocation: `<op name>-<run id[:7]>-<random[:7]>` in the project's target folder
DBT_INVOCATION = re.compile(r"^[A-Za-z0-9_]+-[0-9a-f]{7}-[0-9a-f]{7}$")


def prune_dbt_invocations(target: Path, older_than_seconds: float) -> int:
    """Remove the target folders dagster-dbt made for builds older than the limit (2–3 MB each: the manifest,
    run results and compiled SQL of every node; a year of builds every few minutes would fill the disk). The
    project's own files there (its manifest, the parse state) are left alone."""
    if not target.is_dir():
        return 0
    cutoff, removed = time.time() - older_than_seconds, 0
    for folder in target.iterdir():
        if not folder.is_dir() or not DBT_INVOCATION.match(folder.name):
            continue
        if max(p.stat().st_mtime for p in (folder, *folder.iterdir())) < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


@dg.op
def prune_instance(context: dg.OpExecutionContext) -> dg.Output:
    """Runs older than GLAME_RUN_RETENTION_DAYS (default 90); compute logs and dbt builds' target folders
    older than GLAME_COMPUTE_LOG_RETENTION_DAYS (default 14)."""
    run_days = retention_days("GLAME_RUN_RETENTION_DAYS", 90)
    log_days = retention_days("GLAME_COMPUTE_LOG_RETENTION_DAYS", 14)
    runs = prune_runs(context.instance, datetime.now(UTC) - timedelta(days=run_days))
    logs_dir = os.environ.get("GLAME_DAGSTER_COMPUTE_LOGS")
    files = prune_files(Path(logs_dir), log_days * 86400) if logs_dir else 0
    # where dagster-dbt puts them: DBT_TARGET_PATH when set (absolute, or relative to the project), else target/
    target = dbt_project.project_dir / os.environ.get("DBT_TARGET_PATH", str(dbt_project.target_path))
    builds = prune_dbt_invocations(target, log_days * 86400)
    context.log.info(
        f"pruned {runs} runs older than {run_days} days, {files} compute-log files and {builds} dbt build "
        f"folders older than {log_days} days"
    )
    return dg.Output(
        None, metadata={"runs_deleted": runs, "log_files_deleted": files, "dbt_build_folders_deleted": builds}
    )


@dg.job(
    description="Delete old runs, compute logs and dbt build folders (retention in GLAME_RUN_RETENTION_DAYS, "
    "GLAME_COMPUTE_LOG_RETENTION_DAYS).",
    executor_def=dg.in_process_executor,
)
def instance_housekeeping_job():
    prune_instance()


instance_housekeeping_schedule = dg.ScheduleDefinition(
    name="instance_housekeeping_schedule",
    job=instance_housekeeping_job,
    cron_schedule="30 3 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: prune old runs, compute logs and dbt build folders so the instance does not grow "
    "without bound.",
)
