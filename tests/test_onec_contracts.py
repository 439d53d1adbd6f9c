"""The 1C client fed real 1C responses (../shared/contracts/onec_odata/): envelopes, elements, errors."""

from __future__ import annotations

import orjson
import pytest
from conftest import fast_retry
from contracts import CONTRACTS, ReplayApi, sample

from glame_pipelines.clients.http import TransientError
from glame_pipelines.clients.onec import OnecBadRequest, OnecClient, OnecError, clean_ref, parse_onec_datetime
from glame_pipelines.defs.onec.assets import catalog_row
from glame_pipelines.sandbox.server import SandboxServer

PREFIX = "/post/odata/standard.odata/"
pytestmark = pytest.mark.skipif(
    not (CONTRACTS / "onec_odata").exists(), reason="shared/contracts is not beside the repo"
)


def serve(body: bytes, status: int = 200, content_type: str = "application/json; charset=utf-8"):
    api = ReplayApi(PREFIX, body, status, content_type)
    server = SandboxServer([api]).start()
    client = OnecClient(server.url(api), "dXNlcjpwYXNz", page_size=500, timeout=5, retry=fast_retry(max_attempts=3))
    return server, api, client


def test_collection_envelope_is_read():
    server, api, client = serve(sample("onec_odata", "document_kontrakt_collection.json"))
    with server:
        records = list(client.iter_records("Document_Контракт"))
    expected = orjson.loads(sample("onec_odata", "document_kontrakt_collection.json"))["value"]
    assert records == expected and len(records) >= 2
    assert parse_onec_datetime(records[0]["Date"]).isoformat() == "2016-12-26T17:08:57"
    assert api.seen[0].headers["authorization"] == "Basic dXNlcjpwYXNz"
    assert api.seen[0].query["$format"] == "json" and api.seen[0].query["$top"] == "500"


def test_single_element_and_catalog_rows():
    element = orjson.loads(sample("onec_odata", "catalog_kontragenty_element_json.json"))
    assert catalog_row(element) == ("1fa1a135-d89b-11e6-8343-40167e2531c3", "0000021", "Чебоксарец", False)
    assert parse_onec_datetime(element["Дата"]) is None  # 0001-01-01T00:00:00 is "no date"
    assert element["Комментарии"][0]["LineNumber"] == "1"  # tabular-part line numbers are strings
    bp30 = orjson.loads(sample("onec_odata", "catalog_kontragenty_value_item_bp30.json"))
    assert catalog_row(bp30)[0] == "a348aa8c-d629-11e5-0a9b-000c295e30eb"
    assert clean_ref(bp30["УдалитьОсновнойДоговорКонтрагента_Key"]) is None


def test_error_13_is_a_bad_request_with_its_message():
    server, _, client = serve(sample("onec_odata", "error_13_tabular_rows_not_supported.json"), status=400)
    with server, pytest.raises(OnecBadRequest, match="табличной части") as caught:
        client.probe("Catalog_Контрагенты")
    assert caught.value.code == "13"


def test_internal_error_minus_1_is_transient_and_retried():
    server, api, client = serve(sample("onec_odata", "error_minus1_internal.json"), status=500)
    with server, pytest.raises(TransientError, match="внутренняя ошибка OData"):
        client.probe("Catalog_Контрагенты")
    assert len(api.seen) == 3


def test_atom_xml_answer_is_refused_clearly():
    server, _, client = serve(
        sample("onec_odata", "catalog_kontragenty_element_atom.xml"),
        content_type="application/atom+xml;type=entry;charset=utf-8",
    )
    with server, pytest.raises(OnecError, match="XML instead of JSON"):
        client.probe("Catalog_Контрагенты")


def test_empty_service_document_is_not_mistaken_for_data():
    server, _, client = serve(sample("onec_odata", "service_document_empty.xml"), content_type="application/xml")
    with server, pytest.raises(OnecError, match="XML instead of JSON"):
        client.published_sets()
