"""HTTP plumbing shared by every source client: retries with backoff and jitter, and secret redaction.

Clients decide what a response means (their vendor's error envelope); this module only decides whether
and when to try again, and makes sure no token reaches a message.
"""

from __future__ import annotations

import base64
import logging
import math
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NoReturn, TypeVar

import orjson
import requests

T = TypeVar("T")

SECRET_QUERY_PARAMS = ("access_token", "oauth_token", "token", "password", "client_secret")
_QUERY_SECRET_RE = re.compile(r"(?P<key>(?:{})=)[^&\s\"'#]+".format("|".join(SECRET_QUERY_PARAMS)), re.IGNORECASE)
_TELEGRAM_PATH_RE = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
_URL_USERINFO_RE = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/@\s:]+(?::[^/@\s]*)?@", re.IGNORECASE)
_AUTH_HEADER_RE = re.compile(r"(?P<scheme>\b(?:Basic|Bearer|OAuth)\s+)[A-Za-z0-9+/=._-]{8,}")
REDACTED = "***"
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class ApiError(Exception):
    """An error from a source API, its message already free of secrets."""

    source = "api"


class AuthError(ApiError):
    """Credentials rejected, expired or lacking a permission: never retried; the message says what to do."""


class TransientError(ApiError):
    """Worth retrying: rate limit, 5xx, proxy error page, timeout, dropped connection."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class UnexpectedResponse(ApiError):
    """The source answered, but not in the shape its documentation promises (a field missing, of another
    type, or inconsistent). Never retried; a guessed value would be a silently wrong number."""


class MalformedRecord(ValueError):
    """One record of a list is unreadable: it is quarantined with this reason and the others load."""


@dataclass(frozen=True)
class Shape:
    """Reads a decoded answer; anything off raises the client's UnexpectedResponse naming the source, the
    request (secrets masked) and the field, so a changed API fails clearly instead of with a KeyError."""

    error: type[UnexpectedResponse]
    source: str
    request: str
    redact: Callable[[object], str] = str  # the client's Redactor: a value quoted from the answer may hold a token

    def fail(self, problem: str, remedy: str | None = None) -> NoReturn:
        remedy = remedy or (
            "Nothing of this answer was loaded; the previous rows stay. Re-run it; if the answer "
            f"stays so, {self.source} has changed its API."
        )
        raise self.error(
            self.redact(f"{self.source} answered {self.request} with an unexpected shape: {problem}. {remedy}")
        )

    def obj(self, value, name: str) -> dict:
        if not isinstance(value, dict):
            self.fail(f"{name} is {described(value)}, not an object")
        return value

    def items(self, value, name: str) -> list:
        if not isinstance(value, list):
            self.fail(f"{name} is {described(value)}, not a list")
        return value

    def field(self, body: dict, key: str, name: str | None = None):
        if key not in body:
            self.fail(f"{name or 'the answer'} has no '{key}'")
        return body[key]

    def number(self, value, name: str, *, optional: bool = False) -> int | float | None:
        if value is None and optional:
            return None
        try:
            return number(value)
        except ValueError:
            self.fail(f"{name} is {described(value)}, not a number")

    def whole(self, value, name: str, *, optional: bool = False) -> int | None:
        found = self.number(value, name, optional=optional)
        if found is not None and found != int(found):
            self.fail(f"{name} is {described(value)}, not a whole number")
        return None if found is None else int(found)


def number(value) -> int | float:
    """A JSON number, or a number written as text (parsed, never read as 0); anything else is refused."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if _NUMBER_RE.fullmatch(text):
        if text.lstrip("+-").isdigit():
            return int(text)
        if math.isfinite(float(text)):
            return float(text)
    raise ValueError(f"{value!r} is not a number")


def whole_number(value, name: str) -> int:
    """A record's whole number (an id, a unix time), for per-record quarantine: MalformedRecord names the field."""
    try:
        found = number(value)
    except ValueError:
        raise MalformedRecord(f"{name} is {described(value)}, not a number") from None
    if found != int(found):
        raise MalformedRecord(f"{name} is {described(value)}, not a whole number")
    return int(found)


def unix_time(value, name: str) -> datetime:
    """A record's unix time as an aware UTC moment; MalformedRecord when it is not one."""
    seconds = whole_number(value, name)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise MalformedRecord(f"{name} is {described(value)}, not a unix time") from error


def required(record, key: str, what: str = "the record"):
    """`record[key]`, or MalformedRecord naming the field when the record is not an object or lacks it."""
    if not isinstance(record, dict):
        raise MalformedRecord(f"{what} is {described(record)}, not an object")
    if record.get(key) is None:
        raise MalformedRecord(f"{what} has no '{key}'")
    return record[key]


def described(value) -> str:
    """A value as a message quotes it: its type, and at most 40 characters of it."""
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return f"{'an object' if isinstance(value, dict) else 'a list'} ({len(value)} items)"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


def describe_request(redact: Redactor, method: str, path: str, params: Mapping | None = None) -> str:
    """`GET stat/v1/data (ids=…, date1=…)`: what was asked, for a message; secret parameters left out."""
    shown = ", ".join(f"{k}={v}" for k, v in (params or {}).items() if k.lower() not in SECRET_QUERY_PARAMS)
    return redact(f"{method} {path}" + (f" ({shown})" if shown else ""))


