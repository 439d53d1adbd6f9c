"""`glame bi`: Superset over the marts, set up from the repository and served on 127.0.0.1.

Superset runs from its own virtualenv (`.venv-bi`, pinned in bi/requirements.txt) because its pins clash
with ours. This module (plain Python, our venv) prepares what it needs: the `superset` metadata database
and a read-only login role on the warehouse's server, the kept secrets, and the environment; then it runs
Superset's CLI and `superset_tasks.py` (inside .venv-bi) to upgrade, create the admin, import the
dashboards, and serve.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psutil
import psycopg
from psycopg import sql

from glame_pipelines.bi import catalog
from glame_pipelines.warehouse.connection import EMBEDDED_DIR, PROJECT_ROOT, ensure_database, sqlalchemy_url

log = logging.getLogger(__name__)

BI_DIR = PROJECT_ROOT / "bi"
ASSETS_DIR = BI_DIR / "assets"
VENV_BI = Path(os.environ.get("GLAME_BI_VENV", PROJECT_ROOT / ".venv-bi"))
TASKS = Path(__file__).with_name("superset_tasks.py")
RENDER = Path(__file__).with_name("render.py")
READER_ROLE = "glame_superset"  # the login Superset uses; a member of the read-only glame_bi role
BI_ROLE = "glame_bi"
ADMIN_USER = "admin"
DEFAULT_PORT = 8088
WATCH_SECONDS = 60  # how often a serving launcher looks for a models build that changed the marts


class BiError(RuntimeError):
    pass


@dataclass(frozen=True)
class BiSettings:
    """What a Superset process needs; secrets travel in its environment, never on its command line."""

    home: Path
    port: int
    metadata_url: str
    warehouse_url: str
    reader_url: str
    reader_password: str
    admin_password: str
    admin_password_file: Path | None
    secret_key: str

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FLASK_APP": "superset",
            "SUPERSET_CONFIG_PATH": str(BI_DIR / "superset_config.py"),
            "SUPERSET_HOME": str(self.home),
            "GLAME_BI_SECRET_KEY": self.secret_key,
            "GLAME_BI_METADATA_URL": self.metadata_url,
            "GLAME_BI_READER_URL": self.reader_url,
            "GLAME_BI_READER_PASSWORD": self.reader_password,
            "GLAME_BI_ADMIN_PASSWORD": self.admin_password,
            "PYTHONUNBUFFERED": "1",
        }


def kept_secret(path: Path, variable: str) -> tuple[str, Path | None]:
    """The variable's value, else a value generated once and kept in `path` (mode 0600)."""
    value = os.environ.get(variable)
    if value:
        return value, None
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), path
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value, path


def reader_url(warehouse_url: str, password: str) -> str:
    """The warehouse URL with the read-only login in place of the loader's user (SQLAlchemy form)."""
    parts = urlsplit(sqlalchemy_url(warehouse_url))
    host = parts.hostname or ""
    netloc = f"{READER_ROLE}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def ensure_reader_role(warehouse_url: str, password: str) -> None:
    """A login role in the read-only glame_bi role (select on marts only), read-only by default too."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for role, login in ((BI_ROLE, False), (READER_ROLE, True)):
            if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                conn.execute(
                    sql.SQL("create role {} {}").format(sql.Identifier(role), sql.SQL("login" if login else "nologin"))
                )
        conn.execute(
            sql.SQL("alter role {} with login password {}").format(sql.Identifier(READER_ROLE), sql.Literal(password))
        )
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(BI_ROLE), sql.Identifier(READER_ROLE)))
        conn.execute(
            sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(READER_ROLE))
        )
        conn.execute("create schema if not exists marts")
        conn.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(BI_ROLE)))
        conn.execute(sql.SQL("grant select on all tables in schema marts to {}").format(sql.Identifier(BI_ROLE)))


def settings(
    warehouse_url: str, port: int | None = None, home: Path | None = None, metadata_db: str | None = None
) -> BiSettings:
    """Metadata database, role and secrets for the warehouse at `warehouse_url` (created when missing).
    The metadata database is `superset` on the same server (GLAME_BI_METADATA_DB to name another)."""
    home = Path(home or EMBEDDED_DIR / "bi")
    home.mkdir(parents=True, exist_ok=True)
    metadata_db = metadata_db or os.environ.get("GLAME_BI_METADATA_DB", "superset")
    metadata_url = sqlalchemy_url(ensure_database(warehouse_url, metadata_db))
    reader_password, _ = kept_secret(home / "reader_password", "GLAME_BI_READER_PASSWORD")
    admin_password, admin_file = kept_secret(home / "admin_password", "GLAME_BI_ADMIN_PASSWORD")
    secret_key, _ = kept_secret(home / "secret_key", "GLAME_BI_SECRET_KEY")
    ensure_reader_role(warehouse_url, reader_password)
    return BiSettings(
        home=home,
        port=port or int(os.environ.get("GLAME_BI_PORT", DEFAULT_PORT)),
        metadata_url=metadata_url,
        warehouse_url=warehouse_url,
        reader_url=reader_url(warehouse_url, reader_password),
        reader_password=reader_password,
        admin_password=admin_password,
        admin_password_file=admin_file,
        secret_key=secret_key,
    )


def superset_bin() -> Path:
    path = VENV_BI / "bin" / "superset"
    if not path.exists():
        raise BiError(
            f"Superset is not installed in {VENV_BI}: run `make bi` (it creates .venv-bi from bi/requirements.txt)"
        )
    return path


def run_step(bi: BiSettings, label: str, command: list[str], timeout: int = 600) -> None:
    """One set-up step; its output is shown only when it fails (it is long and names no secret)."""
    started = time.monotonic()
    result = subprocess.run(command, env=bi.env(), cwd=bi.home, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise BiError(f"{label} failed (exit {result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    log.info("%s: %.1f s", label, time.monotonic() - started)


def set_up(bi: BiSettings, assets: Path = ASSETS_DIR) -> None:
    """Upgrade the metadata (`superset db upgrade`), sync roles (`superset init`), create the admin, register
    the warehouse, import the dashboards: one process, as each Superset start costs seconds. Idempotent:
    objects are keyed by the UUIDs in the YAML, so a re-run updates them in place."""
    superset_bin()
    run_step(bi, "Superset set-up", [str(VENV_BI / "bin" / "python"), str(TASKS), "setup", str(Path(assets).resolve())])
    clear_cache(bi)  # cached charts and lookups of the dashboards as they were before this import


def cache_dir(bi: BiSettings) -> Path:
    """Superset's file cache (bi/superset_config.py puts it under SUPERSET_HOME), shared by its workers."""
    return bi.home / "cache"


