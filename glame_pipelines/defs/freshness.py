"""The one freshness policy: every source that loads on a schedule is stale after GLAME_FRESHNESS_DAYS
(default 2) days without a load, warned a day before. dbt's sources declare none: Dagster owns freshness."""

import os
import warnings
from datetime import timedelta

import dagster as dg

from glame_pipelines.sources import all_sources, turned_off_assets

FRESHNESS_DAYS_ENV = "GLAME_FRESHNESS_DAYS"


def freshness_days(env=None) -> int:
    """Days without a load before a source is stale (`glame status` and the assets' policy agree)."""
    env = os.environ if env is None else env
    return int(env.get(FRESHNESS_DAYS_ENV) or 2)


def freshness_policy() -> dg.FreshnessPolicy:
    days = freshness_days()
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(days=days), warn_window=timedelta(days=max(days - 1, 1))
    )


def with_freshness(defs: dg.Definitions) -> dg.Definitions:
    """The policy on every asset of a source that declares freshness, except assets turned off (never loaded)."""
    policy = freshness_policy()
    groups = [s.name for s in all_sources().values() if s.freshness]
    selection = dg.AssetSelection.groups(*groups) - dg.AssetSelection.assets(*turned_off_assets())
    with warnings.catch_warnings():  # map_resolved_asset_specs is "preview" in this version; it is what we need
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_resolved_asset_specs(
            func=lambda spec: spec.replace_attributes(freshness_policy=policy), selection=selection
        )
