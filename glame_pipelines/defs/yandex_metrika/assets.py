"""Yandex.Metrika assets: traffic by source and demographics per Moscow day, the last days re-pulled."""

from datetime import date, timedelta

import dagster as dg

from glame_pipelines.clients.metrika import (
    DEMOGRAPHIC_DIMENSIONS,
    DEMOGRAPHIC_METRICS,
    ECOMMERCE_METRICS,
    TRAFFIC_DIMENSIONS,
    TRAFFIC_METRICS,
    MetrikaBadRequest,
    MetrikaClient,
    ReportRow,
)
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.loads import count_rows, load_day, raw_table_asset
from glame_pipelines.defs.partitions import partition_days
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.defs.yandex_metrika.resources import MetrikaResource
from glame_pipelines.defs.yandex_metrika.source import SOURCE
from glame_pipelines.defs.yandex_metrika.tables import YANDEX_METRIKA_DEMOGRAPHICS, YANDEX_METRIKA_TRAFFIC

GROUP, LABEL = SOURCE.name, SOURCE.label
POOL = SOURCE.pool_name()  # one per counter, named from the configuration the definitions load with
SAMPLED = -3  # rows end with (sampled, sample_share, payload)


def days_with_lookback(context: dg.AssetExecutionContext, lookback: int) -> list[date]:
    """The run's days plus the `lookback` days before them: sessions close, and Metrika recounts, late."""
    days = partition_days(context)
    return [days[0] - timedelta(n) for n in range(lookback, 0, -1)] + days


def traffic_rows(client: MetrikaClient, counter_id: str, day: date, log) -> list[tuple]:
    try:
        rows = client.report(counter_id, day, day, TRAFFIC_METRICS + ECOMMERCE_METRICS, TRAFFIC_DIMENSIONS)
    except MetrikaBadRequest as error:  # a counter without e-commerce refuses those metrics
        log.info(f"{LABEL}: e-commerce metrics unavailable ({error}); loading traffic without them")
        rows = client.report(counter_id, day, day, TRAFFIC_METRICS, TRAFFIC_DIMENSIONS)
    return [_traffic_row(counter_id, day, row) for row in rows]


def _traffic_row(counter_id: str, day: date, row: ReportRow) -> tuple:
    m = row.metrics
    return (
        counter_id,
        day,
        row.dimensions["ym:s:lastTrafficSource"] or "(not set)",
        m["ym:s:visits"],
        m["ym:s:users"],
        m["ym:s:newUsers"],
        m["ym:s:pageviews"],
        m["ym:s:bounceRate"],
        m["ym:s:pageDepth"],
        m["ym:s:avgVisitDurationSeconds"],
        m.get("ym:s:ecommercePurchases"),
        m.get("ym:s:ecommerceRevenue"),
        row.sampled,
        row.sample_share,
        {"dimensions": row.dimensions, "metrics": m, "sampled": row.sampled, "sample_share": row.sample_share},
    )


def demographic_rows(client: MetrikaClient, counter_id: str, day: date) -> list[tuple]:
    rows = client.report(counter_id, day, day, DEMOGRAPHIC_METRICS, DEMOGRAPHIC_DIMENSIONS)
    return [
        (
            counter_id,
            day,
            r.dimensions["ym:s:gender"] or "(not set)",
            r.dimensions["ym:s:ageInterval"] or "(not set)",
            r.metrics["ym:s:visits"],
            r.metrics["ym:s:users"],
            r.sampled,
            r.sample_share,
            {"dimensions": r.dimensions, "metrics": r.metrics},
        )
        for r in rows
    ]


def _load(context, metrika: MetrikaResource, warehouse: WarehouseResource, table, fetch) -> dg.MaterializeResult:
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = metrika.client()
        days = days_with_lookback(context, metrika.lookback_days)
        sampled_days = []
        for day in days:
            rows = fetch(client, metrika.counter_id, day)
            if any(row[SAMPLED] for row in rows):
                sampled_days.append(day.isoformat())
            load_day(context, conn, table, day, rows, counter_id=metrika.counter_id)
        if sampled_days:
            context.log.warning(
                f"{LABEL}: data for {', '.join(sampled_days)} is sampled despite accuracy=full; "
                "the rows carry sample_share"
            )
        rows = count_rows(
            conn, table, "counter_id = %s and date between %s and %s", (metrika.counter_id, days[0], days[-1])
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "days": len(days),
                "sampled_days": len(sampled_days),
                "table": f"raw.{table.name}",
            }
        )


@raw_table_asset(GROUP, YANDEX_METRIKA_TRAFFIC, "api", daily=True, pool=POOL)
def traffic(context: dg.AssetExecutionContext, yandex_metrika: MetrikaResource, warehouse: WarehouseResource):
    """Visits, users, new users, pageviews, bounce rate, depth, duration and e-commerce by day and last
    traffic source. Each run also re-pulls the days before its window (YANDEX_METRIKA_LOOKBACK_DAYS)."""
    log = context.log

    def fetch(client, counter_id, day):
        return traffic_rows(client, counter_id, day, log)

    return _load(context, yandex_metrika, warehouse, YANDEX_METRIKA_TRAFFIC, fetch)


@raw_table_asset(GROUP, YANDEX_METRIKA_DEMOGRAPHICS, "api", daily=True, pool=POOL)
def demographics(context: dg.AssetExecutionContext, yandex_metrika: MetrikaResource, warehouse: WarehouseResource):
    """Visits and users by gender and age interval, per day."""
    return _load(context, yandex_metrika, warehouse, YANDEX_METRIKA_DEMOGRAPHICS, demographic_rows)


yandex_metrika_assets = [traffic, demographics]