def clear_cache(bi: BiSettings) -> int:
    """Empty the cache, keeping its folders (a running Superset writes into them); returns files removed."""
    removed = 0
    for path in cache_dir(bi).rglob("*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def marts_signature(warehouse_url: str) -> tuple[str, int]:
    """Changes whenever a models build rewrites the marts: dbt replaces a table (a new oid) or writes rows into
    an incremental one (the tuple counters grow). Read from Postgres' statistics, so it costs one small query."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        oids, writes = conn.execute(
            "select coalesce(string_agg(relid::text, ',' order by relid), ''), "
            "coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint "
            "from pg_stat_user_tables where schemaname = 'marts'"
        ).fetchone()
    return oids, writes


def chromium_available() -> bool:
    """The warm-up drives the same headless Chromium as the tests (render.py); without it, no warm-up."""
    chromium = os.environ.get("GLAME_CHROMIUM", "/usr/bin/chromium")
    driver = os.environ.get("GLAME_CHROMEDRIVER", "/usr/bin/chromedriver")
    return all(Path(p).exists() or shutil.which(p) for p in (chromium, driver))


def warm(bi: BiSettings, slugs: list[str] | None = None, on_start=None) -> list[dict] | None:
    """Open every dashboard once in headless Chromium, as a reader would, so that each chart's default view
    is computed and cached before anyone asks: the cache keys are the browser's own requests, which no
    server-side replay reproduces. Returns render.py's report per dashboard, or None without Chromium."""
    if not chromium_available():
        log.info("Superset warm-up skipped: no headless Chromium (GLAME_CHROMIUM / GLAME_CHROMEDRIVER)")
        return None
    slugs = slugs or [d.slug for d in catalog.dashboards()]
    process = subprocess.Popen(
        [str(VENV_BI / "bin" / "python"), str(RENDER), f"http://127.0.0.1:{bi.port}", str(bi.home / "warm-up"), *slugs],
        env=bi.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its browser is stopped with it, whatever signal reached `glame bi`
    )
    if on_start:
        on_start(process)
    try:
        stdout, stderr = process.communicate(timeout=900)
    finally:
        stop_process_trees([(process, signal.SIGTERM)])
    if process.returncode != 0:
        raise BiError(f"warming the dashboards failed:\n{stderr[-3000:]}")
    return json.loads(stdout)


class CacheKeeper(threading.Thread):
    """While Superset serves: warm the dashboards once, then every WATCH_SECONDS compare the marts' signature
    and, when a models build changed them, empty the cache and warm again. So a chart is cached for a day
    yet never shows data older than the last build by more than WATCH_SECONDS plus one warm-up."""

    def __init__(self, bi: BiSettings, interval: float = WATCH_SECONDS):
        super().__init__(name="superset-cache-keeper", daemon=True)
        self.bi, self.interval, self.stopping = bi, interval, threading.Event()
        self.warming: subprocess.Popen | None = None

    def run(self) -> None:
        signature = None
        while not self.stopping.is_set():
            try:
                current = marts_signature(self.bi.warehouse_url)
                if current != signature:
                    if signature is not None:
                        log.info("the marts changed: emptied Superset's cache (%d files)", clear_cache(self.bi))
                    started = time.monotonic()
                    if warm(self.bi, on_start=self._warming) is not None:
                        log.info("warmed the dashboards in %.0f s", time.monotonic() - started)
                    signature = current
            except (BiError, OSError, psycopg.Error, subprocess.TimeoutExpired) as error:
                if not self.stopping.is_set():  # a warm-up cut short by the stop is no failure
                    log.warning("Superset cache keeper: %s", error)
            self.stopping.wait(self.interval)

    def _warming(self, process: subprocess.Popen) -> None:
        self.warming = process
        if self.stopping.is_set():  # stopped while it was starting
            stop_process_trees([(process, signal.SIGTERM)])

    def stop(self) -> list[tuple[subprocess.Popen, int]]:
        """No new warm-up; returns the one under way (its headless Chromium), for the caller to stop with the
        server, not when it is done."""
        self.stopping.set()
        return [(self.warming, signal.SIGTERM)] if self.warming is not None else []


def export(bi: BiSettings, assets: Path = ASSETS_DIR) -> str:
    """Write the dashboards as they stand in Superset to `assets` (YAML, database without password)."""
    result = subprocess.run(
        [str(VENV_BI / "bin" / "python"), str(TASKS), "export", str(Path(assets).resolve())],
        env=bi.env(),
        cwd=bi.home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise BiError(f"export failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout.strip()


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BiError(f"Superset exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise BiError(f"Superset did not answer {url}/health within {timeout:.0f} s")


def server_concurrency() -> tuple[int, int]:
    """Gunicorn workers and threads per worker. A dashboard sends all its chart requests at once and each
    costs ~100 ms of Python: threads of one worker share one GIL and ran them one after another, so there is
    a worker per core (GLAME_BI_WORKERS, at most 4: each holds ~300 MB) and a few threads each to overlap
    the waits on Postgres (GLAME_BI_THREADS)."""
    workers = int(os.environ.get("GLAME_BI_WORKERS") or min(os.cpu_count() or 1, 4))
    threads = int(os.environ.get("GLAME_BI_THREADS") or 4)
    return max(workers, 1), max(threads, 1)


def start_server(bi: BiSettings, log_file: Path | None = None) -> subprocess.Popen:
    """Superset's web server (gunicorn, threads) on 127.0.0.1, in its own process group."""
    gunicorn = VENV_BI / "bin" / "gunicorn"
    workers, threads = server_concurrency()
    command = [
        str(gunicorn),
        "-b",
        f"127.0.0.1:{bi.port}",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-k",
        "gthread",
        "--timeout",
        "120",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "-c",
        str(BI_DIR / "gunicorn_config.py"),
        "superset.app:create_app()",
    ]
    output = open(log_file or bi.home / "superset.log", "ab")  # noqa: SIM115 - owned by the process
    process = subprocess.Popen(
        command, env=bi.env(), cwd=bi.home, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_healthy(f"http://127.0.0.1:{bi.port}", process)
    except BiError:
        stop_server(process)
        raise
    return process


def stop_server(process: subprocess.Popen) -> None:
    stop_process_trees([(process, GUNICORN_QUICK_SHUTDOWN)])


# Gunicorn's quick shutdown (its workers stopped at once; SIGTERM would let requests finish for up to its graceful
# timeout): whoever stops `glame bi` wants it gone, not the warm-up's last requests served.
GUNICORN_QUICK_SHUTDOWN = signal.SIGINT
STOP_GRACE_SECONDS = 5


def stop_process_trees(processes: list[tuple[subprocess.Popen, int]], grace: float = STOP_GRACE_SECONDS) -> None:
    """Each process's signal to its group and to each of its descendants (a browser may start helpers in groups
    of their own), all at once; SIGKILL to what is left after `grace` seconds; the processes are reaped."""
    tree = []
    for process, first in processes:
        try:
            root = psutil.Process(process.pid)
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in members:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(first)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, first)
        tree += members
    _, alive = psutil.wait_procs(tree, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    for process, _ in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def serve(bi: BiSettings, on_ready=None) -> int:
    """Serve until Ctrl-C or SIGTERM, then stop the server (and let the caller stop the rest). Meanwhile a
    CacheKeeper warms the dashboards and re-warms them after each models build."""
    process = start_server(bi)
    keeper = CacheKeeper(bi)
    keeper.start()
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    parent = os.getppid()
    try:
        if on_ready:
            on_ready()
        while process.poll() is None:
            if os.getppid() != parent:  # `make bi` was killed (make does not pass SIGTERM on): stop too
                break
            time.sleep(0.5)
        return process.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        stop_process_trees([(process, GUNICORN_QUICK_SHUTDOWN), *keeper.stop()])
        signal.signal(signal.SIGTERM, previous)


def print_login(bi: BiSettings) -> None:
    print(
        f"Superset: http://127.0.0.1:{bi.port}  user {ADMIN_USER}, password "
        + (f"in {bi.admin_password_file} (mode 0600)" if bi.admin_password_file else "from GLAME_BI_ADMIN_PASSWORD")
    )
    print("Ctrl-C stops it.")
    sys.stdout.flush()
