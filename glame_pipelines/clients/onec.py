"""Client for the standard OData interface of 1C:Enterprise (УНФ, 1C Fresh).

1C speaks OData v3 with its own habits: no nextLink (page with $top/$skip and stop on a short page),
literals typed as datetime'…' and guid'…', naive Moscow-time dates, the all-zero GUID for an empty
reference, and HTTP 400 for a filter on a field the entity set lacks.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote, unquote, urlsplit

import orjson
import requests

from glame_pipelines.clients.http import (
    ApiError,
    Redactor,
    RetryPolicy,
    Shape,
    TransientError,
    UnexpectedResponse,
    looks_like_html,
    parse_retry_after,
    read_ahead,
    send,
)

log = logging.getLogger(__name__)

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
EMPTY_DAY = EMPTY_DATE[:10]  # 1C writes "no date" with or without the time
DEFAULT_PAGE_SIZE = 500
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MISSING_FIELD_MARKERS = ("сегмент пути", "path segment", "не найден", "not found", "неизвестн")


class OnecError(ApiError):
    source = "1C"


class OnecAuthError(OnecError):
    """Wrong login or password, or the user lacks the right to the OData interface. Never retried."""


class OnecNotPublished(OnecError):
    """The entity set is not published in the base's OData settings."""


class OnecUnexpectedResponse(UnexpectedResponse, OnecError):
    """A 1C answer outside the OData envelope: no `value` list, or a record that is not an object."""


class OnecBadRequest(OnecError):
    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class OnecUnsupportedQuery(OnecBadRequest):
    """The set rejected a $filter or $orderby (a field it lacks, or a virtual table that cannot sort)."""


# --- literals -------------------------------------------------------------------------------------


def guid_literal(value: str) -> str:
    """`guid'…'`; anything that is not a GUID is refused before it can reach a query string."""
    if not isinstance(value, str) or not _GUID_RE.match(value):
        raise ValueError(f"not a 1C reference (GUID): {value!r}")
    return f"guid'{value.lower()}'"


def datetime_literal(value: datetime | date) -> str:
    """`datetime'YYYY-MM-DDTHH:MM:SS'` in the base's own (naive Moscow) time; 1C rejects bare dates."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("1C dates are naive Moscow time: convert before building a filter")
        moment = value
    else:
        moment = datetime(value.year, value.month, value.day)
    return f"datetime'{moment.strftime('%Y-%m-%dT%H:%M:%S')}'"


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def period_filter(field_name: str, start: datetime | date, end: datetime | date) -> str:
    """Half-open window [start, end) on a date field."""
    return f"{field_name} ge {datetime_literal(start)} and {field_name} lt {datetime_literal(end)}"


def parse_onec_datetime(value: str | None) -> datetime | None:
    """1C dates are naive local time; `0001-01-01T00:00:00` means "no date"."""
    if value is not None and not isinstance(value, str):
        raise ValueError(f"not a 1C date: {value!r}")
    if not value or value.startswith(EMPTY_DAY):
        return None
    return datetime.fromisoformat(value[:19])


def clean_ref(value: str | None) -> str | None:
    """The all-zero GUID is 1C's empty reference."""
    if value is not None and not isinstance(value, str):
        raise ValueError(f"not a 1C reference: {value!r}")
    return None if not value or value == EMPTY_REF else value


def normalize_entity_set(name: str | None) -> str:
    """An entity-set name as 1C knows it. Configurations copied from other integrations write
    `/Catalog_Контрагенты`, with spaces or in quotes: all name the same set. Empty means "no such set"."""
    return (name or "").strip().strip("'\"").strip().lstrip("/").strip()


def requested_location(url: str) -> str:
    """Host and path of a request, decoded so Cyrillic set names read as written; never credentials
    (user:password@ in the URL) nor the query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{unquote(parts.path)}"


def basic_token(username: str, password: str) -> str:
    """The ONEC_API_TOKEN form of a login: base64 of UTF-8 `login:password` (Cyrillic logins included)."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# --- the client -----------------------------------------------------------------------------------


@dataclass
class QueryPlan:
    """How a windowed query is sent to one entity set, learnt from the set's answers."""

    server_filter: bool = True
    server_order: bool = True


