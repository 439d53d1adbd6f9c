"""A real FTP server (pyftpdlib) on 127.0.0.1 with a counter file per store per day, MEGACOUNT_3D style.

Visitors follow the retail world's receipts (each receipt is one of several visitors), so store
conversion in the marts comes out realistic.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import ThreadedFTPServer

from glame_pipelines.sandbox.retail import PHYSICAL_STORES, RetailWorld

DEFAULT_USER = "counters"
DEFAULT_PASSWORD = "sandbox-ftp-password"
OPENING_HOURS = range(10, 22)


def megacount_text(world: RetailWorld, store_code: str, day: date) -> str:
    receipts = [r for r in world.day(day).receipts if r.store.code == store_code]
    rng = random.Random(f"{world.seed}:counter:{store_code}:{day}")
    lines = ["device_name: MEGACOUNT_3D", f"serial: MC3D-{store_code[:3]}-0001", f"date: {day:%d.%m.%Y}"]
    total_in = total_out = 0
    for hour in OPENING_HOURS:
        buyers = sum(1 for r in receipts if r.moment.hour == hour)
        entries = buyers * rng.randint(5, 9) + rng.randint(0, 6)
        exits = max(0, entries + rng.randint(-2, 2))
        total_in, total_out = total_in + entries, total_out + exits
        lines.append(f"{hour:02d}:00-{hour + 1:02d}:00 in: {entries} out: {exits}")
    lines += [f"total_in: {total_in}", f"total_out: {total_out}"]
    return "\n".join(lines) + "\n"


def write_counter_files(world: RetailWorld, root: Path, start: date, end: date) -> list[Path]:
    """One YYMMDD.txt per physical store per day in [start, end)."""
    written = []
    for n in range((end - start).days):
        day = start + timedelta(n)
        for store in PHYSICAL_STORES:
            path = root / store.code / f"{day:%y%m%d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(megacount_text(world, store.code, day), encoding="utf-8")
            written.append(path)
    return written


def _slow_retr(handler: FTPHandler, file: str):
    """RETR, answered `retr_delay` seconds late (see FtpSandbox.throttle); the server runs a thread per client."""
    if handler.retr_delay:
        time.sleep(handler.retr_delay)
    return super(type(handler), handler).ftp_RETR(file)


class FtpSandbox:
    """pyftpdlib serving `root` to one user, in a background thread."""

    def __init__(
        self,
        root: Path,
        user: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
        port: int = 0,
        certfile: Path | None = None,
    ):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        authorizer = DummyAuthorizer()
        authorizer.add_user(user, password, str(self.root), perm="elradfmw")
        base = FTPHandler
        attributes = {"authorizer": authorizer, "banner": "GLAME sandbox FTP"}
        if certfile:  # explicit FTPS (AUTH TLS), data connections protected too
            from pyftpdlib.handlers import TLS_FTPHandler

            base = TLS_FTPHandler
            attributes.update(certfile=str(certfile), tls_control_required=True, tls_data_required=True)
        handler = type("SandboxFtpHandler", (base,), {**attributes, "retr_delay": 0.0, "ftp_RETR": _slow_retr})
        handler.passive_ports = None
        ftp_log = logging.getLogger("pyftpdlib")
        if not ftp_log.handlers:  # else pyftpdlib installs its own INFO handler on stderr
            ftp_log.addHandler(logging.NullHandler())
        ftp_log.setLevel(logging.WARNING)
        # a loop of its own: pyftpdlib's default loop is a process-wide singleton that close_all() ends
        self.server = ThreadedFTPServer(("127.0.0.1", port), handler, ioloop=IOLoop())
        # ThreadedFTPServer keeps its stop event on the class: once one server stops, every later one would
        # drop its connections at once. Give each server its own.
        self.server._exit, self.server._lock = threading.Event(), threading.Lock()
        self.user, self.password = user, password
        self._handler = handler
        self._thread: threading.Thread | None = None

    def throttle(self, seconds_per_file: float) -> None:
        """Answer each download (RETR) `seconds_per_file` late, like a store's thin uplink (0: full speed):
        a test that must catch a load mid-way gets a load that lasts."""
        self._handler.retr_delay = seconds_per_file

    @property
    def port(self) -> int:
        return self.server.address[1]

    def env(self) -> dict[str, str]:
        return {
            "FTP_HOST": "127.0.0.1",
            "FTP_PORT": str(self.port),
            "FTP_USER": self.user,
            "FTP_PASSWORD": self.password,
            "FTP_DIRECTORY": "/",
        }

    def start(self) -> FtpSandbox:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"timeout": 0.2, "blocking": True},
            name="glame-ftp-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.close_all()

    def __enter__(self) -> FtpSandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
