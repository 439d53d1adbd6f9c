"""One local HTTP server for every simulated API, each mounted under its own path prefix.

Faults are injected here, in one place, so every simulator can answer with a rate limit, a 5xx, an
HTML proxy page, a stall or a dropped connection exactly as its vendor would signal it.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from glame_pipelines.clients.http import redact_url

log = logging.getLogger(__name__)

FAULT_KINDS = ("rate_limit", "server_error", "bad_gateway", "unavailable", "html", "timeout", "drop", "truncate")


@dataclass
class Request:
    method: str
    path: str  # below the API's prefix, percent-decoded
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        import orjson

        return cls(
            status, orjson.dumps(payload), {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )


class Api(ABC):
    """A simulated vendor API: answers requests below its prefix, and says how it signals faults."""

    prefix = "/"

    @abstractmethod
    def handle(self, request: Request) -> Response: ...

    def rate_limit_response(self) -> Response:
        return Response.json({"error": "too many requests"}, 429, {"Retry-After": "0"})

    def server_error_response(self, status: int) -> Response:
        return Response.json({"error": "internal error"}, status)


@dataclass
class FaultPlan:
    """Which requests fail: an explicit queue first (tests), then a seeded rate (chaos runs)."""

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    stall_seconds: float = 5.0
    queued: deque = field(default_factory=deque)
    injected: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def queue(self, *kinds: str) -> None:
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; choose from {FAULT_KINDS}")
            self.queued.append(kind)

    def next_fault(self) -> str | None:
        with self._lock:
            if self.queued:
                self.injected += 1
                return self.queued.popleft()
            if self.rate and self._rng.random() < self.rate:
                self.injected += 1
                return self._rng.choice(self.kinds)
            return None


class SandboxServer:
    """Serves the given APIs on 127.0.0.1 in a background thread."""

    def __init__(self, apis: list[Api], port: int = 0, faults: FaultPlan | None = None):
        self.apis = sorted(apis, key=lambda api: len(api.prefix), reverse=True)
        self.faults = faults or FaultPlan()
        self.requests: list[tuple[str, str]] = []
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def api(self, name: str) -> Api:
        """The mounted API whose prefix starts with /<name>/."""
        return next(api for api in self.apis if api.prefix.startswith(f"/{name}/"))

    def url(self, api: Api) -> str:
        return self.base_url + api.prefix.rstrip("/")

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.05,), name="glame-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def route(self, raw_path: str) -> tuple[Api, str] | None:
        path = unquote(urlsplit(raw_path).path)
        for api in self.apis:
            if path.startswith(api.prefix):
                return api, path[len(api.prefix) :]
        return None


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, delayed ACKs add 40 ms a request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args) -> None:
            log.debug("sandbox: %s", redact_url(format % args))

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            routed = server.route(self.path)
            if routed is None:
                return self._send(Response.json({"error": "no such API"}, 404))
            api, sub_path = routed
            query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            if "application/x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
                query.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            server.requests.append((method, unquote(self.path)))
            request = Request(method, sub_path, query, {k.lower(): v for k, v in self.headers.items()}, body)
            fault = server.faults.next_fault()
            if fault:
                return self._fault(api, fault, request)
            try:
                response = api.handle(request)
            except Exception as error:
                log.exception("sandbox %s failed", api.prefix)
                response = Response.json({"error": str(error)}, 500)
            self._send(response)

        def _fault(self, api: Api, fault: str, request: Request) -> None:
            if fault == "rate_limit":
                return self._send(api.rate_limit_response())
            if fault in ("server_error", "bad_gateway", "unavailable"):
                status = {"server_error": 500, "bad_gateway": 502, "unavailable": 503}[fault]
                return self._send(api.server_error_response(status))
            if fault == "html":
                page = (
                    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
                    b"</center><hr><center>nginx</center></body></html>"
                )
                return self._send(Response(502, page, {"Content-Type": "text/html"}))
            if fault == "timeout":
                time.sleep(server.faults.stall_seconds)
                return self._send(api.server_error_response(504))
            response = api.handle(request)
            if fault == "truncate":
                return self._send(
                    Response(response.status, response.body[: max(1, len(response.body) // 2)], response.headers)
                )
            # drop: promise the whole body, send half, close the connection
            self.send_response(response.status)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

    return Handler
