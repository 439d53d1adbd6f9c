"""FTP settings of the people counters' drop server."""

import logging
import os

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.ftp import FtpClient
from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.sources import SourceNotConfigured

log = logging.getLogger(__name__)

ENV = {
    "host": "FTP_HOST",
    "port": "FTP_PORT",
    "user": "FTP_USER",
    "password": "FTP_PASSWORD",
    "directory": "FTP_DIRECTORY",
    "tls": "FTP_TLS",
    "passive": "FTP_PASSIVE",
    "archive_directory": "FTP_ARCHIVE_DIRECTORY",
}
USER_ALIAS = "FTP_USERNAME"


def env_mapping() -> dict[str, str]:
    """The variables to read; FTP_USERNAME (what the old system read) stands in for FTP_USER."""
    mapping = dict(ENV)
    if not os.environ.get("FTP_USER") and os.environ.get(USER_ALIAS):
        log.warning("FTP_USER is unset: reading FTP_USERNAME as its alias (rename it to FTP_USER)")
        mapping["user"] = USER_ALIAS
    return mapping


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


class FtpResource(dg.ConfigurableResource):
    """The FTP server where each store's counter writes one file per day."""

    host: str | None = Field(default=None, description="FTP_HOST: the FTP server the counters write to.")
    port: int = Field(default=21, description="FTP_PORT: its port (default 21).")
    user: str | None = Field(default=None, description="FTP_USER (FTP_USERNAME is accepted as an alias).")
    password: str | None = Field(default=None, description="FTP_PASSWORD: the FTP user's password.")
    directory: str = Field(default="/", description="FTP_DIRECTORY: the folder holding one folder per store.")
    tls: str = Field(default="false", description="FTP_TLS=true: explicit FTPS (AUTH TLS).")
    passive: str = Field(default="true", description="FTP_PASSIVE: passive mode (default true).")
    archive_directory: str = Field(
        default="",
        description="FTP_ARCHIVE_DIRECTORY: move loaded files there "
        "(relative to FTP_DIRECTORY); empty keeps them in place.",
    )

    def client(self, retry: RetryPolicy | None = None) -> FtpClient:
        missing = [
            var
            for field, var in (("host", "FTP_HOST"), ("user", "FTP_USER"), ("password", "FTP_PASSWORD"))
            if not getattr(self, field)
        ]
        if missing:
            raise SourceNotConfigured(missing)
        return FtpClient(
            self.host,
            self.user,
            self.password,
            port=self.port,
            root=self.directory or "/",
            tls=_flag(self.tls),
            passive=_flag(self.passive),
            retry=retry or RetryPolicy(),
        )
