"""Orders per Moscow day of the throwaway Wildberries source: a daily-partitioned raw table."""

import dagster as dg

from glame_extra.defs.wildberries.source import SOURCE, WildberriesResource
from glame_extra.defs.wildberries.tables import WILDBERRIES_ORDERS
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.loads import load_day, raw_table_asset
from glame_pipelines.defs.partitions import partition_days
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.warehouse.loader import ensure_table


@raw_table_asset(SOURCE.name, WILDBERRIES_ORDERS, "api", daily=True)
def orders(context: dg.AssetExecutionContext, wildberries: WildberriesResource, warehouse: WarehouseResource):
    """One row per day: the day's number as its order count, so a test can check what was loaded."""
    with reported_as_failure(SOURCE.label), warehouse.connect() as conn:
        ensure_table(conn, WILDBERRIES_ORDERS)
        days = partition_days(context)
        for day in days:
            row = (wildberries.seller_id, day, day.day, {"date": day.isoformat()})
            load_day(context, conn, WILDBERRIES_ORDERS, day, [row], seller_id=wildberries.seller_id)
        return dg.MaterializeResult(metadata={"dagster/row_count": len(days)})
