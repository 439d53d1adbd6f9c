"""People-counter files from FTP: one dynamic partition per file, loaded as soon as the sensor sees it."""

import csv
from datetime import timedelta

import dagster as dg

from glame_pipelines.clients.counter_files import CounterFileError, ParsedFile, days_of, file_day, parse
from glame_pipelines.defs.dbt.project import DBT_PROJECT_DIR
from glame_pipelines.defs.ftp_counters.resources import FtpResource
from glame_pipelines.defs.ftp_counters.source import SOURCE
from glame_pipelines.defs.shared import WarehouseResource, moscow_today, reported_as_failure
from glame_pipelines.warehouse.loader import Window, load, table_exists
from glame_pipelines.warehouse.tables import FTP_COUNTER_FILES, FTP_COUNTER_REJECTS, FTP_COUNTER_VISITS

GROUP, LABEL = SOURCE.name, SOURCE.label
STORE_MAPPING = DBT_PROJECT_DIR / "seeds" / "store_mapping.csv"
counter_files = dg.DynamicPartitionsDefinition(name="ftp_counter_files")


def store_mapping() -> dict[str, dict]:
    """The one store mapping (a dbt seed): counter folder -> 1C store, display name, city."""
    with STORE_MAPPING.open(encoding="utf-8") as handle:
        return {row["counter_folder"]: row for row in csv.DictReader(handle)}


def visit_rows(path: str, parsed: ParsedFile) -> list[tuple]:
    store = path.split("/", 1)[0] if "/" in path else ""
    return [
        (
            store,
            path,
            r.line_no,
            r.visit_date,
            r.period_start,
            r.period_end,
            r.entries,
            r.exits,
            parsed.format,
            parsed.device,
            {"extra": r.extra, "device": parsed.device},
        )
        for r in parsed.rows
    ]


def load_counter_file(context, conn, path: str, content: bytes, signature: tuple[int, str]) -> dict:
    """Replace the store's rows for the days the file covers; keep rejected lines with their reason."""
    store = path.split("/", 1)[0] if "/" in path else ""
    try:
        parsed = parse(path, content)
    except CounterFileError as error:
        _record(context, conn, path, store, signature, None, 0, [(path, 0, "", str(error), {})], "rejected")
        raise dg.Failure(description=f"{LABEL}: {path} rejected: {error}", allow_retries=False) from None
    rows = visit_rows(path, parsed)
    rejects = [(path, r.line_no, r.raw_text, r.reason, {}) for r in parsed.rejects]
    if not rows:
        _record(context, conn, path, store, signature, parsed.format, 0, rejects, "no valid row")
        reasons = "; ".join(f"line {r[1]}: {r[3]}" for r in rejects[:3]) or "the file is empty"
        raise dg.Failure(description=f"{LABEL}: {path} has no valid row ({reasons})", allow_retries=False)
    days = days_of(parsed, file_day(path))
    with conn.transaction():
        load(
            conn,
            FTP_COUNTER_VISITS,
            rows,
            run_id=context.run_id,
            window=Window("store_folder = %s and visit_date = any(%s)", (store, days), f"{store}:{days[0]}"),
        )
        _record(context, conn, path, store, signature, parsed.format, len(rows), rejects, "loaded")
    return {
        "rows": len(rows),
        "rejected_lines": len(rejects),
        "days": [d.isoformat() for d in days],
        "format": parsed.format,
        "store": store,
    }


def _record(context, conn, path, store, signature, fmt, rows, rejects, status) -> None:
    load(conn, FTP_COUNTER_REJECTS, rejects, run_id=context.run_id, window=Window("file_path = %s", (path,), path))
    load(
        conn,
        FTP_COUNTER_FILES,
        [(path, store, signature[0], signature[1], fmt, rows, len(rejects), status, {"status": status})],
        run_id=context.run_id,
    )


@dg.asset(
    key_prefix=GROUP,
    group_name=GROUP,
    partitions_def=counter_files,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"ftp", "postgres"},
    metadata={"table": "raw.ftp_counter_visits"},
)
def visits(context: dg.AssetExecutionContext, ftp_counters: FtpResource, warehouse: WarehouseResource):
    """Visitors in and out per counter file (partition = `STORE/YYMMDD.txt`). A corrected re-upload of a
    day replaces that store's rows for that day; malformed lines go to raw.ftp_counter_rejects."""
    mapping = store_mapping()
    loaded, failures = {}, []
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = ftp_counters.client()
        listing = {f.path: f for f in client.list_files()}
        for path in context.partition_keys:
            remote = listing.get(path)
            if remote is None:  # archived or removed since: what was loaded from it stays
                context.log.warning(f"{LABEL}: {path} is no longer on the server; its loaded rows are kept")
                continue
            try:
                loaded[path] = load_counter_file(context, conn, path, client.read(path), (remote.size, remote.modified))
            except dg.Failure as failure:
                failures.append(failure.description)
                continue
            if remote.store_folder not in mapping:
                context.log.warning(
                    f"{LABEL}: folder {remote.store_folder!r} is not in the store mapping "
                    "(dbt_project/seeds/store_mapping.csv); loaded and flagged"
                )
            if ftp_counters.archive_directory:
                client.archive(path, ftp_counters.archive_directory)
    if failures:
        raise dg.Failure(description="; ".join(failures), metadata={"loaded_files": len(loaded)}, allow_retries=False)
    rows = sum(item["rows"] for item in loaded.values())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "files": len(loaded),
            "unknown_folders": sorted({p.split("/")[0] for p in loaded} - set(mapping)),
            "rejected_lines": sum(item["rejected_lines"] for item in loaded.values()),
        }
    )


@dg.asset_check(asset=visits, name="every_store_day_has_a_file", blocking=False)
def every_store_day_has_a_file(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Store-days of the last week with no counter file: the conversion of those days would be wrong."""
    stores = [s for s, row in store_mapping().items() if row.get("has_counter", "true").lower() == "true"]
    days = [moscow_today() - timedelta(n) for n in range(7, 0, -1)]
    with warehouse.connect() as conn:
        present = (
            set(
                conn.execute(
                    "select store_folder, visit_date from raw.ftp_counter_visits where visit_date between %s and %s "
                    "group by 1, 2",
                    (days[0], days[-1]),
                ).fetchall()
            )
            if table_exists(conn, FTP_COUNTER_VISITS)
            else set()
        )
    missing = [f"{store} {day}" for store in stores for day in days if (store, day) not in present]
    return dg.AssetCheckResult(
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"missing_store_days": missing[:50], "missing": len(missing)},
    )


ftp_counter_assets = [visits]
ftp_counter_checks = [every_store_day_has_a_file]
