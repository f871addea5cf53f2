"""The server-rendered pages: predictor form (dropdowns from the schema), its errors, and the dashboard."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ml.carprice.schema import allowed_values
from tests.app.conftest import AUDI, submit_form

pytestmark = pytest.mark.xdist_group("app")


def test_predictor_dropdowns_offer_exactly_the_values_the_model_knows(api: TestClient) -> None:
    page = api.get("/").text
    for field in ("make", "body_style", "fuel_type", "aspiration", "num_of_doors", "drive_wheels"):
        select = re.search(rf'<select id="f-{field}".*?</select>', page, re.S)
        assert select, field
        assert re.findall(r'<option value="([^"]+)"', select.group(0)) == list(allowed_values(field))
    assert re.search(r'id="f-horsepower"[^>]*min="30[.0]*" max="400', page.replace("\n", " "))


def test_predictor_form_shows_price_range_and_model_version(api: TestClient) -> None:
    response = submit_form(api, {k: str(v) for k, v in AUDI.items()})

    assert response.status_code == 200
    price = re.search(r'data-testid="price">\$([\d,]+)<', response.text)
    assert price and int(price.group(1).replace(",", "")) > 1000
    assert 'data-testid="price-range"' in response.text
    prediction_id = re.search(r'data-testid="prediction-id">(\w+)<', response.text).group(1)
    history = api.get("/api/predictions", params={"limit": 20}).json()["items"]
    assert prediction_id in {p["id"] for p in history}


def test_predictor_form_errors_are_shown_next_to_their_fields_and_values_are_kept(api: TestClient) -> None:
    form = {k: str(v) for k, v in AUDI.items()} | {"horsepower": "lots", "make": "", "curb_weight": "99999"}
    response = submit_form(api, form)

    assert response.status_code == 422
    assert "expected a number, got &#34;lots&#34;" in response.text
    assert "required field is missing" in response.text
    assert "less than or equal to 5000" in response.text
    assert 'value="99999"' in response.text  # what the user typed stays in the form
    assert 'data-testid="price"' not in response.text


def test_dashboard_shows_counts_charts_and_recent_predictions(api: TestClient) -> None:
    made = api.post("/api/predictions", json={**AUDI, "make": "porsche"}).json()
    page = api.get("/dashboard").text.replace("<wbr>", "")

    assert page.count('role="img"') >= 3  # per make, price distribution, traffic
    for title in ("Predictions per make", "Price distribution", "Traffic over time", "Model versions"):
        assert title in page
    assert f'data-prediction-id="{made["id"]}"' in page
    assert made["model_version"] in page


def _history_ids(api: TestClient) -> set[str]:
    return {p["id"] for p in api.get("/api/predictions", params={"limit": 200}).json()["items"]}


@pytest.mark.parametrize(
    "forgery",
    [
        {"headers": {"origin": "https://evil.example"}},
        {"headers": {"sec-fetch-site": "cross-site"}},
        {"headers": {}, "without_token": True},
    ],
    ids=["foreign-origin", "cross-site-fetch", "no-token"],
)
def test_a_cross_site_form_post_is_refused_and_nothing_is_stored(api: TestClient, forgery: dict) -> None:
    form = {k: str(v) for k, v in AUDI.items()}
    page = api.get("/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    if not forgery.get("without_token"):
        form["csrf_token"] = token
    before = _history_ids(api)

    response = api.post("/", data=form, headers=forgery["headers"])

    assert response.status_code == 403
    assert 'data-testid="price"' not in response.text
    assert _history_ids(api) == before


def test_the_form_token_cookie_is_strict_and_http_only(api: TestClient) -> None:
    cookie = api.get("/").headers["set-cookie"].lower()
    assert "carprice_csrf=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


@pytest.mark.parametrize("typed", ["1_22", "\u0661\u0662\u0662", "\uff11\uff12\uff12", "+122", "0x7a"],
                         ids=["underscore", "arabic-indic", "full-width", "plus-sign", "hex"])
def test_the_form_and_the_api_read_numbers_alike(api: TestClient, typed: str) -> None:
    form = submit_form(api, {k: str(v) for k, v in AUDI.items()} | {"engine_size": typed})
    sent = api.post("/api/predictions", content=f'{{"make": "audi", "engine_size": {typed}}}'.encode(),
                    headers={"content-type": "application/json"})
    assert form.status_code == 422 and sent.status_code == 422  # refused by both, never priced by one
    assert 'data-testid="price"' not in form.text


def test_a_nul_is_neither_echoed_nor_quoted_the_python_way(api: TestClient) -> None:
    response = submit_form(api, {k: str(v) for k, v in AUDI.items()} | {"make": "toyota\x00", "city_mpg": "2\x004"})
    assert response.status_code == 422
    assert "\x00" not in response.text and "\\x00" not in response.text  # neither echoed nor in Python's words
    assert 'value="24"' in response.text  # what was typed comes back, minus the control character
    assert "unknown value &#34;toyota\\u0000&#34;" in response.text  # JSON's spelling, as the API's error
    api_error = api.post("/api/predictions", json={**AUDI, "make": "toyota\x00"}).json()["errors"][0]["reason"]
    assert api_error.startswith('unknown value "toyota\\u0000"')
    null = api.post("/api/predictions", json={**AUDI, "make": None}).json()["errors"][0]["reason"]
    assert "None" not in null and null.startswith("unknown value null")


def test_the_dashboard_explains_its_figures(api: TestClient) -> None:
    api.post("/api/predictions", json=AUDI)
    page = api.get("/dashboard").text
    assert "Different makes priced" in page and "values priced" not in page
    quality = page[page.index('data-testid="model-quality"'):]
    quality = quality[:quality.index("</section>")]
    assert "Typical miss" in quality and "(1 would be perfect)" in quality  # MAE, R² in plain words
    rows = re.findall(r"<tr><th>[^<]+</th><td>[^<]+<br><span[^>]*>([^<]+)</span>", quality)
    assert rows and all(rows), "every figure has its line of plain language"
