"""1C sales exports (CSV, JSON, XLSX, XLS) dropped in an inbox folder, loaded once per content."""

import os

from glame_pipelines.defs.onec_files.resources import InboxResource
from glame_pipelines.sources import Source

ENV = {"directory": "GLAME_INBOX_DIR"}


def check(resource: InboxResource) -> str:
    inbox = resource.directory
    if not os.path.isdir(inbox):
        raise NotADirectoryError(f"GLAME_INBOX_DIR {inbox} is not a folder")
    return f"inbox {inbox} holds {len(os.listdir(inbox))} files"


SOURCE = Source(
    name="onec_files",
    order=70,
    label="1C sales files",
    resource=InboxResource,
    key="inbox",
    variables=ENV,
    required=("GLAME_INBOX_DIR",),
    check=check,
    daily=False,  # the inbox sensor imports a file as soon as it has settled
    load="glame_pipelines.defs.onec_files.window:load_window",
    freshness=False,  # the inbox fills when people drop files
)
