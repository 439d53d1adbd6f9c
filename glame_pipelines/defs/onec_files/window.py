"""How `glame run` loads the sales inbox: every file waiting there, whatever days it covers."""

from datetime import date

import dagster as dg

from glame_pipelines.defs.onec_files import assets
from glame_pipelines.orchestration import LAUNCHED_BY, Outcome, execute


def load_window(defs: dg.Definitions, first: date, last: date) -> Outcome:
    """The files waiting in the inbox, whatever days they cover (a file is loaded once per content)."""
    return execute(defs, "sales_inbox_job", list(assets.sales.keys), dict(LAUNCHED_BY), "INFO")
