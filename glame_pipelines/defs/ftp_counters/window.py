"""How `glame run` loads a window of counter files: each file dated in it becomes a dynamic partition, and
the files are loaded in one run over that range of partitions."""

from datetime import date

import dagster as dg

from glame_pipelines.clients.counter_files import CounterFileError, file_day
from glame_pipelines.clients.http import ApiError
from glame_pipelines.defs.ftp_counters import assets
from glame_pipelines.defs.ftp_counters.source import SOURCE
from glame_pipelines.orchestration import LAUNCHED_BY, Outcome, execute
from glame_pipelines.settings import RANGE_END, RANGE_START


def load_window(defs: dg.Definitions, first: date, last: date) -> Outcome:
    outcome = Outcome()
    client = SOURCE.resource_from_env().client()
    try:
        listing = client.list_files()
    except ApiError as error:  # e.g. a revoked password: this source fails, the others are unaffected
        outcome.failures["ftp_counters"] = f"FTP counters: {error}"
        outcome.failed_assets.add(assets.visits.key)
        return outcome
    paths = []
    for remote in listing:
        try:
            if first <= file_day(remote.path) <= last:
                paths.append(remote.path)
        except CounterFileError as error:
            outcome.failures[remote.path] = str(error)
    if not paths:
        return outcome
    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(assets.counter_files.name))
    instance.add_dynamic_partitions(assets.counter_files.name, [p for p in sorted(paths) if p not in known])
    ordered = instance.get_dynamic_partitions(assets.counter_files.name)
    positions = sorted(ordered.index(p) for p in paths)
    tags = {RANGE_START: ordered[positions[0]], RANGE_END: ordered[positions[-1]], **LAUNCHED_BY}
    result = execute(defs, "ftp_counter_files_job", [assets.visits.key], tags, "INFO")
    result.failures.update(outcome.failures)
    return result
