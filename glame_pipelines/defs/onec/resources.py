"""1C:Enterprise settings: the OData URL, credentials, and the entity-set names of this base."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.onec import DEFAULT_PAGE_SIZE, OnecClient, basic_token
from glame_pipelines.settings import SourceNotConfigured

ENTITY_SET_DEFAULTS = {
    "sales_endpoint": ("ONEC_SALES_ENDPOINT", "AccumulationRegister_Продажи_RecordType"),
    "card_sales_endpoint": ("ONEC_CARD_SALES_ENDPOINT", "AccumulationRegister_ПродажиПоДисконтнымКартам_RecordType"),
    "bonus_points_endpoint": ("ONEC_BONUS_POINTS_ENDPOINT", "AccumulationRegister_БонусныеБаллы_RecordType"),
    "bonus_balances_endpoint": ("ONEC_BONUS_BALANCES_ENDPOINT", "AccumulationRegister_БонусныеБаллы/Balance"),
    "receipts_endpoint": ("ONEC_RECEIPTS_ENDPOINT", "DocumentJournal_РозничныеПродажи"),
    "discount_cards_endpoint": ("ONEC_DISCOUNT_CARDS_ENDPOINT", "Catalog_ДисконтныеКарты"),
    "customers_endpoint": ("ONEC_CUSTOMERS_ENDPOINT", "Catalog_Контрагенты"),
    "products_endpoint": ("ONEC_PRODUCTS_ENDPOINT", "Catalog_Номенклатура"),
    "stores_endpoint": ("ONEC_STORES_ENDPOINT", "Catalog_Склады"),
}
ENV = {
    "api_url": "ONEC_API_URL",
    "api_token": "ONEC_API_TOKEN",
    "username": "ONEC_USERNAME",
    "password": "ONEC_PASSWORD",
    "page_size": "ONEC_PAGE_SIZE",
    "opening_balances_date": "ONEC_OPENING_BALANCES_DATE",
    **{field: var for field, (var, _) in ENTITY_SET_DEFAULTS.items()},
}


class OnecResource(dg.ConfigurableResource):
    """Connection to the base's standard OData interface (…/odata/standard.odata)."""

    api_url: str | None = Field(default=None, description="ONEC_API_URL: …/odata/standard.odata of the base.")
    api_token: str | None = Field(default=None, description="ONEC_API_TOKEN: base64 of login:password.")
    username: str | None = Field(default=None, description="ONEC_USERNAME, with ONEC_PASSWORD, instead of a token.")
    password: str | None = Field(default=None, description="ONEC_PASSWORD.")
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, description="ONEC_PAGE_SIZE: records per request ($top).")
    timeout_seconds: float = Field(default=60.0, description="Per-request timeout.")
    opening_balances_date: str = Field(default="2023-07-31", description="ONEC_OPENING_BALANCES_DATE: date of the migrated opening balances.")
    sales_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["sales_endpoint"][1], description="ONEC_SALES_ENDPOINT.")
    card_sales_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["card_sales_endpoint"][1], description="ONEC_CARD_SALES_ENDPOINT.")
    bonus_points_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["bonus_points_endpoint"][1], description="ONEC_BONUS_POINTS_ENDPOINT.")
    bonus_balances_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["bonus_balances_endpoint"][1], description="ONEC_BONUS_BALANCES_ENDPOINT.")
    receipts_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["receipts_endpoint"][1], description="ONEC_RECEIPTS_ENDPOINT.")
    discount_cards_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["discount_cards_endpoint"][1], description="ONEC_DISCOUNT_CARDS_ENDPOINT.")
    customers_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["customers_endpoint"][1], description="ONEC_CUSTOMERS_ENDPOINT.")
    products_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["products_endpoint"][1], description="ONEC_PRODUCTS_ENDPOINT.")
    stores_endpoint: str = Field(default=ENTITY_SET_DEFAULTS["stores_endpoint"][1], description="ONEC_STORES_ENDPOINT.")

    def token(self) -> str:
        if self.api_token:
            return self.api_token
        if self.username and self.password:
            return basic_token(self.username, self.password)
        raise SourceNotConfigured("onec", ["ONEC_API_TOKEN or ONEC_USERNAME and ONEC_PASSWORD"])

    def client(self, retry: RetryPolicy | None = None) -> OnecClient:
        if not self.api_url:
            raise SourceNotConfigured("onec", ["ONEC_API_URL"])
        return OnecClient(self.api_url, self.token(), page_size=self.page_size, timeout=self.timeout_seconds,
                          retry=retry or RetryPolicy())
