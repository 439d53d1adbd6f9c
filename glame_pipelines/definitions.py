"""The code location: everything under `defs/` (each source's folder declares itself), the sources'
resources bound to their variables, the freshness policy, and the executor chosen by configuration."""

import warnings
from pathlib import Path

import dagster as dg

from glame_pipelines.defs.dbt.automation import DAY_TAG
from glame_pipelines.defs.executors import executor_from_env
from glame_pipelines.defs.freshness import with_freshness
from glame_pipelines.defs.partitions import daily_partitions
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.sources import PROJECT_SOURCES, all_sources, env_fields, source_packages
from glame_pipelines.warehouse.connection import WAREHOUSE_URL_ENV


def resources() -> dict[str, dg.ConfigurableResource]:
    """The warehouse and each source's resource, bound to the variables set in this process's environment."""
    return {
        "warehouse": WarehouseResource(**env_fields(WarehouseResource, {"url": WAREHOUSE_URL_ENV})),
        **{source.resource_key: source.bound_resource() for source in all_sources().values()},
    }


def with_day_tags(defs: dg.Definitions) -> dg.Definitions:
    """Tags the assets partitioned by Moscow day, so the models' conditions tell a load of some days
    (those days are rebuilt) from a load of an asset without days (the latest day is)."""
    with warnings.catch_warnings():  # map_resolved_asset_specs is "preview" in this version
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_resolved_asset_specs(
            func=lambda spec: (
                spec.merge_attributes(tags=dict([DAY_TAG])) if spec.partitions_def == daily_partitions else spec
            )
        )


def defs_folder() -> dg.Definitions:
    """Everything under `defs/`, found as `dg.load_from_defs_folder` finds it, without what that adds for a
    project made of components: a catalogue of every installed component type for the UI (this project has
    none), read from the environment's plugins on every load, 0.27–0.62 s measured of each process that loads the
    definitions (code server, each run, each step's server)."""
    tree = dg.ComponentTree.for_project(path_within_project=Path(__file__).parent)
    with warnings.catch_warnings():  # as load_from_defs_folder: its module loaders are "preview" in this version
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return tree.build_defs(tree.defs_module_path)


def build_definitions() -> dg.Definitions:
    project = defs_folder()
    elsewhere = [dg.load_definitions_from_package_name(p) for p in source_packages() if p != PROJECT_SOURCES]
    settings = dg.Definitions(resources=resources(), executor=executor_from_env())
    return with_day_tags(with_freshness(dg.Definitions.merge(project, *elsewhere, settings)))


defs = build_definitions()
