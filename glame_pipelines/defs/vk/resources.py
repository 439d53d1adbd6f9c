"""VK settings: an access token of a group admin (stats, wall, groups) and the group id."""

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.vk import DEFAULT_BASE_URL, DEFAULT_VERSION, VkClient
from glame_pipelines.sources import SourceNotConfigured

ENV = {
    "access_token": "VK_ACCESS_TOKEN",
    "group_id": "VK_GROUP_ID",
    "base_url": "VK_API_URL",
    "api_version": "VK_API_VERSION",
    "requests_per_second": "VK_REQUESTS_PER_SECOND",
    "wall_lookback_days": "VK_WALL_LOOKBACK_DAYS",
}


class VkResource(dg.ConfigurableResource):
    """The VK API for one community."""

    access_token: str | None = Field(
        default=None, description="VK_ACCESS_TOKEN: a token of a community admin with stats, wall and groups rights."
    )
    group_id: str | None = Field(default=None, description="VK_GROUP_ID (numeric, without the minus).")
    base_url: str = Field(
        default=DEFAULT_BASE_URL, description="VK_API_URL: the API's address (the sandbox sets it; default VK)."
    )
    api_version: str = Field(
        default=DEFAULT_VERSION, description="VK_API_VERSION: the API version sent as v=, e.g. 5.199."
    )
    requests_per_second: int = Field(
        default=3, description="VK_REQUESTS_PER_SECOND: our own pace (3 for a user token, 20 for a community token)."
    )
    wall_lookback_days: int = Field(
        default=90, description="VK_WALL_LOOKBACK_DAYS: posts re-read each day; 0 reads the whole wall."
    )

    def client(self, retry: RetryPolicy | None = None) -> VkClient:
        missing = [ENV[f] for f in ("access_token", "group_id") if not getattr(self, f)]
        if missing:
            raise SourceNotConfigured(missing)
        return VkClient(self.access_token, self.base_url, self.api_version, self.requests_per_second, retry=retry)
