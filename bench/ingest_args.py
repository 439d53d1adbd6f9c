"""The command line both ingestion runners take (ours in bench/ingest.py, dlt's in bench/dlt_peer.py), so the
two are always driven the same way. Plain Python: it is imported from both virtualenvs."""

from __future__ import annotations

import argparse


def ingest_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the bench server (bench/onec_server.py)")
    parser.add_argument("--warehouse", required=True, help="Postgres URL of the database to load into")
    parser.add_argument("--page-size", type=int, default=5000)
    return parser.parse_args()
