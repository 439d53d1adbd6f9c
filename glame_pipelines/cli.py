"""`glame`: check sources, run them through Dagster, serve the sandbox, run the demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import psycopg

from glame_pipelines import orchestration
from glame_pipelines import serve as topology
from glame_pipelines.bi.command import bi
from glame_pipelines.clients.http import ApiError
from glame_pipelines.clients.sales_files import SalesFileError
from glame_pipelines.defs.dbt.manifest import ensure_manifest
from glame_pipelines.defs.digest import resources as digest_resources
from glame_pipelines.defs.onec_files.assets import import_sales_file
from glame_pipelines.digest.delivery import deliver
from glame_pipelines.digest.report import make_digest
from glame_pipelines.digest.text import readable
from glame_pipelines.runtime import WarehouseUnavailable, apply_pool_limits, prepare
from glame_pipelines.sandbox.build import build_sandbox
from glame_pipelines.sandbox.server import FaultPlan
from glame_pipelines.settings import history_start, moscow_today
from glame_pipelines.sources import CheckFailed, all_sources, resource_from_env
from glame_pipelines.status import main as print_status
from glame_pipelines.summary import print_summary
from glame_pipelines.warehouse.connection import PROJECT_ROOT, connect, stop_embedded

log = logging.getLogger("glame")


def load_dotenv(path: str = ".env") -> None:
    """Read a .env for `check`, `run` and `dev` without overriding what is exported (Dagster's own
    loader overrides, so `dev` runs Dagster from a folder without one)."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, _, value = line.partition("=")
            name, value = name.strip(), value.strip().strip("'\"")
            if name not in os.environ:  # an empty value is kept: for a 1C set it means "turned off"
                os.environ[name] = value


# --- check ----------------------------------------------------------------------------------------


def check(names: list[str]) -> int:
    """One cheap authenticated call per configured source (its folder's `check`); the reason and the
    remedy otherwise."""
    failed = 0
    for group in names:
        source = all_sources()[group]
        missing = source.missing()
        if missing:
            print(f"SKIP {group:15} not configured: set {', '.join(missing)}")
            continue
        try:
            detail = source.check(source.resource_from_env())
        except (ApiError, CheckFailed) as error:
            failed += 1
            print(f"FAIL {group:15} {error}")
        except Exception as error:
            failed += 1
            print(f"FAIL {group:15} {type(error).__name__}: {error}")
        else:
            print(f"OK   {group:15} {detail}")
    return 1 if failed else 0


# --- run ------------------------------------------------------------------------------------------


def parse_window(start: str | None, end: str | None) -> tuple[date, date]:
    """Inclusive Moscow days; default yesterday. Today is refused: its data is not complete."""
    yesterday = moscow_today() - timedelta(1)
    first = date.fromisoformat(start) if start else yesterday
    last = date.fromisoformat(end) if end else (first if start else yesterday)
    if last > yesterday:
        raise SystemExit(f"--end {last} is not over yet in Moscow; the latest complete day is {yesterday}")
    if first > last:
        raise SystemExit(f"--start {first} is after --end {last}")
    if first < date.fromisoformat(history_start()):
        raise SystemExit(f"--start {first} is before the partitions start ({history_start()}; GLAME_HISTORY_START)")
    return first, last


def run(start: str | None, end: str | None, only: list[str] | None, dbt: bool = True) -> int:
    """Materialise the configured sources for the window through Dagster, then the dbt models."""
    first, last = parse_window(start, end)
    os.environ.setdefault("GLAME_STEP_RETRIES", "0")  # at the terminal a failure is reported at once
    prepare()
    # the definitions read the environment prepare() completes (DAGSTER_HOME, the warehouse): loaded after it
    from glame_pipelines.definitions import defs

    sources = all_sources()
    names = only or list(sources)
    configured = [sources[n] for n in names if sources[n].is_configured()]
    status = 0
    for name in names:
        if not sources[name].is_configured():
            print(f"skipped {name}: not configured, set {', '.join(sources[name].missing())}")
            status = 1 if only else status
    print(
        f"Loading {', '.join(s.name for s in configured) or 'nothing'} for {first} … {last} "
        f"({(last - first).days + 1} days)"
    )
    outcomes = [orchestration.run_sources(defs, [s.name for s in configured if s.daily], first, last)]
    outcomes += [s.load_window(defs, first, last) for s in configured if not s.daily]
    failed = set()
    for outcome in outcomes:
        for line in outcome.report():
            print(line)
        status = status or (0 if outcome.success else 1)
        failed |= outcome.failed_assets
    if dbt:
        dbt_outcome = orchestration.run_models(defs, failed=failed, window=(first, last))
        for line in dbt_outcome.report():
            print(line)
        status = status or (0 if dbt_outcome.success else 1)
    return status


