"""A throwaway eighth source (a Wildberries seller account), kept outside glame_pipelines: the test that
copies this package beside the project proves a source is one folder and nothing central lists it."""

import dagster as dg
from pydantic import Field

from glame_extra.defs.wildberries.tables import TABLES
from glame_pipelines.sources import CheckFailed, Source


class WildberriesResource(dg.ConfigurableResource):
    """A seller account's statistics API."""

    api_token: str | None = Field(default=None, description="WILDBERRIES_API_TOKEN: the seller's statistics token.")
    seller_id: str = Field(default="demo-seller", description="WILDBERRIES_SELLER_ID: the seller's id.")


def check(resource: WildberriesResource) -> str:
    if resource.api_token == "revoked":
        raise CheckFailed("Wildberries rejected the token: issue a new one (WILDBERRIES_API_TOKEN)")
    return f"seller {resource.seller_id} readable"


SOURCE = Source(
    name="wildberries",
    label="Wildberries",
    resource=WildberriesResource,
    variables={"api_token": "WILDBERRIES_API_TOKEN", "seller_id": "WILDBERRIES_SELLER_ID"},
    required=("WILDBERRIES_API_TOKEN",),
    check=check,
    tables=TABLES,
)
