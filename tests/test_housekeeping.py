"""Runs and compute logs are pruned after their retention, so a year of sensors does not grow the instance."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from glame_pipelines.defs.housekeeping import prune_files, prune_runs
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
