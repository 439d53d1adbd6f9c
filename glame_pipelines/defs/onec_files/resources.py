"""The inbox folder users drop 1C sales exports into."""

from pathlib import Path

import dagster as dg
from pydantic import Field

SUFFIXES = {".csv", ".json", ".xlsx", ".xlsm", ".xls", ".txt"}


class InboxResource(dg.ConfigurableResource):
    """The folder users drop 1C sales exports into."""

    directory: str | None = Field(
        default=None, description="GLAME_INBOX_DIR: the folder people drop 1C sales exports into."
    )

    def files(self) -> list[Path]:
        """Oldest first (by modification time): files dropped together load in the order they were saved,
        so the newest export of a month is loaded last and is the one sales_monthly counts."""
        if not self.directory:
            return []
        folder = Path(self.directory)
        if not folder.is_dir():
            raise NotADirectoryError(f"GLAME_INBOX_DIR {folder} is not a folder")
        found = [
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
        ]
        return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))
