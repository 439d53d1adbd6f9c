"""The peer tool the brief compares against: dlt's REST API source with its Postgres destination in merge
mode, reading the same bench server as bench/ingest.py. Runs in its own virtualenv (bench/.venv-dlt, made
by `make bench`), because dlt's dependencies are not the project's. Prints rows, seconds and peak RSS.
`--warehouse` must name a host and a password, as dlt requires: bench/run.py's `dlt_warehouse` makes one."""

from __future__ import annotations

import json
import os
import tempfile
import time

os.environ.setdefault("SCHEMA__NAMING", "direct")  # keep 1C's Cyrillic field names, as our raw tables do
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")

import dlt
from dlt.sources.rest_api import rest_api_source
from ingest_args import ingest_arguments, peak_rss_mb


def source(url: str, page_size: int):
    return rest_api_source(
        {
            "client": {
                "base_url": url + "/onec/odata/standard.odata/",
                "auth": {"type": "http_basic", "username": "bench", "password": "bench"},
                "paginator": {
                    "type": "offset",
                    "limit": page_size,
                    "offset_param": "$skip",
                    "limit_param": "$top",
                    "total_path": None,
                },
            },
            "resource_defaults": {"primary_key": ["Recorder", "LineNumber"], "write_disposition": "merge"},
            "resources": [
                {
                    "name": "onec_sales",
                    "endpoint": {
                        "path": "AccumulationRegister_Продажи_RecordType",
                        "params": {
                            "$format": "json",
                            "$orderby": "Recorder,LineNumber",
                            "$filter": (
                                "Period ge datetime'2025-06-02T00:00:00' and Period lt datetime'2025-06-03T00:00:00'"
                            ),
                        },
                        "data_selector": "value",
                    },
                }
            ],
        }
    )


def main() -> None:
    args = ingest_arguments()
    with tempfile.TemporaryDirectory() as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name="glame_bench",
            pipelines_dir=pipelines_dir,
            dataset_name="dlt_bench",
            destination=dlt.destinations.postgres(credentials=args.warehouse),
        )
        started = time.perf_counter()
        pipeline.run(source(args.url, args.page_size))
        seconds = time.perf_counter() - started
        rows = pipeline.last_trace.last_normalize_info.row_counts.get("onec_sales", 0)
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