class Redactor:
    """Removes known secret values (and their Basic-auth and URL-encoded forms) from any text."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 4:
            return
        self._secrets.add(secret)
        self._secrets.add(requests.utils.quote(secret, safe=""))
        self._secrets.add(base64.b64encode(secret.encode()).decode())

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            out = out.replace(secret, REDACTED)
        out = _QUERY_SECRET_RE.sub(lambda m: m.group("key") + REDACTED, out)
        out = _TELEGRAM_PATH_RE.sub("/bot" + REDACTED, out)
        out = _URL_USERINFO_RE.sub(lambda m: m.group("scheme") + REDACTED + "@", out)  # https://user:password@host
        return _AUTH_HEADER_RE.sub(lambda m: m.group("scheme") + REDACTED, out)


def redact_url(url: str) -> str:
    """A URL fit for a log line: secret query parameters, credentials in the URL and Telegram bot tokens masked."""
    return Redactor()(url)


class RedactingFilter(logging.Filter):
    """Masks tokens in records of libraries that log URLs (urllib3 logs each request at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg, record.args = record.getMessage(), ()
        record.msg = redact_url(str(record.msg))
        return True


logging.getLogger("urllib3.connectionpool").addFilter(RedactingFilter())


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total sleep."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_sleep: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:  # the server's own signal wins over our backoff
            return max(retry_after, 0.0)
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def run(self, call: Callable[[], T], on_retry: Callable[[int, TransientError, float], None] | None = None) -> T:
        """Call until it returns or raises a non-transient error; the last transient error is re-raised."""
        slept = 0.0
        for attempt in range(1, self.max_attempts + 1):
            try:
                return call()
            except TransientError as error:
                if error.retry_after is not None and error.retry_after > self.max_delay:
                    raise TransientError(
                        f"{error} (the server asks to wait {error.retry_after:.0f}s, longer than "
                        f"this run waits; the next run will pick it up)",
                        retry_after=error.retry_after,
                    ) from None
                wait = self.delay(attempt, error.retry_after)
                if attempt == self.max_attempts or slept + wait > self.max_total_sleep:
                    raise
                if on_retry:
                    on_retry(attempt, error, wait)
                self.sleep(wait)
                slept += wait
        raise AssertionError("unreachable")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def looks_like_html(response: requests.Response) -> bool:
    content_type = response.headers.get("Content-Type", "")
    # the first bytes only: decoding a large JSON page to text just to look at its start costs more than parsing it
    return "html" in content_type or response.content[:256].lstrip().lower().startswith((b"<!doctype", b"<html"))


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    redact: Redactor,
    timeout: float,
    **kwargs,
) -> requests.Response:
    """One request; connection problems and timeouts become TransientError with a redacted message."""
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise TransientError(
            f"timed out after {timeout:g}s: {redact(url)}"
        ) from None  # requests' own text carries the full URL
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
        raise TransientError(
            f"connection failed: {redact(url)} ({type(error).__name__})"
        ) from None  # requests' own text carries the full URL


class JsonApiClient:
    """Base of the JSON clients: one retrying request path; subclasses read their vendor's envelope."""

    source = "api"
    unexpected: type[UnexpectedResponse] = UnexpectedResponse  # each client names its own

    def __init__(
        self,
        base_url: str,
        *,
        secrets: Iterable[str | None] = (),
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.redact = Redactor(secrets)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self.log = logging.getLogger(f"glame.{self.source}")

    def request(self, method: str, url: str, **kwargs):
        """Send with retries; `decode` turns the response into data or a typed error."""
        if not url.startswith("http"):
            url = f"{self.base_url}/{url.lstrip('/')}"

        def attempt():
            self.before_request()
            response = send(self.session, method, url, redact=self.redact, timeout=self.timeout, **kwargs)
            return self.decode(response, url)

        return self.retry.run(attempt, on_retry=self._log_retry)

    def shape(self, method: str, path: str, params: Mapping | None = None) -> Shape:
        """A reader of the answer to this request, whose errors name it."""
        return Shape(self.unexpected, self.source, describe_request(self.redact, method, path, params), self.redact)

    def before_request(self) -> None:
        """Client-side pacing hook."""

    def decode(self, response: requests.Response, url: str):  # pragma: no cover - every client overrides
        response.raise_for_status()
        return response.json()

    def _log_retry(self, attempt: int, error: TransientError, wait: float) -> None:
        self.log.warning("%s: %s; retry %d in %.1fs", self.source, error, attempt, wait)

    def json_body(self, response: requests.Response, url: str):
        """The body as JSON; an HTML page (a proxy's error) or a truncated body is transient."""
        if looks_like_html(response):
            raise TransientError(
                f"{self.source} answered an HTML page (HTTP {response.status_code}) for {self.redact(url)}"
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise TransientError(
                f"{self.source} sent a malformed JSON body "
                f"(HTTP {response.status_code}, {len(response.content)} bytes) "
                f"for {self.redact(url)}"
            ) from None


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield from `items`, which a background thread produces up to `depth` items ahead: the next page
    downloads while the caller loads the one before (a socket wait releases the GIL). Items and the
    error that ends them arrive in order; memory holds at most `depth` + 2 items."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put((end, error))
            return
        put((end, None))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()  # an abandoned read finishes its request first: the session is not shared mid-call
