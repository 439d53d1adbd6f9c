"""Instagram settings: a long-lived token and the Instagram business account id."""

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.instagram import DEFAULT_BASE_URL, DEFAULT_VERSION, InstagramClient
from glame_pipelines.sources import SourceNotConfigured

ENV = {
    "access_token": "INSTAGRAM_ACCESS_TOKEN",
    "account_id": "INSTAGRAM_BUSINESS_ACCOUNT_ID",
    "base_url": "INSTAGRAM_API_URL",
    "api_version": "INSTAGRAM_API_VERSION",
    "media_insights_days": "INSTAGRAM_MEDIA_INSIGHTS_DAYS",
}


class InstagramResource(dg.ConfigurableResource):
    """The Graph API for one Instagram business account."""

    access_token: str | None = Field(default=None, description="INSTAGRAM_ACCESS_TOKEN (long-lived).")
    account_id: str | None = Field(
        default=None, description="INSTAGRAM_BUSINESS_ACCOUNT_ID: the Instagram business account's id (17841…)."
    )
    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description="INSTAGRAM_API_URL: the Graph API's address (the sandbox sets it; default Facebook).",
    )
    api_version: str = Field(
        default=DEFAULT_VERSION, description="INSTAGRAM_API_VERSION: the Graph API version called, e.g. v21.0."
    )
    media_insights_days: int = Field(
        default=90, description="INSTAGRAM_MEDIA_INSIGHTS_DAYS: insights are read for media posted in this many days."
    )

    def client(self, retry: RetryPolicy | None = None) -> InstagramClient:
        missing = [ENV[f] for f in ("access_token", "account_id") if not getattr(self, f)]
        if missing:
            raise SourceNotConfigured(missing)
        return InstagramClient(self.access_token, self.account_id, self.base_url, self.api_version, retry=retry)
