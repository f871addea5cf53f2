"""The listings index through the real azure-search-documents SDK against the search stand-in: the deploy step's
schema, idempotent writes by listing id from the function app's stream scoring, hybrid search with filters, and
the service behaviour the stand-in holds to (keys refused, unknown fields and non-filterable filters refused)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.search.documents import SearchClient

from contract.listings_index import EMBEDDING_DIMENSIONS, LISTINGS_INDEX, index_definition
from functions.handlers import Runtime, score_listings
from functions.listing_index import document_key
from functions.settings import FunctionSettings
from tests.functions.conftest import dataset_listings, listing_events
from tools.deploy.genai.search_index import search_index_model
from tools.local.standins.running import RunningStandIns
from tools.local.standins.search_server import SearchRequestError, _FilterParser

pytestmark = pytest.mark.xdist_group("assistant")


def test_the_deploy_steps_index_is_the_contracts_schema(index_writer: Any) -> None:
    model = search_index_model()
    assert [f.name for f in model.fields] == [f["name"] for f in index_definition()["fields"]]
    vector = next(f for f in model.fields if f.name == "embedding")
    assert vector.vector_search_dimensions == EMBEDDING_DIMENSIONS and vector.hidden
    assert next(f for f in model.fields if f.name == "id").key


def test_stream_listings_are_indexed_once_per_listing_id(cosmos: Any, model_dir: Path, stand_ins: RunningStandIns,
                                                         index_writer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARPRICE_ASSISTANT_CA_FILE", str(stand_ins.ca_file))
    settings = FunctionSettings(cosmos_endpoint=cosmos.endpoint, cosmos_database=f"fn-{uuid.uuid4().hex[:12]}",
                                model_dir=model_dir, search_endpoint=stand_ins.search_server.endpoint,
                                openai_endpoint=stand_ins.openai_server.endpoint)
    runtime = Runtime.from_settings(settings)
    try:
        listings = [{**item, "listing_id": f"stream.{uuid.uuid4().hex[:8]}:{i}"}
                    for i, item in enumerate(dataset_listings()[:12])]
        before = index_writer.search.get_document_count()
        assert score_listings(listing_events(listings), runtime).scored == 12
        assert index_writer.search.get_document_count() == before + 12
        resent = [{**item, "price": 7777} for item in listings]
        score_listings(listing_events(resent, first_sequence=100), runtime)  # a replay: same ids, new asking price
        assert index_writer.search.get_document_count() == before + 12
        doc = index_writer.search.get_document(document_key(listings[0]["listing_id"]))
        assert doc["asking_price"] == 7777 and doc["source"] == "market" and doc["estimated_price"] > 0
    finally:
        runtime.store.close()
        runtime.index.close()


def test_hybrid_search_applies_every_filter(index_writer: Any, indexed: list[dict]) -> None:
    vector = index_writer.embed(["toyota sedan"])[0]
    from azure.search.documents.models import VectorizedQuery

    hits = list(index_writer.search.search(
        search_text="toyota sedan", vector_queries=[VectorizedQuery(vector=vector, k_nearest_neighbors=20,
                                                                     fields="embedding")],
        filter="make eq 'toyota' and body_style eq 'sedan' and year ge 1983 and asking_price le 9000", top=5))
    assert hits and all(h["make"] == "toyota" and h["body_style"] == "sedan" and h["asking_price"] <= 9000
                        for h in hits)
    assert all("embedding" not in h for h in hits)  # not retrievable


def test_the_search_stand_in_refuses_keys_unknown_fields_and_unfilterable_filters(
        stand_ins: RunningStandIns, index_writer: Any) -> None:
    keyed = SearchClient(stand_ins.search_server.endpoint, LISTINGS_INDEX, AzureKeyCredential("a-key"),
                         connection_verify=str(stand_ins.ca_file))
    with pytest.raises(ClientAuthenticationError):
        keyed.get_document_count()
    with pytest.raises(HttpResponseError, match="does not exist"):
        index_writer.search.upload_documents([{"id": "x", "colour": "red"}])
    with pytest.raises(HttpResponseError, match="not a filterable field"):
        list(index_writer.search.search(search_text="*", filter="description eq 'x'"))


@pytest.mark.parametrize(("odata", "sql", "params"), [
    ("make eq 'bmw'", '"make" = ?', ["bmw"]),
    ("year ge 1983 and (make eq 'o''brien' or price_low lt 5)", '("year" >= ? AND ("make" = ? OR "price_low" < ?))',
     [1983.0, "o'brien", 5.0]),
    ("not deal_rating eq null", 'NOT ("deal_rating" IS NULL)', []),
])
def test_odata_filters_become_parameterised_sql(odata: str, sql: str, params: list) -> None:
    parser = _FilterParser(odata, {"make", "year", "price_low", "deal_rating"})
    assert parser.parse() == sql and parser.params == params


@pytest.mark.parametrize("odata", ["make eq", "make = 'x'", "make eq 'x' and", "(make eq 'x'", "make eq 'x'; drop"])
def test_malformed_filters_are_refused(odata: str) -> None:
    with pytest.raises(SearchRequestError):
        _FilterParser(odata, {"make"}).parse()


def test_the_pipeline_step_finds_the_endpoints_in_the_environments_synth_output(tmp_path: Path) -> None:
    import json

    from tools.deploy.genai.search_index import endpoints_from_synth

    stack = tmp_path / "stacks" / "dev-genai"
    stack.mkdir(parents=True)
    stack.joinpath("cdk.tf.json").write_text(json.dumps({"resource": {
        "azurerm_search_service": {"search": {"name": "srch-carprice-dev"}},
        "azurerm_cognitive_account": {"openai": {"kind": "OpenAI", "custom_subdomain_name": "oai-carprice-dev"}},
    }}))
    assert endpoints_from_synth("dev", tmp_path) == {"search": "https://srch-carprice-dev.search.windows.net",
                                                     "openai": "https://oai-carprice-dev.openai.azure.com"}
    assert endpoints_from_synth("prod", tmp_path) == {}
