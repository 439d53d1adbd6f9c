"""People-counter files from FTP: one dynamic partition per file, loaded as soon as the sensor sees it."""

import csv
from dataclasses import dataclass, field
from datetime import timedelta

import dagster as dg

from glame_pipelines.clients.counter_files import CounterFileError, ParsedFile, days_of, file_day, parse
from glame_pipelines.defs.dbt.project import DBT_PROJECT_DIR
from glame_pipelines.defs.failures import reported_as_failure
from glame_pipelines.defs.ftp_counters.resources import FtpResource
from glame_pipelines.defs.ftp_counters.source import SOURCE
from glame_pipelines.defs.ftp_counters.tables import FTP_COUNTER_FILES, FTP_COUNTER_REJECTS, FTP_COUNTER_VISITS
from glame_pipelines.defs.loads import raw_table_asset
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.settings import moscow_today
from glame_pipelines.warehouse.loader import Window, load, table_exists

GROUP, LABEL = SOURCE.name, SOURCE.label
STORE_MAPPING = DBT_PROJECT_DIR / "seeds" / "store_mapping.csv"
counter_files = dg.DynamicPartitionsDefinition(name="ftp_counter_files")
BATCH_FILES = 100  # files written per warehouse transaction


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


@dataclass
class CounterFile:
    """One file read and parsed, ready to be written: its visit rows, rejected lines and status row."""

    path: str
    store: str
    signature: tuple[int, str]
    format: str | None = None
    rows: list[tuple] = field(default_factory=list)
    rejects: list[tuple] = field(default_factory=list)
    days: list = field(default_factory=list)
    status: str = "loaded"
    failure: str | None = None  # why the file failed its run, naming it

    def status_row(self) -> tuple:
        return (
            self.path,
            self.store,
            self.signature[0],
            self.signature[1],
            self.format,
            len(self.rows),
            len(self.rejects),
            self.status,
            {"status": self.status},
        )

    def summary(self) -> dict:
        days = [d.isoformat() for d in self.days]
        return {"rows": len(self.rows), "rejected_lines": len(self.rejects), "days": days, "store": self.store}


def read_counter_file(path: str, content: bytes, signature: tuple[int, str]) -> CounterFile:
    """Parse a file; an unusable file, or one without a valid row, carries the failure that names it."""
    item = CounterFile(path, path.split("/", 1)[0] if "/" in path else "", signature)
    try:
        parsed = parse(path, content)
    except CounterFileError as error:
        item.rejects, item.status = [(path, 0, "", str(error), {})], "rejected"
        item.failure = f"{LABEL}: {path} rejected: {error}"
        return item
    item.format = parsed.format
    item.rejects = [(path, r.line_no, r.raw_text, r.reason, {}) for r in parsed.rejects]
    rows = visit_rows(path, parsed)
    if not rows:
        item.status = "no valid row"
        reasons = "; ".join(f"line {r[1]}: {r[3]}" for r in item.rejects[:3]) or "the file is empty"
        item.failure = f"{LABEL}: {path} has no valid row ({reasons})"
        return item
    item.rows, item.days = rows, days_of(parsed, file_day(path))
    return item


def latest_rows(files: list[CounterFile]) -> tuple[list[tuple], list[tuple[str, object]]]:
    """The visit rows a batch leaves, and the store-days it replaces. Loaded one by one, each file replaces
    its store's rows for its days, so where two files of a batch cover a store-day the later one wins."""
    owner: dict[tuple[str, object], str] = {}
    for item in files:
        for day in item.days:
            owner[(item.store, day)] = item.path
    rows = [row for item in files for row in item.rows if owner[(item.store, row[3])] == item.path]
    return rows, sorted(owner)


def load_counter_files(context, conn, files: list[CounterFile]) -> None:
    """Write a batch of files in one transaction, as loading them one by one would: each replaces its
    store's rows for the days it covers, its rejected lines and its status row. Three loads for a
    hundred files instead of three per file; a crash loses none of the batches already committed."""
    rows, store_days = latest_rows(files)
    paths = [item.path for item in files]
    with conn.transaction():
        if rows:
            window = Window(
                "(store_folder, visit_date) in (select * from unnest(%s::text[], %s::date[]))",
                ([s for s, _ in store_days], [d for _, d in store_days]),
                "counter files",  # every counter load takes this one lock: two never interleave
            )
            load(conn, FTP_COUNTER_VISITS, lambda: rows, run_id=context.run_id, window=window)
        rejects = [reject for item in files for reject in item.rejects]
        window = Window("file_path = any(%s)", (paths,), "counter files")
        load(conn, FTP_COUNTER_REJECTS, rejects, run_id=context.run_id, window=window)
        load(conn, FTP_COUNTER_FILES, [item.status_row() for item in files], run_id=context.run_id)


def after_load(context, session, item: CounterFile, mapping: dict, archive_directory: str) -> None:
    """A loaded file from a folder the store mapping lacks is flagged; with an archive folder it is moved."""
    if item.store not in mapping:
        context.log.warning(
            f"{LABEL}: folder {item.store!r} is not in the store mapping "
            "(dbt_project/seeds/store_mapping.csv); loaded and flagged"
        )
    if archive_directory:
        session.archive(item.path, archive_directory)


def batched(items: list, size: int) -> list[list]:
    return [items[n : n + size] for n in range(0, len(items), size)]


@raw_table_asset(
    GROUP,
    FTP_COUNTER_VISITS,
    "ftp",
    partitions_def=counter_files,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def visits(context: dg.AssetExecutionContext, ftp_counters: FtpResource, warehouse: WarehouseResource):
    """Visitors in and out per counter file (partition = `STORE/YYMMDD.txt`). A corrected re-upload of a
    day replaces that store's rows for that day; malformed lines go to raw.ftp_counter_rejects."""
    mapping = store_mapping()
    loaded, failures = {}, []
    with reported_as_failure(LABEL), warehouse.connect() as conn:
        client = ftp_counters.client()
        listing = {f.path: f for f in client.list_files()}
        present = []
        for path in context.partition_keys:
            if path not in listing:  # archived or removed since: what was loaded from it stays
                context.log.warning(f"{LABEL}: {path} is no longer on the server; its loaded rows are kept")
            else:
                present.append(listing[path])
        with client.session() as session:
            for batch in batched(present, BATCH_FILES):
                files = [read_counter_file(f.path, session.read(f.path), (f.size, f.modified)) for f in batch]
                load_counter_files(context, conn, files)
                failures += [item.failure for item in files if item.failure]
                for item in files:
                    if not item.failure:
                        loaded[item.path] = item.summary()
                        after_load(context, session, item, mapping, ftp_counters.archive_directory)
                context.log.info(f"{LABEL}: {len(loaded)} of {len(present)} files loaded")
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
