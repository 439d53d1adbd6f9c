"""The warehouse's own raw tables, and every raw table there is.

Each source declares its landing tables in its folder (`defs/<source>/tables.py`, named by its `Source`);
only the tables no one source owns live here: the rejects every loader keeps and the cursors kept between
runs. `all_raw_tables()` asks the sources, so a source added in a folder (or in a package named in
GLAME_SOURCE_PACKAGES) has its tables created before dbt reads them without any list here changing.
"""

from __future__ import annotations

from glame_pipelines.sources import all_sources
from glame_pipelines.warehouse.loader import Column, RawTable


def columns(spec: str) -> tuple[Column, ...]:
    """'name type, name type' -> columns (descriptions live in the dbt sources)."""
    return tuple(Column(*part.split()) for part in spec.split(", "))


LOAD_REJECTS = RawTable(
    "load_rejects",
    (
        Column("source", "text", "Asset key of the load."),
        Column("partition", "text", "Partition (or file) the record came from."),
        Column("record_no", "integer", "Position of the record in the source's answer or file line."),
        Column("reason", "text", "Why it was not loaded."),
    ),
    ("source", "partition", "record_no"),
    "Records that could not be loaded, kept with the reason.",
)
SOURCE_STATE = RawTable("source_state", columns("name text"), ("name",), "Cursors kept between runs (payload).")

WAREHOUSE_TABLES = (LOAD_REJECTS, SOURCE_STATE)


def all_raw_tables() -> list[RawTable]:
    """Every landing table, so dbt's sources exist even for a source that never loaded: the warehouse's
    own, then each source's in the sources' order."""
    tables = [*WAREHOUSE_TABLES, *(table for source in all_sources().values() for table in source.tables)]
    names = [table.name for table in tables]
    if len(names) != len(set(names)):
        raise ValueError(f"two raw tables share a name: {sorted({n for n in names if names.count(n) > 1})}")
    return tables
