"""1C:Enterprise settings: the OData URL, credentials, and the entity-set names of this base."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import ClassVar

import dagster as dg
from pydantic import Field

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.clients.onec import DEFAULT_PAGE_SIZE, OnecClient, basic_token, normalize_entity_set
from glame_pipelines.sources import SourceNotConfigured

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
# Sets a base may lack (no bonus program, no receipts journal published…): an empty variable turns the
# set off. What each feeds is what turning it off leaves null in the marts.
OPTIONAL_SETS = {
    "card_sales": ("card_sales_endpoint", "sales_daily.discount_amount; card purchases in customer_purchases"),
    "bonus_points": ("bonus_points_endpoint", "staging only (stg_onec__bonus_points)"),
    "bonus_balances": ("bonus_balances_endpoint", "customer_profile.bonus_balance"),
    "receipts": (
        "receipts_endpoint",
        "receipt counts: sales_daily.order_count of stores, store_traffic_daily.receipts",
    ),
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


def entity_set_field(field: str, meaning: str):
    """The resource field of one entity set: its variable, what it names, and the standard name."""
    variable, default = ENTITY_SET_DEFAULTS[field]
    return Field(
        default=default,
        description=f"{variable}: entity set of {meaning}, as this base publishes it (default {default}).",
    )


def env_variable(field: str) -> str:
    return ENTITY_SET_DEFAULTS[field][0]


def turned_off_sets(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Optional sets this base has not got (their variable set but empty): asset name -> the reason."""
    env = os.environ if env is None else env
    off = {}
    for name, (field, _) in OPTIONAL_SETS.items():
        variable = env_variable(field)
        if variable in env and OnecResource.is_off(env[variable]):
            off[name] = f"turned off: {variable} is empty (this base has no such set)"
    return off


def turned_off_assets(env: Mapping[str, str] | None = None) -> dict[dg.AssetKey, str]:
    """The 1C assets to leave out of runs because their optional set is turned off, with the reason."""
    return {dg.AssetKey(["onec", name]): reason for name, reason in turned_off_sets(env).items()}


class OnecResource(dg.ConfigurableResource):
    """Connection to the base's standard OData interface (…/odata/standard.odata)."""

    # An empty value of these fields means the base has no such set (see OPTIONAL_SETS).
    empty_means_off: ClassVar[frozenset[str]] = frozenset(field for field, _ in OPTIONAL_SETS.values())

    api_url: str | None = Field(default=None, description="ONEC_API_URL: …/odata/standard.odata of the base.")
    api_token: str | None = Field(default=None, description="ONEC_API_TOKEN: base64 of login:password.")
    username: str | None = Field(default=None, description="ONEC_USERNAME, with ONEC_PASSWORD, instead of a token.")
    password: str | None = Field(
        default=None, description="ONEC_PASSWORD: the 1C user's password (with ONEC_USERNAME)."
    )
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, description="ONEC_PAGE_SIZE: records per request ($top).")
    timeout_seconds: float = Field(default=60.0, description="Per-request timeout.")
    opening_balances_date: str = Field(
        default="2023-07-31", description="ONEC_OPENING_BALANCES_DATE: date of the migrated opening balances."
    )
    sales_endpoint: str = entity_set_field("sales_endpoint", "the sales register")
    card_sales_endpoint: str = entity_set_field("card_sales_endpoint", "the sales-by-discount-card register (optional)")
    bonus_points_endpoint: str = entity_set_field("bonus_points_endpoint", "the bonus points register (optional)")
    bonus_balances_endpoint: str = entity_set_field("bonus_balances_endpoint", "the bonus balances table (optional)")
    receipts_endpoint: str = entity_set_field("receipts_endpoint", "the retail receipts journal (optional)")
    discount_cards_endpoint: str = entity_set_field("discount_cards_endpoint", "the discount cards catalog")
    customers_endpoint: str = entity_set_field("customers_endpoint", "the customers (counterparties) catalog")
    products_endpoint: str = entity_set_field("products_endpoint", "the products catalog")
    stores_endpoint: str = entity_set_field("stores_endpoint", "the stores (warehouses) catalog")

    @staticmethod
    def is_off(value: str) -> bool:
        return not normalize_entity_set(value)

    def entity_set(self, field: str) -> str | None:
        """The set's name as 1C knows it (a leading slash, spaces or quotes dropped); None when turned off."""
        return normalize_entity_set(getattr(self, field)) or None

    def turned_off(self) -> list[str]:
        """Names of the optional sets this base has not got."""
        return sorted(name for name, (field, _) in OPTIONAL_SETS.items() if self.entity_set(field) is None)

    def token(self) -> str:
        if self.api_token:
            return self.api_token
        if self.username and self.password:
            return basic_token(self.username, self.password)
        raise SourceNotConfigured(["ONEC_API_TOKEN or ONEC_USERNAME and ONEC_PASSWORD"])

    def client(self, retry: RetryPolicy | None = None) -> OnecClient:
        if not self.api_url:
            raise SourceNotConfigured(["ONEC_API_URL"])
        return OnecClient(
            self.api_url,
            self.token(),
            page_size=self.page_size,
            timeout=self.timeout_seconds,
            retry=retry or RetryPolicy(),
        )
