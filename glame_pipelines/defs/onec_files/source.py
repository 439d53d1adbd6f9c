"""1C sales exports (CSV, JSON, XLSX, XLS) dropped in an inbox folder, loaded once per content."""

from glame_pipelines.defs.onec_files.resources import InboxResource
from glame_pipelines.defs.onec_files.tables import TABLES
from glame_pipelines.sources import Source

ENV = {"directory": "GLAME_INBOX_DIR"}


def check(resource: InboxResource) -> str:
    return f"inbox {resource.directory} holds {len(resource.files())} sales files"  # files() checks the folder


SOURCE = Source(
    name="onec_files",
    order=70,
    label="1C sales files",
    resource=InboxResource,
    key="inbox",
    variables=ENV,
    required=("GLAME_INBOX_DIR",),
    check=check,
    tables=TABLES,
    daily=False,  # the inbox sensor imports a file as soon as it has settled
    load="glame_pipelines.defs.onec_files.window:load_window",
    freshness=False,  # the inbox fills when people drop files
)
