"""1C ingestion of this checkout against another commit's, side by side on one machine.

Machines differ by more than a regression, and on a shared 2-core machine one wall time varies by ±15%, so
a figure is compared with the same load by another commit run here, alternated: `git worktree add
/tmp/other <commit>`, then `GLAME_TEST_DATABASE_URL=… .venv/bin/python bench/ingest_side_by_side.py
/tmp/other --rows 1000000 --rounds 6`. Each trial is this checkout's bench/ingest.py (one day from one bench
server into an emptied raw.onec_sales) with the package of the checkout under test first on PYTHONPATH; the
order alternates each round. Prints rows/s and the ingesting process's CPU µs a row (its own work, which the
bench server's and Postgres's share of the cores does not move as much as the wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import BenchServer, configured_server, drop_db, fresh_db, reset_table  # noqa: E402


def trial(checkout: Path, server_url: str, warehouse: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest.py"), "--url", server_url, "--warehouse", warehouse],
        capture_output=True,
        text=True,
        check=True,
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="a worktree of the commit to compare with")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    base = configured_server()
    if not base:
        sys.exit("set GLAME_TEST_DATABASE_URL (or GLAME_WAREHOUSE_URL) to the Postgres server to load into")
    checkouts = {"this": ROOT, "other": args.other.resolve()}
    results: dict[str, list[dict]] = {name: [] for name in checkouts}
    warehouse, server = fresh_db(base), BenchServer(args.rows)
    try:
        for round_ in range(args.rounds):
            order = list(checkouts) if round_ % 2 == 0 else list(reversed(checkouts))
            for name in order:
                reset_table(warehouse)
                result = trial(checkouts[name], server.url, warehouse)
                assert result["rows"] == args.rows == result["inserted"], result
                results[name].append(result)
                print(
                    f"round {round_ + 1} {name}: {args.rows / result['seconds']:,.0f} rows/s, "
                    f"CPU {result['cpu_seconds'] / args.rows * 1e6:.2f} µs a row",
                    flush=True,
                )
    finally:
        server.close()
        drop_db(base, warehouse)
    for name, runs in results.items():
        rates = [args.rows / r["seconds"] for r in runs]
        cpu = [r["cpu_seconds"] / args.rows * 1e6 for r in runs]
        print(
            f"{name} ({checkouts[name]}): median {statistics.median(rates):,.0f} rows/s, "
            f"median CPU {statistics.median(cpu):.2f} µs a row (each: {', '.join(f'{c:.2f}' for c in cpu)})"
        )


if __name__ == "__main__":
    main()