@dataclass
class OnecClient:
    base_url: str
    token: str = field(repr=False)
    page_size: int = DEFAULT_PAGE_SIZE
    timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    max_page_refetches: int = 3

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.token.lower().startswith("basic "):
            self.token = self.token[6:].strip()
        self.redact = Redactor([self.token])
        self.session.headers.update({"Authorization": f"Basic {self.token}", "Accept": "application/json"})
        self._plans: dict[str, QueryPlan] = {}
        if self.page_size < 1:
            raise ValueError("page_size must be positive")

    # -- requests --

    def url(self, entity_set: str, params: Mapping[str, str | int]) -> str:
        entity_set = normalize_entity_set(entity_set)
        query = {"$format": "json", **params}
        encoded = "&".join(f"{k}={quote(str(v), safe=chr(39) + '(),:-_.')}" for k, v in query.items())
        return f"{self.base_url}/{quote(entity_set, safe='_()/')}?{encoded}"

    def get(self, entity_set: str, params: Mapping[str, str | int] | None = None) -> dict:
        """One GET of an entity set, with retries on transient failures."""
        entity_set = normalize_entity_set(entity_set)
        url = self.url(entity_set, params or {})

        def attempt() -> dict:
            response = send(self.session, "GET", url, redact=self.redact, timeout=self.timeout)
            return self._decode(entity_set, url, response)

        return self.retry.run(attempt, on_retry=self._log_retry)

    def _log_retry(self, attempt: int, error: TransientError, wait: float) -> None:
        log.warning("1C: %s; retry %d in %.1fs", error, attempt, wait)

    def _decode(self, entity_set: str, url: str, response: requests.Response) -> dict:
        status = response.status_code
        shown = self.redact(url)
        if status in (401, 403):
            raise OnecAuthError(
                f"1C rejected the credentials (HTTP {status}) for {shown}. Check ONEC_API_TOKEN "
                "(base64 of login:password) or ONEC_USERNAME/ONEC_PASSWORD, and that this 1C user may use "
                "the standard OData interface."
            )
        if status == 429 or status >= 500:
            raise TransientError(
                f"1C answered HTTP {status} for {shown}: {self._error_text(response)}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if looks_like_html(response):
            raise OnecError(
                f"1C answered an HTML page (HTTP {status}) for {shown}: ONEC_API_URL must end with "
                "/odata/standard.odata of a published base."
            )
        if status == 404:
            raise OnecNotPublished(
                f"entity set {entity_set} is not published in 1C (HTTP 404 for {requested_location(url)}). "
                "Check the name in that URL; then publish the set in the base (Администрирование → "
                "Обслуживание → Настройка стандартного интерфейса OData), or set its ONEC_*_ENDPOINT variable "
                "to the name this base uses, or, for an optional set, leave that variable empty to turn it off."
            )
        if status == 400:
            code, message = self._odata_error(response)
            text = f"1C refused the query on {entity_set} (code {code}): {message}"
            if any(marker in message.lower() for marker in _MISSING_FIELD_MARKERS):
                raise OnecUnsupportedQuery(text, code)
            raise OnecBadRequest(text, code)
        if status >= 300:
            raise OnecError(f"1C answered HTTP {status} for {shown}: {self._error_text(response)}")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            if response.content.lstrip().startswith(b"<"):
                raise OnecError(f"1C answered XML instead of JSON for {shown}; a proxy may drop $format=json") from None
            raise TransientError(f"1C sent a malformed JSON body ({len(response.content)} bytes) for {shown}") from None
        if not isinstance(body, dict):
            raise OnecError(f"1C sent an unexpected body for {shown}: {type(body).__name__}")
        if "odata.error" in body:
            code, message = self._odata_error(response)
            raise OnecError(f"1C reported an error on {entity_set} (code {code}): {message}")
        return body

    def _odata_error(self, response: requests.Response) -> tuple[str, str]:
        try:
            error = orjson.loads(response.content).get("odata.error", {})
            message = error.get("message", {})
            text = message.get("value") if isinstance(message, dict) else str(message)
            return str(error.get("code", "?")), self.redact(text or "")
        except (orjson.JSONDecodeError, AttributeError):
            return "?", self._error_text(response)

    def _error_text(self, response: requests.Response) -> str:
        if looks_like_html(response):
            return "an HTML error page"
        try:
            return (
                self._odata_error(response)[1]
                if b"odata.error" in response.content
                else self.redact(response.text[:200])
            )
        except Exception:
            return "unreadable body"

    # -- paging --

    def iter_records(
        self,
        entity_set: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        orderby: Sequence[str] | None = None,
    ) -> Iterator[dict]:
        """Every record of the query, page by page ($top/$skip); the next page downloads while the caller
        works on this one, and memory holds at most three pages."""
        params: dict[str, str | int] = {}
        if select:
            params["$select"] = ",".join(select)
        if filter:
            params["$filter"] = filter
        if orderby:
            params["$orderby"] = ",".join(orderby)
        for page in read_ahead(self._pages(entity_set, params)):
            yield from page

    def _pages(self, entity_set: str, params: dict) -> Iterator[list[dict]]:
        skip = 0
        previous: list[dict] | None = None
        while True:
            page = self._fetch_page(entity_set, params, skip, previous)
            yield page
            if len(page) < self.page_size:
                return
            previous = page
            skip += len(page)

    def _fetch_page(self, entity_set: str, params: dict, skip: int, previous: list[dict] | None) -> list[dict]:
        """A page; one identical to the page before is a server glitch and is fetched again."""
        for _ in range(self.max_page_refetches + 1):
            query = {**params, "$top": self.page_size, "$skip": skip}
            page = self._records(entity_set, query, self.get(entity_set, query))
            if not page or page != previous:
                return page
            log.warning("1C served the page before again for %s at $skip=%d; fetching it again", entity_set, skip)
        raise OnecError(f"1C kept serving the same page for {entity_set} at $skip={skip}; paging cannot go on safely")

    def _shape(self, entity_set: str, params: Mapping[str, str | int]) -> Shape:
        return Shape(OnecUnexpectedResponse, "1C", f"GET {self.redact(self.url(entity_set, params))}", self.redact)

    def _records(self, entity_set: str, params: Mapping[str, str | int], body: dict) -> list[dict]:
        """The `value` list of a collection answer; each record must be an object (its fields are checked,
        and a bad record quarantined, where it is converted)."""
        shape = self._shape(entity_set, params)
        page = shape.items(shape.field(body, "value", f"the answer for {entity_set}"), "'value'")
        for n, record in enumerate(page, 1):
            if type(record) is not dict:  # the message is built only when it is needed: pages are long
                shape.obj(record, f"record {n} of 'value'")
        return page

    def iter_window(
        self,
        entity_set: str,
        start: datetime | date,
        end: datetime | date,
        *,
        date_field: str = "Period",
        orderby: Sequence[str] = (),
        select: Sequence[str] | None = None,
    ) -> Iterator[dict]:
        """Records whose `date_field` lies in [start, end), whatever the set lets us ask of it.

        Some published sets reject a filter on the date field or any $orderby. The first refusal is
        remembered for the set and the query falls back: without $orderby, then filtering on our side
        while reading the whole set. Either way exactly the window's records are returned.
        """
        plan = self._plans.setdefault(entity_set, QueryPlan())
        while True:
            try:
                yield from self._window_query(entity_set, plan, start, end, date_field, orderby, select)
                return
            except OnecBadRequest as refusal:
                if not self._degrade(plan, orderby):
                    raise
                log.warning(
                    "1C: %s; falling back to %s for %s",
                    refusal,
                    "client-side date filtering" if not plan.server_filter else "unordered paging",
                    entity_set,
                )

    @staticmethod
    def _degrade(plan: QueryPlan, orderby: Sequence[str]) -> bool:
        if plan.server_order and orderby:
            plan.server_order = False
            return True
        if plan.server_filter:
            plan.server_filter, plan.server_order = False, bool(orderby)
            return True
        if plan.server_order:
            plan.server_order = False
            return True
        return False

    def _window_query(self, entity_set, plan, start, end, date_field, orderby, select) -> Iterator[dict]:
        # Nothing may be yielded before the first page proved the query acceptable, or a fallback
        # would yield the same records twice: the first page is fetched before anything is yielded.
        records = self.iter_records(
            entity_set,
            select=select,
            filter=period_filter(date_field, start, end) if plan.server_filter else None,
            orderby=list(orderby) if plan.server_order and orderby else None,
        )
        first = next(records, None)
        if first is None:
            return
        lower = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
        upper = end if isinstance(end, datetime) else datetime(end.year, end.month, end.day)
        for record in _chain(first, records):
            if plan.server_filter:
                yield record
                continue
            try:
                moment = parse_onec_datetime(record.get(date_field))
            except ValueError:
                yield record  # an unreadable date: the converter quarantines the record with its reason
                continue
            if moment is not None and lower <= moment < upper:
                yield record

    def iter_all(self, entity_set: str, orderby: Sequence[str] = ()) -> Iterator[dict]:
        """Every record of a set, ordered when the set allows it (catalogs, virtual tables)."""
        plan = self.query_plan(entity_set)
        started = False
        while True:
            try:
                for record in self.iter_records(
                    entity_set, orderby=list(orderby) if plan.server_order and orderby else None
                ):
                    started = True
                    yield record
                return
            except OnecBadRequest as refusal:
                if started or not (plan.server_order and orderby):
                    raise
                plan.server_order = False
                log.warning("1C: %s; reading %s unordered", refusal, entity_set)

    def query_plan(self, entity_set: str) -> QueryPlan:
        return self._plans.setdefault(entity_set, QueryPlan())

    def probe(self, entity_set: str) -> int:
        """The cheapest authenticated call: one record of a set. Returns how many came back (0 or 1)."""
        return len(self._records(entity_set, {"$top": 1}, self.get(entity_set, {"$top": 1})))

    def published_sets(self) -> list[str]:
        """Names listed in the service document (empty before anything is published)."""
        return [item.get("name") or item.get("url") for item in self._records("", {}, self.get("", {}))]


def _chain(first: dict, rest: Iterator[dict]) -> Iterator[dict]:
    yield first
    yield from rest
