"""Every kind of bad input to POST /api/predictions: 422 (or 413/415) naming the field and the reason,
with the same messages batch scoring gives (ml.carprice.schema)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import AUDI

pytestmark = pytest.mark.xdist_group("app")


def _without(field: str) -> dict:
    return {k: v for k, v in AUDI.items() if k != field}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (_without("curb_weight"), "curb_weight", "required field is missing"),
        ({**AUDI, "colour": "red"}, "colour", "unknown field"),
        ({**AUDI, "make": "tesla"}, "make", 'unknown value "tesla"; allowed: alfa-romero, audi'),
        ({**AUDI, "num_of_doors": 4}, "num_of_doors", "unknown value 4"),
        ({**AUDI, "horsepower": "111"}, "horsepower", "valid number"),
        ({**AUDI, "horsepower": True}, "horsepower", "valid number"),
        ({**AUDI, "curb_weight": None}, "curb_weight", "valid number"),  # null is "not known" only if optional
        ({**AUDI, "horsepower": 5000}, "horsepower", "less than or equal to 400"),
        ({**AUDI, "engine_size": 1}, "engine_size", "greater than or equal to 40"),
        ({**AUDI, "symboling": 1.5}, "symboling", "valid integer"),
        ({**AUDI, "peak_rpm": -1}, "peak_rpm", "greater than or equal to 3000"),
        ([AUDI], "(row)", "expected a JSON object, got an array"),
        ("audi", "(row)", "expected a JSON object, got a string"),
    ],
    ids=[
        "missing", "unknown-field", "unknown-make", "wrong-literal-type", "number-as-string", "bool", "null",
        "too-high", "too-low", "float-for-int", "optional-out-of-range", "array", "string",
    ],
)
def test_bad_car_is_422_with_field_and_reason(api: TestClient, body, field, reason) -> None:
    response = api.post("/api/predictions", json=body)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e["field"] == field and reason in e["reason"] for e in errors), errors


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected_for_their_field(api: TestClient, literal: str) -> None:
    body = '{"make":"audi","body_style":"sedan","fuel_type":"gas","aspiration":"std","num_of_doors":"four",' \
           f'"drive_wheels":"fwd","engine_size":109,"horsepower":{literal},"curb_weight":2337,"city_mpg":24,' \
           '"highway_mpg":30}'
    response = api.post("/api/predictions", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["horsepower"]


def test_every_bad_field_is_reported_at_once(api: TestClient) -> None:
    response = api.post("/api/predictions", json={**AUDI, "make": "tesla", "horsepower": 0, "curb_weight": "heavy"})
    assert {e["field"] for e in response.json()["errors"]} == {"make", "horsepower", "curb_weight"}


@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"make": "audi",}', b"\xff\xfe"], ids=["empty", "truncated", "trailing-comma", "not-utf8"]
)
def test_malformed_json_is_422_for_the_body(api: TestClient, body: bytes) -> None:
    response = api.post("/api/predictions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "(body)"
    assert "not valid JSON" in response.json()["errors"][0]["reason"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_non_json_content_type_is_415(api: TestClient, content_type: str) -> None:
    response = api.post("/api/predictions", content=b'{"make":"audi"}', headers={"content-type": content_type})
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"][0]["reason"]


def test_json_content_type_with_charset_is_accepted(api: TestClient) -> None:
    response = api.post(
        "/api/predictions", content=b'{"make":"audi"}', headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 422  # parsed as JSON; the car is incomplete


def test_oversized_body_is_413_before_it_is_parsed(api: TestClient) -> None:
    padding = "x" * 20_000
    response = api.post("/api/predictions", json={**AUDI, "padding": padding})
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "(body)"


def test_oversized_chunked_body_without_content_length_is_413(api: TestClient) -> None:
    def chunks():
        for _ in range(20):
            yield b" " * 1024

    response = api.post("/api/predictions", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
