"""Yandex.Metrika settings: the counter and an OAuth token with the metrika:read scope."""

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.metrika import DEFAULT_BASE_URL, MetrikaClient
from glame_pipelines.sources import SourceNotConfigured

ENV = {
    "counter_id": "YANDEX_METRIKA_COUNTER_ID",
    "oauth_token": "YANDEX_METRIKA_OAUTH_TOKEN",
    "base_url": "YANDEX_METRIKA_API_URL",
    "lookback_days": "YANDEX_METRIKA_LOOKBACK_DAYS",
}


class MetrikaResource(dg.ConfigurableResource):
    """The Reporting API of one counter."""

    counter_id: str | None = Field(
        default=None, description="YANDEX_METRIKA_COUNTER_ID: the site's counter (tag) number."
    )
    oauth_token: str | None = Field(default=None, description="YANDEX_METRIKA_OAUTH_TOKEN (metrika:read).")
    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description="YANDEX_METRIKA_API_URL: the API's address (the sandbox sets it; default Yandex).",
    )
    lookback_days: int = Field(
        default=2,
        description="YANDEX_METRIKA_LOOKBACK_DAYS: days before the window "
        "re-pulled on every run, because sessions close late.",
    )

    def client(self, retry: RetryPolicy | None = None) -> MetrikaClient:
        missing = [
            var
            for field, var in (("counter_id", ENV["counter_id"]), ("oauth_token", ENV["oauth_token"]))
            if not getattr(self, field)
        ]
        if missing:
            raise SourceNotConfigured(missing)
        return MetrikaClient(self.oauth_token, self.base_url, retry=retry)