# --- sandbox and demo -----------------------------------------------------------------------------


def sandbox(args: argparse.Namespace) -> int:

    server, env = build_sandbox(port=args.port, faults=FaultPlan(rate=args.fault_rate, seed=args.seed))
    onec = server.api("onec")
    onec.quirks.reject_filter_on.update(args.reject_date_filter or [])
    onec.quirks.reject_orderby_on.update(args.reject_orderby or [])
    with server:
        print(f"Sandbox serving on {server.base_url}. To point the sources at it:")
        for name, value in env.items():
            print(f"  export {name}={value}")
        with contextlib.suppress(KeyboardInterrupt):
            server.http._thread.join()
    return 0


def demo(days: int) -> int:

    runtime = prepare()
    print(f"Warehouse: {'embedded Postgres in .glame/' if runtime.embedded else 'GLAME_WAREHOUSE_URL'}")
    server, env = build_sandbox()
    with server:
        print(f"Sandbox on {server.base_url}: every source of this demo points at it (demo data, not your APIs)")
        os.environ.update(env)
        yesterday = moscow_today() - timedelta(1)
        status = run(str(yesterday - timedelta(days - 1)), str(yesterday), None)

    print_summary(runtime.warehouse_url)
    print(f"\nMorning digest of {yesterday} (`glame digest --date {yesterday}`):\n")
    print_digest(runtime.warehouse_url, yesterday)
    if runtime.embedded:
        stop_embedded()  # started with cleanup_mode=None for Dagster's subprocesses: stop it ourselves
        print("\nThe embedded Postgres is stopped; `make dev` starts it again with this data.")
    return status


# --- digest ---------------------------------------------------------------------------------------


def print_digest(warehouse_url: str, day: date, html: bool = False) -> None:

    with connect(warehouse_url, autocommit=True) as conn:
        try:
            digest = make_digest(conn, day)
        except psycopg.errors.UndefinedTable:
            print("The marts are not built yet: `glame run` builds them.")
            return
    for part in digest.parts():
        print(part if html else readable(part), end="\n\n")


def digest(day: str | None, send: bool, html: bool) -> int:
    """Print the digest of a day from the marts; with --send, post it (again) and any alert not sent yet.
    Sources are judged from the marts alone here: a day without a source's data is named as missing."""

    the_day = date.fromisoformat(day) if day else moscow_today() - timedelta(1)
    runtime = prepare()
    if not send:
        print_digest(runtime.warehouse_url, the_day, html)
        return 0
    chat = resource_from_env(digest_resources.DigestChatResource, digest_resources.ENV)
    if chat.missing():
        print(f"not sent: set {', '.join(chat.missing())}")
        return 1
    with connect(runtime.warehouse_url, autocommit=True) as conn:
        result = make_digest(conn, the_day)
        sent = deliver(conn, chat.client(), chat.chat_id, result, force=True)
    for item in sent:
        print(f"sent {item.kind} {item.key or the_day} ({len(item.message_ids)} message(s))")
    if not sent:
        print("nothing sent")
    return 0


def import_sales(files: list[str]) -> int:
    """Load sales files straight into the warehouse (the same code as the inbox sensor's runs)."""

    runtime = prepare()
    status = 0
    with connect(runtime.warehouse_url, autocommit=True) as conn:
        for name in files:
            try:
                sales, new = import_sales_file(conn, Path(name), run_id="glame import-sales")
            except (OSError, SalesFileError, ValueError) as error:
                print(f"FAIL {name}: {error}")
                status = 1
                continue
            amounts = [r.amount for r in sales.rows if r.amount is not None]
            total = f"total {sum(amounts):,.2f}" if amounts else "no amounts (quantity only)"
            units = sum(r.quantity for r in sales.rows if r.quantity is not None)
            span = f", months {min(sales.months):%Y-%m}..{max(sales.months):%Y-%m}" if sales.months else ""
            verb = "loaded" if new else "already loaded (same content), nothing added"
            print(
                f"{'OK  ' if new else 'SAME'} {name}: {verb}; {len(sales.rows)} rows ({sales.layout}), "
                f"{len(sales.rejects)} rejected, {total}, {units:,} units{span}"
            )
    return status


def _stop_dagster_dev(process: subprocess.Popen) -> int:
    """Ctrl-C reached `dagster dev` too: let it stop its webserver, daemon and code servers (killed at once, as
    subprocess.run does, it would orphan them), and kill it only if it hangs."""
    try:
        process.wait(60)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        process.kill()
    return 0


