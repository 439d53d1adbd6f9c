"""The warehouse as a Dagster resource: the Postgres every raw table lands in and dbt builds from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
from pydantic import Field

from glame_pipelines.warehouse.connection import WAREHOUSE_URL_ENV, WarehouseNotConfigured, connect


class WarehouseResource(dg.ConfigurableResource):
    """The Postgres warehouse the raw tables land in."""

    url: str | None = Field(default=None, description=f"Postgres URL, from {WAREHOUSE_URL_ENV}.")

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        if not self.url:
            raise WarehouseNotConfigured(f"{WAREHOUSE_URL_ENV} is not set: `glame run` sets it, or export it.")
        with connect(self.url, autocommit=True) as conn:  # each load commits its own transaction
            yield conn
