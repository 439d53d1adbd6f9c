"""The FTP arrival sensor: a file is loaded once its size and time held still between two polls."""

import hashlib
import json
import os

import dagster as dg

from glame_pipelines.clients.ftp import RemoteFile
from glame_pipelines.defs.failures import step_retry_policy
from glame_pipelines.defs.ftp_counters import assets
from glame_pipelines.defs.ftp_counters.resources import FtpResource
from glame_pipelines.defs.ftp_counters.source import SOURCE
from glame_pipelines.settings import RANGE_END, RANGE_START, TIMEZONE

ftp_counter_files_job = dg.define_asset_job(
    "ftp_counter_files_job",
    selection=[assets.visits],
    description="Load people-counter files from FTP (one partition per file).",
    op_retry_policy=step_retry_policy(),
    # One step and its check, both short: a process per step re-imported the definitions twice per run
    # (30 s of the backlog's run on a loaded machine, and of each single file's minute).
    executor_def=dg.in_process_executor,
)


# At 30 s a file arriving just after a poll was ready 60 s later, loaded at ~75 s: over the minute promised.
POLL_SECONDS = 20


def plan(listing: list[RemoteFile], cursor: dict) -> tuple[list[RemoteFile], dict]:
    """Which files to load now, and the next cursor.

    A new or changed file (path + size + modification time) waits one poll; it is ready when the
    next poll sees the same size and time, so a file still being uploaded is never read half-written.
    """
    loaded: dict[str, list] = cursor.get("loaded", {})
    waiting: dict[str, list] = cursor.get("waiting", {})
    ready, still_waiting = [], {}
    for remote in listing:
        if loaded.get(remote.path) == remote.signature:
            continue
        if waiting.get(remote.path) == remote.signature:
            ready.append(remote)
        else:
            still_waiting[remote.path] = remote.signature
    loaded = {**loaded, **{f.path: f.signature for f in ready}}
    return ready, {"loaded": loaded, "waiting": still_waiting}


def batches(ready: list[RemoteFile], known: list[str]) -> list[list[RemoteFile]]:
    """Ready files grouped into runs over contiguous ranges of the dynamic partitions (the known ones,
    then the new ones in sorted order, as the sensor adds them): a backlog of a year of files is one run,
    not 1,095; a corrected re-upload of an old file is a run of its own."""
    ordering = list(known) + sorted({f.path for f in ready} - set(known))
    position = {path: n for n, path in enumerate(ordering)}
    groups: list[list[RemoteFile]] = []
    for remote in sorted(ready, key=lambda f: position[f.path]):
        if groups and position[remote.path] == position[groups[-1][-1].path] + 1:
            groups[-1].append(remote)
        else:
            groups.append([remote])
    return groups


def run_request(files: list[RemoteFile]) -> dg.RunRequest:
    """One file: its partition. Several: the range tags a single-run backfill uses (as `glame run` does)."""
    if len(files) == 1:
        f = files[0]
        return dg.RunRequest(
            run_key=f"{f.path}:{f.size}:{f.modified}", partition_key=f.path, asset_selection=[assets.visits.key]
        )
    digest = hashlib.sha256(json.dumps([[f.path, f.size, f.modified] for f in files]).encode()).hexdigest()[:16]
    return dg.RunRequest(
        run_key=f"{files[0].path}..{files[-1].path}:{len(files)}:{digest}",
        asset_selection=[assets.visits.key],  # named, so the models after it are those of the counters
        tags={RANGE_START: files[0].path, RANGE_END: files[-1].path, "glame/files": str(len(files))},
    )


@dg.sensor(
    job=ftp_counter_files_job,
    minimum_interval_seconds=int(os.environ.get("GLAME_FTP_POLL_SECONDS") or POLL_SECONDS),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def ftp_counter_files_sensor(context: dg.SensorEvaluationContext, ftp_counters: FtpResource):
    """Polls the store folders every GLAME_FTP_POLL_SECONDS (default 20): a new file is seen within one
    interval, ready at the next, and loaded ~15 s later (run queue, run process), under a minute in all;
    everything ready at once is one run, keyed by its files' signatures."""
    if not (ftp_counters.host and ftp_counters.user and ftp_counters.password):
        return dg.SkipReason(f"FTP counters are not configured: set {', '.join(SOURCE.missing())}")
    listing = ftp_counters.client().list_files()
    ready, cursor = plan(listing, json.loads(context.cursor) if context.cursor else {})
    known = context.instance.get_dynamic_partitions(assets.counter_files.name) if ready else []
    requests = [run_request(group) for group in batches(ready, known)]
    new = sorted({f.path for f in ready} - set(known))
    partitions = [assets.counter_files.build_add_request(new)] if new else []
    skip = None if ready else (f"{len(listing)} files, {len(cursor['waiting'])} waiting for a second look")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=partitions,
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=skip,
    )


counter_coverage_job = dg.define_asset_job(
    "counter_coverage_job",
    selection=dg.AssetSelection.checks(assets.every_store_day_has_a_file),
    description="Flag store-days of the last week without a counter file.",
)

counter_coverage_schedule = dg.ScheduleDefinition(
    name="counter_coverage_schedule",
    job=counter_coverage_job,
    cron_schedule="0 7 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily reconciliation: every counted store has a file for each day of the last week.",
)
