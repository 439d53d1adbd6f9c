"""Client for the Yandex.Metrika Reporting API (`/stat/v1/data`) and Management API (`/management/v1`).

Reports page with limit/offset (offset starts at 1) until `total_rows`; a request carries at most 20
metrics, so wider reports are split and joined on their dimensions. `accuracy=full` asks for unsampled
data; each row keeps whether Metrika sampled it anyway.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import requests

from glame_pipelines.clients.http import (
    ApiError,
    AuthError,
    JsonApiClient,
    Shape,
    TransientError,
    UnexpectedResponse,
    described,
    parse_retry_after,
)

DEFAULT_BASE_URL = "https://api-metrika.yandex.net"
MAX_METRICS = 20
PAGE_LIMIT = 10_000

TRAFFIC_METRICS = (
    "ym:s:visits",
    "ym:s:users",
    "ym:s:newUsers",
    "ym:s:pageviews",
    "ym:s:bounceRate",
    "ym:s:pageDepth",
    "ym:s:avgVisitDurationSeconds",
)
ECOMMERCE_METRICS = ("ym:s:ecommercePurchases", "ym:s:ecommerceRevenue")
TRAFFIC_DIMENSIONS = ("ym:s:date", "ym:s:lastTrafficSource")
DEMOGRAPHIC_DIMENSIONS = ("ym:s:date", "ym:s:gender", "ym:s:ageInterval")
DEMOGRAPHIC_METRICS = ("ym:s:visits", "ym:s:users")


class MetrikaError(ApiError):
    source = "Yandex.Metrika"


class MetrikaAuthError(AuthError, MetrikaError):
    pass


class MetrikaUnexpectedResponse(UnexpectedResponse, MetrikaError):
    """A report or counter answer without a documented field, or with one of another type."""


class MetrikaBadRequest(MetrikaError):
    def __init__(self, message: str, error_type: str | None):
        super().__init__(message)
        self.error_type = error_type


@dataclass
class ReportRow:
    dimensions: dict[str, str | None]  # dimension -> its `name` (or id)
    metrics: dict[str, float | None]
    sampled: bool
    sample_share: float


class MetrikaClient(JsonApiClient):
    source = "Yandex.Metrika"
    unexpected = MetrikaUnexpectedResponse

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, **kwargs):
        super().__init__(base_url, secrets=[token], **kwargs)
        self.session.headers.update({"Authorization": f"OAuth {token}"})

    def decode(self, response: requests.Response, url: str):
        status = response.status_code
        if status == 429 or status >= 500:
            body = self._errors(response)
            raise TransientError(
                f"Yandex.Metrika answered HTTP {status} ({body[0] or 'no error type'}: {body[1]})",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 400:
            error_type, message = self._errors(response)
            if error_type and error_type.startswith("quota"):
                raise TransientError(
                    f"Yandex.Metrika quota exceeded ({error_type}: {message})",
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            if error_type == "invalid_token" or status == 401:
                raise MetrikaAuthError(
                    f"Yandex.Metrika rejected the OAuth token ({message}): issue a new token with the "
                    "metrika:read scope at oauth.yandex.ru and set YANDEX_METRIKA_OAUTH_TOKEN."
                )
            if error_type == "access_denied" or status == 403:
                raise MetrikaAuthError(
                    f"Yandex.Metrika denied access ({message}): the token's account needs at least view "
                    "access to counter YANDEX_METRIKA_COUNTER_ID, and the token the metrika:read scope."
                )
            raise MetrikaBadRequest(
                f"Yandex.Metrika refused the request (HTTP {status}, {error_type}): {message}", error_type
            )
        return self.json_body(response, url)

    def _errors(self, response: requests.Response) -> tuple[str | None, str]:
        try:
            body = response.json()
            first = (body.get("errors") or [{}])[0]
            return first.get("error_type"), self.redact(first.get("message") or body.get("message") or "")
        except (ValueError, AttributeError, KeyError, IndexError, TypeError):  # describing an error must not raise
            return None, "no readable error body"

    def counter(self, counter_id: str) -> dict:
        """GET /management/v1/counter/{id}: the cheapest call that proves token and counter access."""
        path = f"management/v1/counter/{counter_id}"
        shape = self.shape("GET", path)
        counter = shape.obj(shape.field(shape.obj(self.request("GET", path), "the body"), "counter"), "'counter'")
        return {**counter, "id": shape.whole(counter.get("id"), "the counter's 'id'", optional=True)}

    def report(
        self,
        counter_id: str,
        date1: date,
        date2: date,
        metrics: Sequence[str],
        dimensions: Sequence[str],
        page_limit: int = PAGE_LIMIT,
    ) -> list[ReportRow]:
        """A report over [date1, date2] (inclusive), metrics split by 20 and joined on the dimensions."""
        merged: dict[tuple, ReportRow] = {}
        for start in range(0, len(metrics), MAX_METRICS):
            chunk = list(metrics[start : start + MAX_METRICS])
            for row in self._report_pages(counter_id, date1, date2, chunk, dimensions, page_limit):
                key = tuple(row.dimensions.values())
                if key in merged:
                    merged[key].metrics.update(row.metrics)
                    merged[key].sampled |= row.sampled
                    merged[key].sample_share = min(merged[key].sample_share, row.sample_share)
                else:
                    merged[key] = row
        for row in merged.values():
            for metric in metrics:
                row.metrics.setdefault(metric, None)
        return list(merged.values())

    def _report_pages(self, counter_id, date1, date2, metrics, dimensions, page_limit) -> Iterator[ReportRow]:
        offset = 1
        while True:
            params = {
                "ids": counter_id,
                "metrics": ",".join(metrics),
                "dimensions": ",".join(dimensions),
                "date1": date1.isoformat(),
                "date2": date2.isoformat(),
                "accuracy": "full",
                "limit": page_limit,
                "offset": offset,
                "lang": "en",
            }
            shape = self.shape("GET", "stat/v1/data", params)
            body = shape.obj(self.request("GET", "stat/v1/data", params=params), "the body")
            rows = shape.items(shape.field(body, "data"), "'data'")
            total = shape.whole(shape.field(body, "total_rows"), "'total_rows'")
            sampled, share = _sampling(shape, body)
            for number, item in enumerate(rows, offset):
                yield _report_row(shape, number, item, dimensions, metrics, sampled, share)
            if not rows and offset <= total:
                shape.fail(f"'data' is empty at row {offset} although 'total_rows' is {total}")
            offset += len(rows)
            if not rows or offset > total:
                return


def _sampling(shape: Shape, body: dict) -> tuple[bool, float]:
    """Whether Metrika sampled the answer, and the share it read. Each field vouches for the other when one
    is missing (a share below 1 is sampled); `sampled` without its share cannot be weighed and fails."""
    share = shape.number(body.get("sample_share"), "'sample_share'", optional=True) or None  # 0: the docs' placeholder
    sampled = body.get("sampled", share is not None and share < 1)
    if not isinstance(sampled, bool):
        shape.fail(f"'sampled' is {described(sampled)}, not true or false")
    if sampled and share is None:
        shape.fail("'sampled' is true but 'sample_share' is missing")
    return sampled, float(share or 1.0)


def _report_row(
    shape: Shape, number: int, item, dimensions: Sequence[str], metrics: Sequence[str], sampled: bool, share: float
) -> ReportRow:
    """One row, checked against what was asked: dimensions and metrics are positional, so a short list
    would shift or drop values (a missing ym:s:gender once crashed demographics with a bare KeyError)."""
    row = f"row {number} of 'data'"
    item = shape.obj(item, row)
    values = shape.items(shape.field(item, "dimensions", row), f"{row}'s 'dimensions'")
    if len(values) != len(dimensions):  # positional: which one is missing cannot be told, so none is guessed
        shape.fail(
            f"{row} has {len(values)} 'dimensions' where {len(dimensions)} were requested "
            f"({', '.join(dimensions)}), so its values cannot be matched to them"
        )
    found = shape.items(shape.field(item, "metrics", row), f"{row}'s 'metrics'")
    if len(found) != len(metrics):
        shape.fail(
            f"{row} has {len(found)} 'metrics' where {len(metrics)} were requested ({', '.join(metrics)}), "
            "so its values cannot be matched to them"
        )
    return ReportRow(
        {d: _dimension_value(shape, row, d, v) for d, v in zip(dimensions, values, strict=False)},
        {m: shape.number(v, f"{row}'s metric {m}", optional=True) for m, v in zip(metrics, found, strict=False)},
        sampled,
        share,
    )


def _dimension_value(shape: Shape, row: str, dimension: str, value) -> str | None:
    """A dimension is an object with `name` (and usually `id`), or a bare value in older answers."""
    if isinstance(value, dict):
        if "name" not in value:
            shape.fail(f"{row}'s dimension {dimension} has no 'name'")
        return value["name"] if value["name"] is not None else value.get("id")
    if isinstance(value, (list, bool)):
        shape.fail(f"{row}'s dimension {dimension} is {described(value)}, neither an object nor a value")
    return value
