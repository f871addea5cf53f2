"""The endpoint's own token against a FAKE Azure ML Kubernetes online endpoint and its FAKE token action (local
HTTP servers standing in for Azure; tests/app/fake_aml_endpoint.py): exchanged with the identity's Entra ID
token, cached, renewed at its refresh time or before it expires, exchanged anew when the endpoint refuses it, and
the Entra ID token never sent to the scoring route."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

import contract
from runtime.credentials import TOKEN_REFRESH_MARGIN_S
from runtime.endpoint import EndpointModel
from runtime.pricing import ModelUnavailable
from tests.app.fake_aml_endpoint import ENTRA_TOKEN_PREFIX, FakeAmlEndpoint, FakeTokenCredential


class Car(BaseModel):
    make: str


def _prices(raw: bytes) -> dict:
    cars = json.loads(raw)["data"]
    return {"model_version": "7", "predictions": [{"price": 100.0, "low": 90.0, "high": 110.0} for _ in cars]}


class Clock:
    """The client's clock, moved by the test; the fake endpoint keeps real time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def endpoint() -> Iterator[FakeAmlEndpoint]:
    with FakeAmlEndpoint(run=_prices) as fake:
        yield fake


def _model(endpoint: FakeAmlEndpoint, clock: Clock | None = None) -> tuple[EndpointModel, FakeTokenCredential]:
    credential = FakeTokenCredential()
    model = EndpointModel(endpoint.url, endpoint.token_url, contract.AML_ENDPOINT_TOKEN_SCOPE, credential,
                          backoff_s=0.01)
    if clock is not None:
        model.token.clock = clock
    return model, credential


def _scoring_tokens(endpoint: FakeAmlEndpoint) -> list[str | None]:
    return [r["authorization"] for r in endpoint.requests]


def test_scoring_carries_the_endpoint_token_never_the_entra_token(endpoint: FakeAmlEndpoint) -> None:
    model, credential = _model(endpoint)
    quotes = model.quote_many([Car(make="audi"), Car(make="bmw")])
    model.quote_many([Car(make="audi")])
    model.close()
    assert [q.price for q in quotes] == [100.0, 100.0] and model.model_version == "7"
    assert credential.scopes == [(contract.AML_ENDPOINT_TOKEN_SCOPE,)]  # Resource Manager, for the token action
    assert endpoint.token_requests == [f"Bearer {ENTRA_TOKEN_PREFIX}1"]
    assert _scoring_tokens(endpoint) == ["Bearer aml-token-1"] * 2
    assert not any(ENTRA_TOKEN_PREFIX in (t or "") for t in _scoring_tokens(endpoint))


def test_the_token_is_renewed_at_its_refresh_time(endpoint: FakeAmlEndpoint) -> None:
    clock = Clock()
    model, _ = _model(endpoint, clock)
    model.quote_many([Car(make="audi")])
    clock.offset = endpoint.refresh_after_s - 5  # still before the refresh time: reused
    model.quote_many([Car(make="audi")])
    clock.offset = endpoint.refresh_after_s + 1  # past it, long before expiry: renewed first
    model.quote_many([Car(make="audi")])
    model.close()
    assert _scoring_tokens(endpoint) == ["Bearer aml-token-1"] * 2 + ["Bearer aml-token-2"]
    assert len(endpoint.token_requests) == 2


def test_without_a_refresh_time_the_token_is_renewed_a_margin_before_it_expires(endpoint: FakeAmlEndpoint) -> None:
    endpoint.refresh_after_s = None
    clock = Clock()
    model, _ = _model(endpoint, clock)
    model.quote_many([Car(make="audi")])
    clock.offset = endpoint.token_lifetime_s - TOKEN_REFRESH_MARGIN_S - 5
    model.quote_many([Car(make="audi")])
    clock.offset = endpoint.token_lifetime_s - TOKEN_REFRESH_MARGIN_S + 1
    model.quote_many([Car(make="audi")])
    model.close()
    assert _scoring_tokens(endpoint) == ["Bearer aml-token-1"] * 2 + ["Bearer aml-token-2"]


def test_a_refused_token_is_exchanged_anew_and_the_call_retried(endpoint: FakeAmlEndpoint) -> None:
    model, _ = _model(endpoint)
    model.quote_many([Car(make="audi")])
    endpoint.revoke_tokens()
    quotes = model.quote_many([Car(make="audi")])
    model.close()
    assert quotes[0].price == 100.0
    assert _scoring_tokens(endpoint) == ["Bearer aml-token-1", "Bearer aml-token-1", "Bearer aml-token-2"]


def test_an_endpoint_that_keeps_refusing_gives_up_after_its_attempts(endpoint: FakeAmlEndpoint) -> None:
    endpoint.script = [401, 401, 401]
    model, _ = _model(endpoint)
    with pytest.raises(ModelUnavailable, match=r"after 3 attempts \(its token was refused, HTTP 401\)"):
        model.quote_many([Car(make="audi")])
    model.close()
    assert len(endpoint.token_requests) == 3  # every refusal drops the token: each attempt exchanges anew


def test_a_busy_token_action_is_retried(endpoint: FakeAmlEndpoint) -> None:
    endpoint.token_script = [429, 503]
    model, _ = _model(endpoint)
    assert model.quote_many([Car(make="audi")])[0].price == 100.0
    model.close()
    assert len(endpoint.token_requests) == 3 and _scoring_tokens(endpoint) == ["Bearer aml-token-1"]


def test_a_token_action_that_refuses_the_identity_names_the_permission(endpoint: FakeAmlEndpoint) -> None:
    endpoint.token_script = [403]
    model, _ = _model(endpoint)
    with pytest.raises(ModelUnavailable, match="onlineEndpoints/token/action"):
        model.quote_many([Car(make="audi")])
    model.close()
    assert endpoint.requests == [] and len(endpoint.token_requests) == 1  # a missing role is not retried


def test_concurrent_callers_share_one_exchange(endpoint: FakeAmlEndpoint) -> None:
    model, _ = _model(endpoint)
    errors: list[BaseException] = []

    def price() -> None:
        try:
            model.quote_many([Car(make="audi")])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=price) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    model.close()
    assert errors == [] and len(endpoint.token_requests) == 1
    assert _scoring_tokens(endpoint) == ["Bearer aml-token-1"] * 8


def test_remote_scoring_without_a_token_url_is_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match=contract.SETTING_ENDPOINT_TOKEN_URL):
        EndpointModel("https://scoring.example/score", "", contract.AML_ENDPOINT_TOKEN_SCOPE, FakeTokenCredential())
