"""Runs, compute logs and dbt build folders are pruned after their retention, so a year of sensors does not grow
the instance or the disk."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from glame_pipelines.defs.housekeeping import prune_dbt_invocations, prune_files, prune_runs
from glame_pipelines.warehouse.connection import sqlalchemy_url


@dg.asset
def small():
    return 1


def test_old_runs_are_deleted_and_recent_ones_kept(warehouse_url):
    with dg.instance_for_test(
        overrides={"storage": {"postgres": {"postgres_url": sqlalchemy_url(warehouse_url)}}}
    ) as inst:
        old = dg.materialize([small], instance=inst).run_id
        assert prune_runs(inst, datetime.now(UTC) - timedelta(days=1)) == 0
        assert inst.get_run_by_id(old) is not None
        assert prune_runs(inst, datetime.now(UTC) + timedelta(seconds=1), batch=1) == 1
        assert inst.get_run_by_id(old) is None and inst.all_logs(old) == []


def test_compute_logs_older_than_the_limit_are_removed(tmp_path):
    old, new = tmp_path / "run1" / "step.out", tmp_path / "run2" / "step.out"
    for path in (old, new):
        path.parent.mkdir()
        path.write_text("log")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    assert prune_files(tmp_path, 7 * 86400) == 1
    assert not old.exists() and not old.parent.exists() and new.exists()


def test_dbt_build_folders_older_than_the_limit_are_removed_and_the_projects_files_kept(tmp_path):
    """dagster-dbt makes a target folder per build; old ones go, recent ones and the project's own files stay."""
    old, recent = tmp_path / "glame_dbt_models-297628f-318f8a0", tmp_path / "glame_dbt_models-b9c9a40-c7e8561"
    own = tmp_path / "compiled"  # `dbt parse`'s, the project's
    for folder in (old, recent, own):
        (folder / "run").mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
    (tmp_path / "partial_parse.msgpack").write_bytes(b"state")
    ten_days_ago = time.time() - 10 * 86400
    for path in (old, old / "manifest.json", old / "run", own, own / "manifest.json"):
        os.utime(path, (ten_days_ago, ten_days_ago))
    assert prune_dbt_invocations(tmp_path, 7 * 86400) == 1
    assert not old.exists() and recent.exists() and own.exists() and (tmp_path / "partial_parse.msgpack").exists()
    assert prune_dbt_invocations(tmp_path / "missing", 7 * 86400) == 0
