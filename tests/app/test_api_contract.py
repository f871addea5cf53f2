"""The API keeps its contract: pathological bodies get a 4xx in the API's words (never a 500), JSON
Schema's integers, the Location of a new prediction can be read, HEAD/OPTIONS/405 follow HTTP, answers
are not cached, and a schema-based fuzz run finds no answer the OpenAPI document does not describe, the
assistant's routes included (on the Azure OpenAI and AI Search stand-ins): no 5xx, and bad input gets a 422
that names the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from app.main import create_app
from tests.app.conftest import AUDI
from tests.assistant.conftest import assistant_settings, gold_rows, index_writer, indexed, stand_ins  # noqa: F401

pytestmark = pytest.mark.xdist_group("app")

_PYTHON_WORDS = ("sys.", "set_int_max_str_digits", "NoneType", "Traceback", "RecursionError", "codec")


def _post(api: TestClient, body: bytes):  # noqa: ANN202
    return api.post("/api/predictions", content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[" * 1100 + b"]" * 1100, "(body)"),
        (b'{"a":' * 1100 + b"1" + b"}" * 1100, "(body)"),
        (b"[" * 8000 + b"]" * 8000, "(body)"),  # as deep as the body limit allows
        (b"null", "(row)"),
        (b"true", "(row)"),
        (b"3", "(row)"),
        (b'"audi"', "(row)"),
        (b"\xef\xbb\xbf{}", "(body)"),  # a byte-order mark
        (b"{" + b'"make":"audi",' * 900 + b"}", "(body)"),
    ],
    ids=["array-1100-deep", "object-1100-deep", "array-8000-deep", "null", "true", "number", "string", "bom",
         "trailing-comma-after-repeated-keys"],
)
def test_pathological_bodies_get_a_4xx_in_the_apis_words(api: TestClient, body: bytes, field: str) -> None:
    response = _post(api, body)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["field"] == field
    assert not any(word in response.text for word in _PYTHON_WORDS), response.text


def test_top_level_null_is_named_in_json_terms(api: TestClient) -> None:
    assert _post(api, b"null").json()["errors"][0]["reason"] == "expected a JSON object, got null"


@pytest.mark.parametrize("field", ["horsepower", "symboling"])
def test_a_4301_digit_number_is_rejected_for_its_field(api: TestClient, field: str) -> None:
    body = f'{{"make":"audi","body_style":"sedan","fuel_type":"gas","aspiration":"std","num_of_doors":"four",' \
           f'"drive_wheels":"fwd","engine_size":109,"horsepower":102,"curb_weight":2337,"city_mpg":24,' \
           f'"highway_mpg":30,"{field}":{"9" * 4301}}}'
    response = _post(api, body.encode())

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not any(word in response.text for word in _PYTHON_WORDS), response.text


def test_a_whole_number_written_as_a_float_is_an_integer(api: TestClient) -> None:
    response = api.post("/api/predictions", json={**AUDI, "symboling": 3.0})

    assert response.status_code == 201
    assert response.json()["features"]["symboling"] == 3
    assert api.post("/api/predictions", json={**AUDI, "symboling": 2.5}).status_code == 422


def test_the_location_of_a_new_prediction_can_be_read(api: TestClient) -> None:
    created = api.post("/api/predictions", json=AUDI)

    read = api.get(created.headers["location"])
    assert read.status_code == 200 and read.json() == created.json()
    missing = api.get("/api/predictions/no-such-id")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "prediction_id"


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/api/predictions", "/dashboard", "/static/app.css",
                                  "/docs", "/openapi.json"])
def test_head_answers_like_get_without_a_body(api: TestClient, path: str) -> None:
    get, head = api.get(path), api.head(path)

    assert head.status_code == get.status_code
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_options_lists_every_method_of_the_path_and_grants_no_cors(api: TestClient) -> None:
    response = api.options("/api/predictions", headers={"origin": "https://evil.example"})

    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert "access-control-allow-origin" not in response.headers
    assert api.options("/").headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_a_method_the_path_does_not_take_is_405_with_allow_and_the_error_shape(api: TestClient) -> None:
    response = api.put("/api/predictions", json=AUDI)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert response.json()["errors"][0]["field"] == "(request)"


def test_api_answers_are_never_cached_and_static_assets_are(api: TestClient) -> None:
    for response in (api.post("/api/predictions", json=AUDI), api.post("/api/predictions", json={}),
                     api.get("/api/predictions"), api.get("/healthz"), api.get("/readyz"), api.get("/"),
                     api.get("/api/predictions", params={"limit": 0})):
        assert response.headers["cache-control"] == "no-store", response.request.url
    assert api.get("/static/app.css").headers["cache-control"].startswith("public")


@pytest.fixture(scope="module")
def api_schema(model_dir: Path, cosmos, stand_ins, indexed, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201, F811
    """The app on its own outbox (schemathesis runs its lifespan) with the assistant on the stand-ins, described
    by its own OpenAPI document."""
    settings_ = assistant_settings(model_dir, tmp_path_factory.mktemp("fuzz-outbox"), stand_ins, cosmos.endpoint)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(settings_))


@pytest.fixture(scope="module")
def bad_assistant_input(api_schema):  # noqa: ANN001, ANN201
    """The same document, generating only requests that break it (schemathesis' negative mode)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_schema.app)
    schema.config.generation.update(modes=[GenerationMode.NEGATIVE])
    return schema


fuzzed = schemathesis.pytest.from_fixture("api_schema")
broken = schemathesis.pytest.from_fixture("bad_assistant_input").include(tag="assistant", method="POST")


def _names_the_field(response) -> None:  # noqa: ANN001
    assert response.status_code < 500, response.text
    if response.status_code == 422:
        errors = response.json()["errors"]
        assert errors and all(e["field"] for e in errors), response.text
        assert not any(word in response.text for word in _PYTHON_WORDS), response.text


@fuzzed.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_answer_is_one_the_openapi_document_describes(case: schemathesis.Case) -> None:
    # Bounded: up to 40 generated requests per operation, the same ones every run (derandomize).
    response = case.call()
    case.validate_response(response)
    _names_the_field(response)


@broken.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_bad_input_to_the_assistant_gets_a_422_naming_the_field(case: schemathesis.Case) -> None:
    response = case.call()
    _names_the_field(response)
    if case.method.upper() != "POST":  # negative mode also tries methods the path does not take
        assert response.status_code in (204, 405) and response.headers["allow"] == ["POST, OPTIONS"]
        return
    assert response.status_code in (413, 415, 422), (case.body, response.status_code, response.text)
    if response.status_code == 422:  # the question's own field, or the body when it is not a JSON object at all
        assert response.json()["errors"][0]["field"] in ("message", "(body)"), (case.body, response.text)
