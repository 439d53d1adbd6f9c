"""FTP access to the counters' drop folders: list with sizes and modification times, read, archive.

MLSD gives both in one listing; servers without it are listed with NLST (or LIST) and asked SIZE and
MDTM per file. Files are never deleted; moving processed files to an archive folder is optional.
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import logging
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from glame_pipelines.clients.http import ApiError, AuthError, Redactor, RetryPolicy, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


class FtpError(ApiError):
    source = "FTP"


class FtpAuthError(AuthError, FtpError):
    pass


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative to the root directory: STORE/251201.txt
    size: int
    modified: str  # YYYYMMDDHHMMSS (UTC), as MLSD/MDTM give it

    @property
    def store_folder(self) -> str:
        return self.path.split("/", 1)[0] if "/" in self.path else ""

    @property
    def signature(self) -> list:
        return [self.size, self.modified]


@dataclass
class FtpClient:
    host: str
    user: str
    password: str = field(repr=False)
    port: int = 21
    root: str = "/"
    tls: bool = False
    passive: bool = True
    timeout: float = 30.0
    encoding: str = "utf-8"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    use_mlsd: bool = True

    def __post_init__(self) -> None:
        self.redact = Redactor([self.password])

    # -- connection --

    def _connect(self) -> ftplib.FTP:
        ftp = (
            ftplib.FTP_TLS(timeout=self.timeout, encoding=self.encoding)
            if self.tls
            else ftplib.FTP(timeout=self.timeout, encoding=self.encoding)
        )
        try:
            ftp.connect(self.host, self.port)
            ftp.login(self.user, self.password)
            if self.tls:
                ftp.prot_p()
            ftp.set_pasv(self.passive)
            return ftp
        except ftplib.error_perm as error:
            ftp.close()
            if str(error).startswith("530"):
                raise FtpAuthError(
                    f"FTP login to {self.host} failed ({error}): check FTP_USER and FTP_PASSWORD"
                ) from None
            raise FtpError(f"FTP {self.host}: {self.redact(error)}") from None
        except (OSError, EOFError, ftplib.error_temp) as error:
            ftp.close()
            raise TransientError(
                f"FTP {self.host}:{self.port} unreachable ({type(error).__name__}: {self.redact(error)})"
            ) from None

    def _session(self, work):
        """`work` on a connection of its own, logged in for it and closed after."""
        with self.session() as session:
            return session.run(work)

    @contextlib.contextmanager
    def session(self) -> Iterator[FtpSession]:
        """One login for many commands: a backlog of a year is 1,095 files, and a login per file cost more
        than reading it. Closed (QUIT) when the block ends."""
        session = FtpSession(self)
        try:
            yield session
        finally:
            session.close()

    # -- operations --

    def list_files(self) -> list[RemoteFile]:
        """Every file one level below the root folder (one folder per store), plus files in the root."""
        return self._session(self._walk)

    def _walk(self, ftp: ftplib.FTP) -> list[RemoteFile]:
        files: list[RemoteFile] = []
        for name, kind, facts in self._entries(ftp, self.root):
            if kind == "dir" and name.lower() != "archive":
                for child, child_kind, child_facts in self._entries(ftp, posixpath.join(self.root, name)):
                    if child_kind == "file":
                        files.append(self._file(ftp, f"{name}/{child}", child_facts))
            elif kind == "file":
                files.append(self._file(ftp, name, facts))
        return sorted(files, key=lambda f: (f.modified, f.path))

    def _entries(self, ftp: ftplib.FTP, directory: str):
        if self.use_mlsd:
            try:
                for name, facts in ftp.mlsd(directory, facts=["type", "size", "modify"]):
                    if name in (".", "..") or facts.get("type") in ("cdir", "pdir"):
                        continue
                    yield name, facts.get("type", "file"), facts
                return
            except ftplib.error_perm as error:
                if not str(error).startswith(("500", "501", "502", "504")):
                    raise
                self.use_mlsd = False  # remember: this server has no MLSD
        for path in ftp.nlst(directory):
            name = posixpath.basename(path.rstrip("/"))
            if name in (".", ".."):
                continue
            yield name, "dir" if self._is_dir(ftp, posixpath.join(directory, name)) else "file", {}

    @staticmethod
    def _is_dir(ftp: ftplib.FTP, path: str) -> bool:
        current = ftp.pwd()
        try:
            ftp.cwd(path)
            ftp.cwd(current)
            return True
        except ftplib.error_perm:
            return False

    def _file(self, ftp: ftplib.FTP, relative: str, facts: dict) -> RemoteFile:
        full = posixpath.join(self.root, relative)
        size = facts.get("size")
        modified = facts.get("modify")
        if size is None:
            ftp.voidcmd("TYPE I")
            size = ftp.size(full)
        if modified is None:
            modified = ftp.voidcmd(f"MDTM {full}").split()[-1]
        if not str(size).strip().isdigit():  # the sensor compares sizes to see an upload finish
            raise FtpError(
                f"FTP {self.host}: the listing gives {relative} the size {size!r}, not a number of bytes; "
                "a server that answers MLSD/SIZE so cannot be watched for finished uploads"
            )
        return RemoteFile(relative, int(size), str(modified)[:14])

    def read(self, relative: str) -> bytes:
        with self.session() as session:
            return session.read(relative)

    def archive(self, relative: str, archive_dir: str) -> str:
        """Move a processed file to `<archive_dir>/<store>/<name>`; never deletes."""
        with self.session() as session:
            return session.archive(relative, archive_dir)


@dataclass
class FtpSession:
    """A logged-in connection reused command after command. A transient failure (a dropped connection,
    a 4xx answer) closes it, and the command is retried on a new login under the client's retry policy."""

    client: FtpClient
    ftp: ftplib.FTP | None = None

    def run(self, work: Callable[[ftplib.FTP], T]) -> T:
        client = self.client

        def attempt() -> T:
            if self.ftp is None:
                self.ftp = client._connect()
            try:
                return work(self.ftp)
            except ftplib.error_temp as error:
                self.close()
                raise TransientError(f"FTP {client.host}: {client.redact(error)}") from None
            except (TimeoutError, ConnectionError, EOFError) as error:
                self.close()
                raise TransientError(f"FTP {client.host}: connection lost ({type(error).__name__})") from None

        return client.retry.run(attempt, on_retry=lambda n, e, w: log.warning("%s; retry %d in %.1fs", e, n, w))

    def close(self) -> None:
        if self.ftp is None:
            return
        try:
            self.ftp.quit()
        except Exception:
            self.ftp.close()
        self.ftp = None

    def read(self, relative: str) -> bytes:
        root = self.client.root

        def work(ftp: ftplib.FTP) -> bytes:
            buffer = io.BytesIO()
            ftp.retrbinary(f"RETR {posixpath.join(root, relative)}", buffer.write)
            return buffer.getvalue()

        try:
            return self.run(work)
        except ftplib.error_perm as error:
            raise FtpError(f"FTP {self.client.host}: cannot read {relative} ({error})") from None

    def archive(self, relative: str, archive_dir: str) -> str:
        """Move a processed file to `<archive_dir>/<store>/<name>`; never deletes."""
        root = self.client.root
        target_dir = posixpath.join(root, archive_dir, posixpath.dirname(relative))
        target = posixpath.join(target_dir, posixpath.basename(relative))

        def work(ftp: ftplib.FTP) -> str:
            for depth in range(1, len(target_dir.strip("/").split("/")) + 1):
                with contextlib.suppress(ftplib.error_perm):  # the folder exists
                    ftp.mkd("/" + "/".join(target_dir.strip("/").split("/")[:depth]))
            ftp.rename(posixpath.join(root, relative), target)
            return target

        return self.run(work)


def modified_at(signature: str) -> datetime:
    return datetime.strptime(signature[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
