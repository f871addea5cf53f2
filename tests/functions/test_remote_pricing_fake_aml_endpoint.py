"""The function app pricing through a FAKE Azure ML Kubernetes endpoint and a FAKE Entra ID credential (the Azure
boundary; the endpoint runs the project's real score.py on the real model): the shared runtime's synchronous face of the
same client the web app uses, so a batch is one request, transient failures are retried, and an endpoint that
stays down hands the batch back to the Functions runtime."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.handlers import Runtime, score_listings
from functions.settings import FunctionSettings
from runtime.pricing import ModelUnavailable
from tests.app.fake_aml_endpoint import FakeAmlEndpoint, FakeTokenCredential
from tests.functions.conftest import dataset_listings, listing_events

pytestmark = pytest.mark.xdist_group("functions")


def _remote(settings: FunctionSettings, url: str, token_url: str) -> Runtime:
    remote = replace(settings, scoring_mode="remote", endpoint_url=url, endpoint_token_url=token_url)
    runtime = Runtime.from_settings(remote, credential=FakeTokenCredential())
    runtime.model.backoff_s = 0.01  # type: ignore[attr-defined]  # keep the retry waits short in tests
    return runtime


def test_a_batch_is_priced_in_one_request_to_the_fake_aml_endpoint(settings: FunctionSettings,
                                                                    endpoint: FakeAmlEndpoint) -> None:
    runtime = _remote(settings, endpoint.url, endpoint.token_url)
    listings = dataset_listings()[:8]
    report = score_listings(listing_events(listings), runtime)
    runtime.store.close()
    assert report.scored == 8 and report.model_version not in (None, "remote")
    assert len(endpoint.requests) == 1 and len(endpoint.requests[0]["body"]["data"]) == 8
    # The endpoint's own token, exchanged once for the identity's Entra ID token; never the Entra ID token itself.
    assert endpoint.token_requests == ["Bearer fake-token-1"]
    assert endpoint.requests[0]["authorization"] == "Bearer aml-token-1"


def test_transient_answers_of_the_fake_aml_endpoint_are_retried(settings: FunctionSettings,
                                                                 endpoint: FakeAmlEndpoint) -> None:
    endpoint.script = [503, 429]
    runtime = _remote(settings, endpoint.url, endpoint.token_url)
    report = score_listings(listing_events(dataset_listings()[:3]), runtime)
    runtime.store.close()
    assert report.scored == 3 and len(endpoint.requests) == 3


def test_a_fake_aml_endpoint_that_stays_down_hands_the_batch_back(settings: FunctionSettings,
                                                                   endpoint: FakeAmlEndpoint) -> None:
    endpoint.script = [503] * 3
    runtime = _remote(settings, endpoint.url, endpoint.token_url)
    try:
        with pytest.raises(ModelUnavailable, match="after 3 attempts"):
            score_listings(listing_events(dataset_listings()[:3]), runtime, final_attempt=False)
    finally:
        runtime.store.close()
