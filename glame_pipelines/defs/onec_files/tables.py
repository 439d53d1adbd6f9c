"""The 1C sales files' raw tables: the rows of each file and the months it covers."""

from __future__ import annotations

from glame_pipelines.warehouse.loader import RawTable
from glame_pipelines.warehouse.tables import columns

ONEC_SALES_FILES = RawTable(
    "onec_sales_files",
    columns(
        "file_hash text, row_no integer, file_name text, layout text, period_start date, period_end date, "
        "product_name text, unit text, article text, store text, quantity numeric, amount numeric"
    ),
    ("file_hash", "row_no"),
    "Sales exported from 1C to files; a file is keyed by its content hash.",
)

ONEC_SALES_FILE_MONTHS = RawTable(
    "onec_sales_file_months",
    columns("file_hash text, month date, file_name text, layout text, has_quantity boolean, has_amount boolean"),
    ("file_hash", "month"),
    "The months each sales file covers and the measures it carries for them; "
    "_loaded_at orders the files for sales_monthly's overlap rule.",
)

TABLES = (ONEC_SALES_FILES, ONEC_SALES_FILE_MONTHS)
