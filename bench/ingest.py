"""One measured ingestion: the real 1C client and loader, one day of the bench server into Postgres.
Prints rows, seconds, this process's CPU seconds (all its threads: the client's share of the work, which
the wall time mixes with the bench server's and Postgres's on the same cores) and its peak RSS as JSON."""

from __future__ import annotations

import json
import time
from datetime import date

import psycopg
from ingest_args import ingest_arguments, peak_rss_mb

from glame_pipelines.clients.onec import OnecClient, basic_token
from glame_pipelines.defs.onec.assets import REGISTERS, _day_window, register_reader
from glame_pipelines.warehouse.loader import Rejects, load

SALES = REGISTERS[0]


def main() -> None:
    args = ingest_arguments()
    client = OnecClient(
        args.url + "/onec/odata/standard.odata", basic_token("bench", "bench"), page_size=args.page_size
    )
    day = date(2025, 6, 2)
    started, cpu_started = time.perf_counter(), time.process_time()
    with psycopg.connect(args.warehouse, autocommit=True) as conn:
        read = register_reader(client, "AccumulationRegister_Продажи_RecordType", SALES, day, Rejects())
        result = load(conn, SALES.table, read, window=_day_window(SALES, day))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        json.dumps(
            {
                "rows": result.received,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "inserted": result.inserted,
                "updated": result.updated,
                "rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
