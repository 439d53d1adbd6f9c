"""What both ingestion runners share (ours in bench/ingest.py, dlt's in bench/dlt_peer.py): the command line, so the
two are always driven the same way, and how each measures its memory. Plain Python: imported from both
virtualenvs."""

from __future__ import annotations

import argparse
from pathlib import Path


def ingest_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the bench server (bench/onec_server.py)")
    parser.add_argument("--warehouse", required=True, help="Postgres URL of the database to load into")
    parser.add_argument("--page-size", type=int, default=5000)
    return parser.parse_args()


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    from the parent through fork and exec, so a runner started by bench/run.py (which has imported dagster)
    reported at least the parent's size, whatever it used itself."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
