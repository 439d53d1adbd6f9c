"""Local simulators of the source APIs, for the demo and the tests (never used in place of a configured source)."""

from __future__ import annotations

from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sandbox.retail import RetailWorld
from glame_pipelines.sandbox.server import FaultPlan, SandboxServer


def build_sandbox(port: int = 0, world: RetailWorld | None = None, faults: FaultPlan | None = None
                  ) -> tuple[SandboxServer, dict[str, str]]:
    """A server with every simulator mounted, and the variables that point the sources at it."""
    world = world or RetailWorld()
    onec = OnecApi(world)
    server = SandboxServer([onec], port=port, faults=faults)
    env = {
        "ONEC_API_URL": server.url(onec),
        "ONEC_USERNAME": DEFAULT_LOGIN,
        "ONEC_PASSWORD": DEFAULT_PASSWORD,
    }
    return server, env
