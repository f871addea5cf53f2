"""Settings are read from exactly the environment variable names the App stack sets (contract/), and the
dashboard's figures are computed correctly from a window of predictions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import contract
from app.records import Prediction
from app.settings import Settings
from app.web.dashboard import summarize


def test_settings_come_from_the_contract_environment_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        contract.SETTING_COSMOS_ENDPOINT: "https://acct.documents.azure.com:443/",
        contract.SETTING_COSMOS_DATABASE: "db1", contract.SETTING_HISTORY_CONTAINER: "hist",
        contract.SETTING_BATCH_CONTAINER: "batch", contract.SETTING_SCORING_MODE: "remote",
        contract.SETTING_ENDPOINT_URL: "https://ep.westeurope.inference.ml.azure.com/score",
        contract.SETTING_ENDPOINT_SCOPE: "https://ml.azure.com/.default", contract.SETTING_MODEL_DIR: "/models/m",
        contract.SETTING_REGION: "westeurope", contract.SETTING_OUTBOX_DIR: "/home/data/outbox",
        contract.SETTING_MANAGED_IDENTITY_CLIENT_ID: "00000000-0000-0000-0000-000000000001",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()

    assert (settings.cosmos_endpoint, settings.cosmos_database) == (values[contract.SETTING_COSMOS_ENDPOINT], "db1")
    assert (settings.history_container, settings.batch_container) == ("hist", "batch")
    assert settings.scoring_mode == "remote" and settings.endpoint_url.endswith("/score")
    assert settings.model_dir == Path("/models/m") and settings.outbox_dir == Path("/home/data/outbox")
    assert settings.region == "westeurope" and settings.managed_identity_client_id.endswith("1")
    assert settings.cosmos_is_local_emulator is False  # an Azure endpoint never gets the emulator key


def test_unknown_scoring_mode_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(contract.SETTING_SCORING_MODE, "psychic")
    with pytest.raises(ValueError, match="scoring_mode|local"):
        Settings()


def _prediction(i: int, make: str, price: float, at: datetime, version: str = "v1") -> Prediction:
    return Prediction(
        id=f"p{i}", make=make, created_at=at.isoformat(timespec="microseconds")[:-6] + "Z", price=price,
        price_low=price * 0.9, price_high=price * 1.1, model_version=version, region="r", features={},
    )


def test_dashboard_counts_makes_prices_traffic_and_versions() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    predictions = [
        _prediction(0, "audi", 10_000, now - timedelta(minutes=1)),
        _prediction(1, "audi", 12_000, now - timedelta(minutes=30)),
        _prediction(2, "bmw", 30_000, now - timedelta(hours=3), version="v0"),
    ]
    board = summarize(predictions, now=now)

    assert board.count == 3 and board.makes == 2 and board.median_price == 12_000
    assert board.per_make == [("audi", 2), ("bmw", 1)]
    assert board.versions == [("v1", 2), ("v0", 1)]
    assert sum(n for _, n in board.price_bins) == 3
    assert sum(n for _, n in board.traffic) == 3 and len(board.traffic) <= 25
    # up to now: the current (empty) quarter hour last, the one a minute ago before it
    assert board.traffic_bucket == "15 minutes" and [n for _, n in board.traffic[-2:]] == [1, 0]


def test_empty_dashboard_has_no_figures() -> None:
    board = summarize([])
    assert board.count == 0 and board.average_price is None and board.traffic == [] and board.price_bins == []
