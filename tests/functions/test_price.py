"""The HTTPS pricing workflow: the function answers like the web app's API and records the prediction."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import azure.functions as func
import httpx
import pytest

from app.web.prediction_lane import price_car
from functions.handlers import Runtime, price
from functions.settings import FunctionSettings
from tests.app.conftest import AUDI
from tools.deploy.app.functions_rollout import check_price

pytestmark = [pytest.mark.xdist_group("functions"), pytest.mark.slow]


def post(body: bytes, content_type: str = "application/json") -> func.HttpRequest:
    return func.HttpRequest("POST", "https://func.example/api/price", headers={"content-type": content_type},
                            body=body)


def test_a_car_is_priced_and_recorded_for_the_dashboard(runtime: Runtime) -> None:
    response = price(post(json.dumps(AUDI).encode()), runtime)
    assert response.status_code == 201 and response.mimetype == "application/json"
    prediction = json.loads(response.get_body())
    assert prediction["price_low"] <= prediction["price"] <= prediction["price_high"]
    assert prediction["region"] == "testregion" and prediction["features"] == AUDI
    stored = runtime.store.query("history", "SELECT * FROM c WHERE c.id = @id", {"@id": prediction["id"]})
    assert stored == [prediction]


@pytest.mark.parametrize("body", [
    {**AUDI, "make": "tesla"},
    {**AUDI, "horsepower": "102"},
    {k: v for k, v in AUDI.items() if k != "curb_weight"},
    {**AUDI, "colour": "red"},
    [AUDI],
])
def test_invalid_cars_get_the_web_apps_422(runtime: Runtime, body: object) -> None:
    raw = json.dumps(body).encode()
    response = price(post(raw), runtime)
    # An invalid car never reaches the web app's service: only the data set it validates against is needed.
    validating = SimpleNamespace(dataset=runtime.dataset)
    app_status, app_body, _ = asyncio.run(price_car(validating, "application/json", raw))  # type: ignore[arg-type]
    assert (response.status_code, json.loads(response.get_body())) == (app_status, json.loads(app_body)) == (
        422, json.loads(app_body))


def test_bad_bodies_get_clear_errors(runtime: Runtime) -> None:
    not_json = price(post(b"{make: audi"), runtime)
    assert not_json.status_code == 422 and "not valid JSON" in json.loads(not_json.get_body())["errors"][0]["reason"]
    assert price(post(json.dumps(AUDI).encode(), "text/plain"), runtime).status_code == 415
    huge = price(post(b" " * (runtime.settings.max_body_bytes + 1)), runtime)
    assert huge.status_code == 413


def test_without_a_model_the_answer_is_503_and_nothing_is_recorded(settings: FunctionSettings,
                                                                    tmp_path: Path) -> None:
    runtime = Runtime.from_settings(FunctionSettings(**{**settings.__dict__, "model_dir": tmp_path}))
    try:
        response = price(post(json.dumps(AUDI).encode()), runtime)
        assert response.status_code == 503
        assert json.loads(response.get_body())["errors"][0]["field"] == "(model)"
        assert runtime.store.query("history", "SELECT * FROM c") == []
    finally:
        runtime.store.close()


def test_the_functions_rollout_check_passes_against_the_real_handler(runtime: Runtime) -> None:
    """tools/deploy/app/functions_rollout.check_price's good and bad cars are the ones this handler answers 201/422."""
    def handler(request: httpx.Request) -> httpx.Response:
        response = price(func.HttpRequest("POST", str(request.url), headers=dict(request.headers),
                                          body=request.content), runtime)
        return httpx.Response(response.status_code, content=response.get_body(),
                              headers={"content-type": response.mimetype})

    check_price("https://func.example/api/price", "token", httpx.Client(transport=httpx.MockTransport(handler)))
