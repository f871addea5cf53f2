"""The trigger declarations the Functions host reads, and the decorated functions run end to end with the
settings the stacks set (names from contract/)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import azure.functions as func
import pytest

import contract
from functions import function_app
from functions.settings import FunctionSettings, SettingError
from tests.app.conftest import AUDI
from tests.functions.conftest import dataset_listings, listing_events

pytestmark = pytest.mark.xdist_group("functions")


@functools.cache
def registered() -> tuple:
    return tuple(function_app.app.get_functions())  # the host indexes once; a second call re-registers


def declared() -> dict[str, dict]:
    out = {}
    for function in registered():
        spec = json.loads(function.get_function_json())
        spec["retry"] = function.get_settings_dict("retry_policy")
        out[function.get_function_name()] = spec
    return out


def test_score_listings_is_a_batched_event_hubs_trigger_with_an_identity_connection() -> None:
    spec = declared()["score_listings"]
    (trigger,) = [b for b in spec["bindings"] if b["type"] == "eventHubTrigger"]
    assert trigger["cardinality"].lower() == "many"
    assert trigger["eventHubName"] == contract.STREAM_EVENT_HUB
    assert trigger["consumerGroup"] == contract.STREAM_SCORING_CONSUMER_GROUP
    assert trigger["connection"] == contract.FUNCTION_EVENTHUB_CONNECTION  # a setting prefix, not a secret
    assert spec["retry"]["strategy"] == "exponential_backoff" and int(spec["retry"]["max_retry_count"]) > 0


def test_price_is_an_https_post_route() -> None:
    (trigger,) = [b for b in declared()["price"]["bindings"] if b["type"] == "httpTrigger"]
    assert trigger["route"] == contract.FUNCTION_PRICE_ROUTE and trigger["methods"] == ["POST"]


def test_host_batches_and_bundle() -> None:
    host = json.loads((Path(function_app.__file__).parent / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensions"]["eventHubs"]["maxEventBatchSize"] == 100
    assert host["extensionBundle"]["id"] == "Microsoft.Azure.Functions.ExtensionBundle"


@dataclass
class Retry:
    retry_count: int
    max_retry_count: int


@dataclass
class Context:
    retry_context: Retry | None


def test_the_last_retry_is_recognised() -> None:
    assert not function_app.is_final_attempt(Context(Retry(0, 5)))  # type: ignore[arg-type]
    assert function_app.is_final_attempt(Context(Retry(5, 5)))  # type: ignore[arg-type]
    assert function_app.is_final_attempt(None)


def test_a_missing_setting_is_named() -> None:
    with pytest.raises(SettingError, match=contract.SETTING_COSMOS_ENDPOINT):
        FunctionSettings.from_environment({})
    with pytest.raises(SettingError, match=contract.SETTING_ENDPOINT_URL):
        FunctionSettings.from_environment({contract.SETTING_COSMOS_ENDPOINT: "https://x.documents.azure.com/",
                                           contract.SETTING_SCORING_MODE: "remote"})
    with pytest.raises(SettingError, match=contract.SETTING_ENDPOINT_TOKEN_URL):
        FunctionSettings.from_environment({contract.SETTING_COSMOS_ENDPOINT: "https://x.documents.azure.com/",
                                           contract.SETTING_SCORING_MODE: "remote",
                                           contract.SETTING_ENDPOINT_URL: "https://scoring.example/score"})


@pytest.mark.slow
def test_the_decorated_functions_run_with_app_settings(settings: FunctionSettings,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(contract.SETTING_COSMOS_ENDPOINT, settings.cosmos_endpoint)
    monkeypatch.setenv(contract.SETTING_COSMOS_DATABASE, settings.cosmos_database)
    monkeypatch.setenv(contract.SETTING_MODEL_DIR, str(settings.model_dir))
    monkeypatch.setattr(function_app, "_runtime", None)
    functions = {f.get_function_name(): f.get_user_function() for f in registered()}
    try:
        functions["score_listings"](listing_events(dataset_listings()[:3]), Context(Retry(0, 5)))
        request = func.HttpRequest("POST", "/api/price", headers={"content-type": "application/json"},
                                   body=json.dumps(AUDI).encode())
        assert functions["price"](request).status_code == 201
        runtime = function_app.runtime()
        assert len(runtime.store.query("market", "SELECT * FROM c")) == 3
    finally:
        if function_app._runtime is not None:
            function_app._runtime.store.close()
