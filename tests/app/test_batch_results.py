"""Batch results: the real batch scoring output imported into Cosmos DB, served by the API and the page."""

from __future__ import annotations

import csv
import re

import pytest
from fastapi.testclient import TestClient

from app.store.cosmos import CosmosStore
from ml.carprice.publish import publish_rows, read_predictions
from tests.app.conftest import app_settings

pytestmark = pytest.mark.xdist_group("app")


def test_batch_results_serve_the_last_run_with_prices_and_reasons(api: TestClient, batch_run) -> None:
    _, report = batch_run
    body = api.get("/api/batch-results").json()

    assert body["run"]["run_id"] == report.run_id and body["run"]["model_version"] == report.model_version
    assert len(body["items"]) == report.rows and report.priced > 30 and report.failed > 0
    priced = [r for r in body["items"] if not r["error"]]
    assert all(r["price_low"] <= r["price"] <= r["price_high"] for r in priced)
    failed = [r for r in body["items"] if r["error"]]
    assert len(failed) == report.failed and all(e["field"] and e["reason"] for r in failed for e in r["error"])


def test_batch_results_filter_by_make(api: TestClient, batch_run) -> None:
    path, _ = batch_run
    with path.open() as handle:
        expected = {row["car_id"] for row in csv.DictReader(handle) if row["make"] == "volvo"}

    items = api.get("/api/batch-results", params={"make": "volvo"}).json()["items"]
    assert {r["car_id"] for r in items} == expected and {r["make"] for r in items} == {"volvo"}


def test_batch_results_reject_an_unknown_make(api: TestClient) -> None:
    response = api.get("/api/batch-results", params={"make": "tesla"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "make"


def test_publishing_the_same_run_again_creates_no_duplicates(api: TestClient, batch_run, cosmos, tmp_path) -> None:
    path, report = batch_run
    store = CosmosStore(app_settings(model_dir=tmp_path, outbox_dir=tmp_path, cosmos_endpoint=cosmos.endpoint))
    try:
        again = publish_rows(store.upsert_batch_result, read_predictions(path))
    finally:
        store.close()
    assert again.run_id == report.run_id
    assert len(api.get("/api/batch-results").json()["items"]) == report.rows


def test_batch_page_lists_prices_and_filters_by_make(api: TestClient, batch_run) -> None:
    path, _ = batch_run
    with path.open() as handle:
        make_with_a_bad_row = next(row["make"] for row in csv.DictReader(handle) if row["error"])
    everything = api.get("/batch")
    volvos = api.get("/batch", params={"make": "volvo"})
    with_bad_row = api.get("/batch", params={"make": make_with_a_bad_row})

    assert everything.status_code == 200 and 'data-testid="batch-table"' in everything.text
    assert "Not priced: " in with_bad_row.text  # rows the schema rejected say why
    assert volvos.text.count("<tr>") < everything.text.count("<tr>")
    assert '<option value="volvo" selected>' in volvos.text


def test_batch_page_names_cars_as_a_person_does_not_by_hash(api: TestClient, batch_run) -> None:
    path, _ = batch_run
    with path.open() as handle:
        volvos = [row for row in csv.DictReader(handle) if row["make"] == "volvo" and not row["error"]]
    page = api.get("/batch", params={"make": "volvo"}).text

    titles = re.findall(r'data-testid="batch-car">([^<]+)<', page)
    assert titles and all(t.startswith("Volvo ") for t in titles)
    assert {f"Volvo {row['body_style']}" for row in volvos} <= set(titles)
    assert f"{float(volvos[0]['horsepower']):,.0f} hp" in page
    assert not any(row["car_id"] in page for row in volvos)  # no opaque ids in the table


def test_model_version_wraps_between_its_parts(api: TestClient, batch_run) -> None:
    _, report = batch_run
    page = api.get("/batch").text
    version = report.model_version
    assert version not in page  # broken up by line-break opportunities...
    assert version in page.replace("<wbr>", "")  # ...after its separators, never elsewhere
