"""POST /api/predictions and GET /api/predictions against the real model and the Cosmos emulator."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import AUDI, cosmos_container, wait_for

pytestmark = pytest.mark.xdist_group("app")


def test_a_valid_car_gets_a_price_inside_its_range_with_model_version_and_id(api: TestClient, model_dir) -> None:
    response = api.post("/api/predictions", json=AUDI)

    assert response.status_code == 201
    body = response.json()
    card = json.loads((model_dir / "model_card.json").read_text())
    assert body["model_version"] == card["model_version"]
    assert body["price_low"] <= body["price"] <= body["price_high"]
    assert 3_000 < body["price"] < 60_000  # a 1985 audi sedan, in dollars
    assert len(body["id"]) == 32 and response.headers["location"].endswith(body["id"])
    assert body["features"]["horsepower"] == AUDI["horsepower"] and body["region"] == "testregion"


def test_every_prediction_lands_in_cosmos_partitioned_by_make(api: TestClient, cosmos) -> None:
    created = api.post("/api/predictions", json={**AUDI, "make": "saab"}).json()
    container = cosmos_container(cosmos)

    stored = wait_for(
        lambda: list(container.query_items(
            "SELECT * FROM c WHERE c.make = @make AND c.id = @id",
            parameters=[{"name": "@make", "value": "saab"}, {"name": "@id", "value": created["id"]}],
            partition_key="saab",
        )),
        what="the prediction in Cosmos DB",
    )
    assert stored[0]["price"] == created["price"] and stored[0]["model_version"] == created["model_version"]


def test_history_is_newest_first_bounded_by_limit_and_filtered_by_make(api: TestClient) -> None:
    ids = [api.post("/api/predictions", json={**AUDI, "make": make}).json()["id"] for make in ("volvo", "bmw", "volvo")]

    newest_two = api.get("/api/predictions", params={"limit": 2}).json()
    assert [p["id"] for p in newest_two["items"]] == [ids[2], ids[1]]
    assert newest_two["limit"] == 2 and newest_two["store_ok"] is True

    volvos = api.get("/api/predictions", params={"make": "volvo", "limit": 200}).json()["items"]
    assert {p["make"] for p in volvos} == {"volvo"}
    assert [p["id"] for p in volvos][:2] == [ids[2], ids[0]]
    times = [p["created_at"] for p in volvos]
    assert times == sorted(times, reverse=True)


def test_history_default_page_is_bounded(api: TestClient) -> None:
    page = api.get("/api/predictions").json()
    assert page["limit"] == 50 and len(page["items"]) <= 50


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 201}, "limit", "less than or equal to 200"),
        ({"limit": "ten"}, "limit", "valid integer"),
        ({"make": "tesla"}, "make", 'unknown value "tesla"'),
    ],
)
def test_history_rejects_bad_query_parameters_naming_the_field(api: TestClient, params, field, reason) -> None:
    response = api.get("/api/predictions", params=params)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e["field"] == field and reason in e["reason"] for e in errors), errors


def test_post_and_get_show_one_representation_of_each_value(api: TestClient, cosmos) -> None:
    posted = api.post("/api/predictions", json={**AUDI, "engine_size": 122.0}).json()
    container = cosmos_container(cosmos)
    wait_for(lambda: list(container.query_items(
        "SELECT c.id FROM c WHERE c.make = @make AND c.id = @id", partition_key="audi",
        parameters=[{"name": "@make", "value": "audi"}, {"name": "@id", "value": posted["id"]}],
    )), what="the prediction in Cosmos DB")
    read = api.get(f"/api/predictions/{posted['id']}").json()  # read back from Cosmos DB once drained
    assert posted == read
    assert posted["features"]["engine_size"] == 122 and type(posted["features"]["engine_size"]) is int
    assert type(posted["price"]) is float
