"""The throwaway source's raw table, declared in its folder like every source's."""

from glame_pipelines.warehouse.loader import Column, RawTable

WILDBERRIES_ORDERS = RawTable(
    "wildberries_orders",
    (
        Column("seller_id", "text", "The seller."),
        Column("date", "date", "Moscow day."),
        Column("orders", "integer", "Orders that day."),
    ),
    ("seller_id", "date"),
    "Orders per day of a Wildberries seller.",
)

TABLES = (WILDBERRIES_ORDERS,)
