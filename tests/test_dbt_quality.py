"""The dbt project's shape and gates, read from its files (no database, no dbt run): one YAML per mart, unit
tests for the rules most easily broken, freshness defined once (by Dagster). The unit tests themselves run in
every `dbt build`: tests/test_marts.py's build fails if one does."""

from __future__ import annotations

from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"


def yaml_docs(folder: Path) -> dict[Path, dict]:
    return {path: yaml.safe_load(path.read_text()) or {} for path in sorted(folder.rglob("*.yml"))}


def unit_tests() -> dict[str, dict]:
    return {test["name"]: test for doc in yaml_docs(MODELS).values() for test in doc.get("unit_tests", [])}


def given_values(test: dict, column: str) -> list:
    return [row.get(column) for given in test["given"] for row in given.get("rows", [])]


def expected_values(test: dict, column: str) -> list:
    return [row.get(column) for row in test["expect"]["rows"]]


def test_one_yaml_per_mart_named_after_it():
    """Catches a mart documented in a shared file again, or a mart without its YAML."""
    marts = MODELS / "marts"
    for sql in sorted(marts.glob("*.sql")):
        doc = yaml.safe_load(sql.with_suffix(".yml").read_text())
        assert [model["name"] for model in doc["models"]] == [sql.stem], sql.name
    grouped = [p.name for p in marts.glob("_*.yml") if yaml.safe_load(p.read_text()).get("models")]
    assert grouped == []
    assert (marts / "_exposures.yml").exists()


def test_every_model_is_documented_once():
    names = [model["name"] for doc in yaml_docs(MODELS).values() for model in doc.get("models", [])]
    assert sorted(names) == sorted(set(names))
    assert set(names) == {sql.stem for sql in MODELS.rglob("*.sql")}


def test_unit_test_for_receipts_versus_documents():
    """sales_daily's order_count: receipts for offline store-days the journal covers, documents otherwise."""
    tests = [t for t in unit_tests().values() if t["model"] == "sales_daily"]
    assert any({"receipts", "documents"} <= set(expected_values(t, "order_count_source")) for t in tests)


def test_unit_test_for_every_rfm_segment():
    """customer_profile's segmentation: each accepted segment is reached by a given customer."""
    doc = yaml.safe_load((MODELS / "marts" / "customer_profile.yml").read_text())
    segment = next(c for c in doc["models"][0]["columns"] if c["name"] == "segment")
    accepted = set(segment["data_tests"][0]["accepted_values"]["arguments"]["values"])
    tests = [t for t in unit_tests().values() if t["model"] == "customer_profile"]
    assert any(set(expected_values(t, "segment")) == accepted for t in tests)


def test_unit_tests_for_the_moscow_day_at_0005_and_2355():
    """A sale at 00:05 and one at 23:55 Moscow time: the sales window, 1C's naive periods, UTC instants."""
    by_model = {}
    for test in unit_tests().values():
        given = " ".join(str(v) for column in ("sold_at", "period", "posted_at") for v in given_values(test, column))
        by_model.setdefault(test["model"], []).append(given)
    assert any("00:05" in g and "23:55" in g for g in by_model["sales_daily"])
    assert any("00:05" in g and "23:55" in g for g in by_model["stg_onec__sales"])
    # 00:05 and 23:55 in Moscow (UTC+3) are 21:05 the day before and 20:55 in UTC
    assert any("21:05:00+00" in g and "20:55:00+00" in g for g in by_model["stg_telegram__channel_posts"])


def test_unit_tests_for_phone_normalisation():
    """The phone_e164 macro through the models that use it: E.164 for Russian numbers, null for the rest."""
    for model in ("stg_onec__discount_cards", "stg_onec__customers"):
        phones = [p for t in unit_tests().values() if t["model"] == model for p in expected_values(t, "phone")]
        assert "+79781234567" in phones and None in phones, model


def test_unit_tests_pin_the_incremental_branch():
    """An incremental model's unit test says which branch it tests; without it dbt asks the database."""
    incremental = {sql.stem for sql in MODELS.rglob("*.sql") if "materialized='incremental'" in sql.read_text()}
    for name, test in unit_tests().items():
        if test["model"] in incremental:
            assert "is_incremental" in test.get("overrides", {}).get("macros", {}), name


def test_freshness_is_not_declared_in_dbt():
    """Dagster's FreshnessPolicy on the raw assets is the one definition (GLAME_FRESHNESS_DAYS)."""
    for path, doc in yaml_docs(MODELS / "staging").items():
        for source in doc.get("sources", []):
            tables = [source, *source.get("tables", [])]
            assert not any("freshness" in t or "loaded_at_field" in t for t in tables), path
