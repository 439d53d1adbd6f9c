"""The Superset dashboards as Dagster assets (kind `superset`), downstream of the marts they read, so the
lineage runs from each API to each dashboard. Superset reads the marts live: these assets are not
materialised by Dagster; their dependencies come from bi/assets (glame_pipelines.bi.catalog)."""

from __future__ import annotations

import dagster as dg

from glame_pipelines.bi.catalog import dashboards


def dashboard_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key=["superset", dashboard.slug],
            deps=[dg.AssetKey(["marts", mart]) for mart in dashboard.marts],
            kinds={"superset"},
            group_name="dashboards",
            description=f"Superset dashboard «{dashboard.title}»: {', '.join(dashboard.charts)}.",
            metadata={
                "dashboard_title": dashboard.title,
                "url_path": f"/superset/dashboard/{dashboard.slug}/",
                "charts": len(dashboard.charts),
            },
        )
        for dashboard in dashboards()
    ]


@dg.definitions
def dashboards_definitions() -> dg.Definitions:
    return dg.Definitions(assets=dashboard_specs())
