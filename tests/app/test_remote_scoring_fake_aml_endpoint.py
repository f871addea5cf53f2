"""Remote scoring against a FAKE Azure ML Kubernetes online endpoint and a FAKE Entra ID credential (the Azure
boundary; the endpoint runs the project's real score.py on the real model): the endpoint's own token, exchanged
for the identity's Entra ID token, retries with backoff, timeouts, and a clear 503 when the endpoint is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import contract
from app.main import build_model, create_app
from tests.app.conftest import AUDI, app_settings, submit_form
from tests.app.fake_aml_endpoint import TOKEN_PATH, FakeAmlEndpoint, FakeTokenCredential
from tools.local.emulators import free_port

pytestmark = pytest.mark.xdist_group("app")


def _client(tmp_path: Path, model_dir: Path, url: str, credential: FakeTokenCredential, **extra: object) -> TestClient:
    token_url = f"{url.rsplit('/', 1)[0]}{TOKEN_PATH}?api-version=2024-10-01"  # the fake's token action
    settings = app_settings(
        model_dir=model_dir, outbox_dir=tmp_path / "outbox",
        **{contract.SETTING_SCORING_MODE: "remote", contract.SETTING_ENDPOINT_URL: url,
           contract.SETTING_ENDPOINT_TOKEN_URL: token_url}, **extra,
    )
    model = build_model(settings, credential=credential)
    model.backoff_s = 0.01  # type: ignore[attr-defined]  # keep the retry waits short in tests
    return TestClient(create_app(settings, model=model))


def test_fake_aml_endpoint_is_called_with_its_own_token_and_its_price_is_returned(
    tmp_path: Path, model_dir: Path, endpoint: FakeAmlEndpoint
) -> None:
    credential = FakeTokenCredential()
    with _client(tmp_path, model_dir, endpoint.url, credential) as client:
        first = client.post("/api/predictions", json=AUDI)
        second = client.post("/api/predictions", json={**AUDI, "make": "bmw"})

    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["price_low"] <= first.json()["price"] <= first.json()["price_high"]
    assert first.json()["model_version"] == json.loads((model_dir / "model_card.json").read_text())["model_version"]
    # The identity's Entra ID token (for Resource Manager) goes to the token action only, once; the scoring calls
    # carry the endpoint's token, reused while fresh.
    assert credential.scopes == [(contract.AML_ENDPOINT_TOKEN_SCOPE,)]
    assert endpoint.token_requests == ["Bearer fake-token-1"]
    assert [r["authorization"] for r in endpoint.requests] == ["Bearer aml-token-1"] * 2
    assert endpoint.requests[0]["body"] == {"data": [AUDI]}


def test_fake_aml_endpoint_transient_503s_are_retried_with_backoff(
    tmp_path: Path, model_dir: Path, endpoint: FakeAmlEndpoint
) -> None:
    endpoint.script = [503, 429]
    with _client(tmp_path, model_dir, endpoint.url, FakeTokenCredential()) as client:
        response = client.post("/api/predictions", json=AUDI)
    assert response.status_code == 201
    assert len(endpoint.requests) == 3


def test_fake_aml_endpoint_that_stays_down_gives_a_clear_503(
    tmp_path: Path, model_dir: Path, endpoint: FakeAmlEndpoint
) -> None:
    endpoint.script = [503] * 6  # three attempts for the API call, three for the page
    with _client(tmp_path, model_dir, endpoint.url, FakeTokenCredential()) as client:
        response = client.post("/api/predictions", json=AUDI)
        page = submit_form(client, {k: str(v) for k, v in AUDI.items()})

    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]
    assert "after 3 attempts" in response.json()["errors"][0]["reason"]
    assert page.status_code == 503 and "could not price this car right now" in page.text


def test_fake_aml_endpoint_unreachable_is_503_connection_refused(tmp_path: Path, model_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/score"
    with _client(tmp_path, model_dir, url, FakeTokenCredential()) as client:
        response = client.post("/api/predictions", json=AUDI)
    assert response.status_code == 503
    assert "connection refused" in response.json()["errors"][0]["reason"]


def test_fake_aml_endpoint_too_slow_times_out_and_is_retried(
    tmp_path: Path, model_dir: Path, endpoint: FakeAmlEndpoint
) -> None:
    endpoint.script = [1.0]  # the first call hangs past the timeout; the retry succeeds
    with _client(tmp_path, model_dir, endpoint.url, FakeTokenCredential(), endpoint_timeout_s=0.3) as client:
        response = client.post("/api/predictions", json=AUDI)
    assert response.status_code == 201
    assert len(endpoint.requests) == 2


def test_fake_aml_endpoint_refusing_its_token_gets_a_new_one_and_the_call_succeeds(
    tmp_path: Path, model_dir: Path, endpoint: FakeAmlEndpoint
) -> None:
    with _client(tmp_path, model_dir, endpoint.url, FakeTokenCredential()) as client:
        first = client.post("/api/predictions", json=AUDI)
        endpoint.revoke_tokens()
        second = client.post("/api/predictions", json=AUDI)
    assert first.status_code == 201 and second.status_code == 201
    assert [r["authorization"] for r in endpoint.requests] == ["Bearer aml-token-1"] * 2 + ["Bearer aml-token-2"]


def test_fake_aml_token_action_refusing_the_identity_is_a_503_that_names_the_permission(
    tmp_path: Path, model_dir: Path, endpoint: FakeAmlEndpoint
) -> None:
    endpoint.token_script = [403] * 2  # the API call and the page: the identity lacks the role
    with _client(tmp_path, model_dir, endpoint.url, FakeTokenCredential()) as client:
        response = client.post("/api/predictions", json=AUDI)
        page = submit_form(client, {k: str(v) for k, v in AUDI.items()})
    assert response.status_code == 503 and page.status_code == 503
    assert "onlineEndpoints/token/action" in response.json()["errors"][0]["reason"]
    assert endpoint.requests == []  # nothing is sent to the scoring route without the endpoint's token
