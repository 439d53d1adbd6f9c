"""`glame bi` (set up and serve Superset) and `glame bi export` (write the dashboards back to bi/assets)."""

from __future__ import annotations

import logging

from glame_pipelines.bi import launcher
from glame_pipelines.runtime import prepare
from glame_pipelines.warehouse.connection import EMBEDDED_DIR, stop_embedded

log = logging.getLogger(__name__)


def bi(action: str, port: int | None) -> int:
    """Set up Superset from the repository, then serve it, or export it; stops what it started."""
    embedded_was_running = (EMBEDDED_DIR / "pgdata" / "postmaster.pid").exists()
    runtime = prepare()
    try:
        bi_settings = launcher.settings(runtime.warehouse_url, port=port)
        if action == "export":
            print(launcher.export(bi_settings))
            return 0
        print("Setting up Superset (metadata upgrade, roles, admin, dashboards from bi/assets) …", flush=True)
        launcher.set_up(bi_settings)
        return launcher.serve(bi_settings, on_ready=lambda: launcher.print_login(bi_settings))
    except launcher.BiError as error:
        print(f"glame bi: {error}")
        return 1
    finally:
        if runtime.embedded and not embedded_was_running:
            stop_embedded()  # we started it, with cleanup_mode=None: stop it ourselves