def dev(port: int) -> int:
    """`dagster dev` on 127.0.0.1 with this project's instance, supervised so Ctrl-C or SIGTERM (also
    through `make dev`) stops it and everything it started, the embedded Postgres it started included."""

    runtime = prepare()
    ensure_manifest()
    settings = topology.ServeSettings.from_env()
    try:
        return topology.dev(port, PROJECT_ROOT / "workspace.yaml", settings.log_dir)
    finally:
        if runtime.embedded:
            stop_embedded()  # started with cleanup_mode=None: it would outlive the UI


def serve() -> int:
    """Dagster's production topology: code server (gRPC), webserver and daemon as separate processes."""

    prepare()
    ensure_manifest()
    for pool, limit in apply_pool_limits().items():
        print(f"pool {pool}: {limit} at a time")
    return topology.serve(topology.ServeSettings.from_env())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glame", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="one cheap authenticated call per configured source")
    sources = list(all_sources())
    p_check.add_argument("--only", nargs="+", choices=sources)
    p_run = sub.add_parser("run", help="load sources for a window through Dagster, then build the dbt models")
    p_run.add_argument("--start", help="first Moscow day (YYYY-MM-DD); default yesterday")
    p_run.add_argument("--end", help="last Moscow day, inclusive; default --start, or yesterday")
    p_run.add_argument(
        "--only", nargs="+", choices=sources, metavar="SOURCE", help=f"sources to load: {', '.join(sources)}"
    )
    p_run.add_argument("--no-dbt", action="store_true", help="load the raw tables only")
    p_sandbox = sub.add_parser("sandbox", help="serve the local API simulators")
    p_sandbox.add_argument("--port", type=int, default=8765)
    p_sandbox.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered with a fault")
    p_sandbox.add_argument("--seed", type=int, default=0, help="seed of the fault sequence")
    p_sandbox.add_argument(
        "--reject-date-filter",
        nargs="+",
        metavar="ENTITY_SET",
        help="1C sets that answer 400 to a filter on their date field",
    )
    p_sandbox.add_argument(
        "--reject-orderby", nargs="+", metavar="ENTITY_SET", help="1C sets that answer 400 to $orderby"
    )
    p_import = sub.add_parser("import-sales", help="load 1C sales files (CSV, JSON, XLSX, XLS, the monthly pivots)")
    p_import.add_argument("files", nargs="+")
    p_digest = sub.add_parser("digest", help="print the morning digest of a day; --send posts it to Telegram")
    p_digest.add_argument("--date", help="Moscow day (YYYY-MM-DD); default yesterday")
    p_digest.add_argument(
        "--send", action="store_true", help="send it to TELEGRAM_DIGEST_CHAT_ID, even if sent already"
    )
    p_digest.add_argument("--html", action="store_true", help="print the HTML as sent, not the plain text")
    p_dev = sub.add_parser("dev", help="the Dagster UI on 127.0.0.1")
    p_dev.add_argument("--port", type=int, default=3000)
    sub.add_parser("serve", help="production: code server, webserver (GLAME_UI_HOST:GLAME_UI_PORT) and daemon")
    p_status = sub.add_parser(
        "status", help="per source: last load, freshness, failures, queue; exit 1 unless all is well"
    )
    p_status.add_argument("--json", action="store_true", help="one JSON document for monitoring systems")
    p_demo = sub.add_parser("demo", help="embedded Postgres + sandbox + run + summary")
    p_demo.add_argument("--days", type=int, default=30)
    p_bi = sub.add_parser("bi", help="Superset with the dashboards on 127.0.0.1 (GLAME_BI_PORT, default 8088)")
    p_bi.add_argument(
        "action",
        nargs="?",
        choices=["serve", "export"],
        default="serve",
        help="serve (default), or export the dashboards from Superset to bi/assets",
    )
    p_bi.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("dagster").propagate = False  # Dagster prints its own run log
    if args.command == "import-sales":
        load_dotenv()
        return import_sales(args.files)
    if args.command in ("check", "run", "dev", "digest", "serve", "status"):
        load_dotenv()
    if args.command == "digest":
        return digest(args.date, args.send, args.html)
    if args.command == "dev":
        return dev(args.port)
    if args.command == "serve":
        return serve()
    if args.command == "status":
        return print_status(as_json=args.json)
    if args.command == "check":
        return check(args.only or sources)
    if args.command == "run":
        return run(args.start, args.end, args.only, dbt=not args.no_dbt)
    if args.command == "sandbox":
        return sandbox(args)
    if args.command == "bi":
        return bi(args.action, args.port)
    return demo(args.days)


def entry_point() -> int:
    """`glame`: a warehouse that cannot be reached is a one-line error, not a traceback."""
    try:
        return main()
    except WarehouseUnavailable as error:
        print(f"glame: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(entry_point())
