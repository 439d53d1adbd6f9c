"""The whole sandbox: every source's simulator started together, and the variables pointing the sources at them."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from glame_pipelines.sandbox.ftp import FtpSandbox, write_counter_files
from glame_pipelines.sandbox.retail import RetailWorld
from glame_pipelines.sandbox.server import FaultPlan, SandboxServer
from glame_pipelines.sources import all_sources


class Sandbox:
    """The HTTP simulators and the FTP server, started and stopped together."""

    def __init__(self, http: SandboxServer, ftp: FtpSandbox):
        self.http, self.ftp = http, ftp

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def api(self, name: str):
        return self.http.api(name)

    def start(self) -> Sandbox:
        self.http.start()
        self.ftp.start()
        return self

    def stop(self) -> None:
        self.http.stop()
        self.ftp.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def build_sandbox(
    port: int = 0,
    world: RetailWorld | None = None,
    faults: FaultPlan | None = None,
    ftp_root: Path | None = None,
    counter_days: int = 45,
) -> tuple[Sandbox, dict[str, str]]:
    """Every source's simulator (its folder's sandbox hook), and the variables that point the sources at them."""
    world = world or RetailWorld()
    hooks = [source.sandbox for source in all_sources().values() if source.sandbox]
    http = SandboxServer([api for hook in hooks for api in hook.apis(world)], port=port, faults=faults)
    ftp_root = Path(ftp_root or tempfile.mkdtemp(prefix="glame-ftp-"))
    write_counter_files(world, ftp_root, world.today - timedelta(counter_days), world.today)
    sandbox = Sandbox(http, FtpSandbox(ftp_root, port=port + 1 if port else 0))
    env: dict[str, str] = {}
    for hook in hooks:
        env.update(hook.env(sandbox))
    return sandbox, env
