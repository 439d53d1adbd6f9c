"""1C sales exports dropped in an inbox folder (or given to `glame import-sales`), loaded once per content."""

import json
from pathlib import Path

import dagster as dg
import psycopg

from glame_pipelines.clients.ftp import RemoteFile
from glame_pipelines.clients.sales_files import SalesFile, SalesFileError, read
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.ftp_counters.sensors import plan
from glame_pipelines.defs.loads import replace_rejects
from glame_pipelines.defs.onec_files.resources import InboxResource
from glame_pipelines.defs.onec_files.source import SOURCE
from glame_pipelines.defs.onec_files.tables import ONEC_SALES_FILE_MONTHS, ONEC_SALES_FILES
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.warehouse.loader import Rejects, Window, load, table_exists

GROUP = SOURCE.name


def import_sales_file(conn: psycopg.Connection, path: Path, run_id: str | None) -> tuple[SalesFile, bool]:
    """Load one file with the months and measures it carries (one transaction, so one load time: the
    newest file wins each month and measure in sales_monthly); a file whose content was loaded before
    adds nothing and keeps its first load time. Returns (file, newly loaded)."""
    sales = read(path)
    known = any(
        conn.execute(
            f"select exists (select 1 from raw.{table.name} where file_hash = %s)", (sales.content_hash,)
        ).fetchone()[0]
        for table in (ONEC_SALES_FILES, ONEC_SALES_FILE_MONTHS)
        if table_exists(conn, table)
    )
    if known:  # the same content under any name: already there, keep it as first loaded
        return sales, False
    rows = [
        (
            sales.content_hash,
            r.row_no,
            sales.name,
            sales.layout,
            r.period_start,
            r.period_end,
            r.product,
            r.unit,
            r.article,
            r.store,
            r.quantity,
            r.amount,
            r.raw,
        )
        for r in sales.rows
    ]
    months = [
        (
            sales.content_hash,
            month,
            sales.name,
            sales.layout,
            "quantity" in measures,
            "amount" in measures,
            {"measures": sorted(measures)},
        )
        for month, measures in sorted(sales.months.items())
    ]
    window = Window("file_hash = %s", (sales.content_hash,), sales.content_hash)
    with conn.transaction():
        load(conn, ONEC_SALES_FILES, rows, run_id=run_id, window=window)
        load(conn, ONEC_SALES_FILE_MONTHS, months, run_id=run_id, window=window)
        replace_rejects(conn, "onec_files/sales", sales.content_hash, Rejects(list(sales.rejects)), run_id)
    return sales, not known


@dg.multi_asset(
    name="sales",
    specs=[
        dg.AssetSpec(
            [GROUP, "sales"],
            group_name=GROUP,
            kinds={"file", "postgres"},
            description="Sales rows of every loaded 1C export, keyed by file content hash.",
            metadata={"table": "raw.onec_sales_files"},
        ),
        dg.AssetSpec(
            [GROUP, "file_months"],
            group_name=GROUP,
            kinds={"file", "postgres"},
            description="The months each loaded export covers and the measures it carries for them.",
            metadata={"table": "raw.onec_sales_file_months"},
        ),
    ],
)
def sales(context: dg.AssetExecutionContext, inbox: InboxResource, warehouse: WarehouseResource):
    """Every CSV, JSON, XLSX or XLS sales export in GLAME_INBOX_DIR (the Excel pivots by month included),
    keyed by content hash: the same file loaded twice adds nothing. Rows and months of a file are written
    together, so the two tables are one asset run."""
    loaded, failures = [], []
    with reported_as_failure(SOURCE.label), warehouse.connect() as conn:
        for path in inbox.files():
            try:
                sales_file, new = import_sales_file(conn, path, context.run_id)
            except (SalesFileError, ValueError) as error:
                failures.append(f"{path.name}: {error}")
                continue
            if new:
                loaded.append(path.name)
                context.log.info(
                    f"{path.name}: {len(sales_file.rows)} rows ({sales_file.layout}), "
                    f"{len(sales_file.rejects)} rejected, months {sorted(m.isoformat()[:7] for m in sales_file.months)}"
                )
        counts = {
            table: conn.execute(f"select count(*) from raw.{table.name}").fetchone()[0]
            if table_exists(conn, table)
            else 0
            for table in (ONEC_SALES_FILES, ONEC_SALES_FILE_MONTHS)
        }
    if failures:
        raise dg.Failure(description="; ".join(failures), allow_retries=False)
    yield dg.MaterializeResult(
        asset_key=[GROUP, "sales"], metadata={"dagster/row_count": counts[ONEC_SALES_FILES], "new_files": len(loaded)}
    )
    yield dg.MaterializeResult(
        asset_key=[GROUP, "file_months"], metadata={"dagster/row_count": counts[ONEC_SALES_FILE_MONTHS]}
    )


inbox_job = dg.define_asset_job(
    "sales_inbox_job", selection=[sales], description="Import the 1C sales files waiting in GLAME_INBOX_DIR."
)


@dg.sensor(job=inbox_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def sales_inbox_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource):
    """A new or changed file in the inbox triggers an import once it stopped growing between two polls."""
    if not inbox.directory:
        return dg.SkipReason("GLAME_INBOX_DIR is not set")
    listing = [RemoteFile(p.name, (st := p.stat()).st_size, str(int(st.st_mtime))) for p in inbox.files()]
    ready, cursor = plan(listing, json.loads(context.cursor) if context.cursor else {})
    run_key = "|".join(f"{f.path}:{f.size}:{f.modified}" for f in ready)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=run_key)] if ready else [],
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if ready else "no new file has settled in the inbox",
    )
