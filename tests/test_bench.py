"""The bench's plumbing. Its figures come from `make bench`; `make bench-smoke` (in .ci/run) runs every step."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import psycopg

BENCH_RUN = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH_RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dlt_is_given_the_socket_directory_as_its_host(warehouse_url: str):
    """Regression: on the embedded default the dlt step failed with `ConfigFieldMissingException … host`, because
    pgserver's URL has its socket directory in `?host=` and dlt requires a host (and a password)."""
    with psycopg.connect(warehouse_url) as conn:
        socket_dir = conn.execute("show unix_socket_directories").fetchone()[0].split(",")[0].strip()
        dbname, port = conn.info.dbname, conn.info.port
    pgserver_form = f"postgresql://postgres:@/{dbname}?host={socket_dir}&port={port}"

    rebuilt = load_bench().dlt_warehouse(pgserver_form)

    assert rebuilt == f"postgresql://postgres:bench@{quote(socket_dir, safe='')}:{port}/{dbname}"
    with psycopg.connect(rebuilt) as conn:  # libpq reads the percent-encoded host as the socket directory
        assert (conn.info.host, conn.info.dbname) == (socket_dir, dbname)


def test_the_daily_bench_names_a_model_built_by_two_runs():
    """After one daily load the models must be built once: the serve bench reports any model two runs built."""
    serve_bench = load_bench().serve_bench
    sales, social, unified = (dg.AssetKey(["marts", name]) for name in ("sales_daily", "social_daily", "unified_daily"))
    assert serve_bench.built_more_than_once([{sales, social}, {unified}]) == "each built once"
    assert serve_bench.built_more_than_once([{sales, social}, {social, unified}]) == (
        "1 built more than once: marts/social_daily"
    )
