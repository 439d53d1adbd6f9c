"""The people counters' raw tables: visits per file line, the files seen, the lines rejected."""

from __future__ import annotations

from glame_pipelines.warehouse.loader import RawTable
from glame_pipelines.warehouse.tables import columns

FTP_COUNTER_VISITS = RawTable(
    "ftp_counter_visits",
    columns(
        "store_folder text, file_path text, line_no integer, visit_date date, period_start timestamp, "
        "period_end timestamp, entries integer, exits integer, counter_format text, device text"
    ),
    ("store_folder", "file_path", "line_no"),
    "People-counter rows per file; a file replaces its store's rows for the days it covers.",
)

FTP_COUNTER_FILES = RawTable(
    "ftp_counter_files",
    columns(
        "file_path text, store_folder text, size bigint, modified text, counter_format text, rows integer, "
        "rejects integer, status text"
    ),
    ("file_path",),
    "Every counter file seen, with how it loaded.",
)

FTP_COUNTER_REJECTS = RawTable(
    "ftp_counter_rejects",
    columns("file_path text, line_no integer, raw_text text, reason text"),
    ("file_path", "line_no"),
    "Counter-file lines that did not parse, with the reason.",
)

TABLES = (FTP_COUNTER_VISITS, FTP_COUNTER_FILES, FTP_COUNTER_REJECTS)
