"""Serving the real response samples in ../shared/contracts/ over HTTP, byte for byte, to the clients."""

from __future__ import annotations

import os
from pathlib import Path

from glame_pipelines.sandbox.server import Api, Request, Response

CONTRACTS = Path(os.environ.get("GLAME_CONTRACTS_DIR", Path(__file__).resolve().parents[2] / "shared" / "contracts"))


def sample(source: str, name: str) -> bytes:
    return (CONTRACTS / source / name).read_bytes()


class ReplayApi(Api):
    """Answers every request with one recorded sample and records what the client asked."""

    def __init__(
        self,
        prefix: str,
        body: bytes,
        status: int = 200,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ):
        self.prefix = prefix
        self.response = Response(status, body, {"Content-Type": content_type, **(headers or {})})
        self.seen: list[Request] = []

    def handle(self, request: Request) -> Response:
        self.seen.append(request)
        return self.response
