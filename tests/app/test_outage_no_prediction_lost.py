"""No prediction is lost when Cosmos DB is down: users still get prices, the records wait in the
on-disk outbox, and they land in Cosmos once it is back (while running, and at the next start-up).
Uses its own Cosmos emulator, stopped and restarted on the same port (it is in-memory, so the app's
store recreates the database and containers when they are missing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import AUDI, app_settings, cosmos_container, wait_for
from tools.local.emulators import CosmosEmulator, free_port

pytestmark = pytest.mark.xdist_group("app")

MAKES = ("audi", "bmw", "volvo", "toyota", "honda")


def _stored_ids(emulator: CosmosEmulator, ids: list[str]) -> set[str]:
    try:
        rows = cosmos_container(emulator).query_items(
            "SELECT c.id FROM c", enable_cross_partition_query=True
        )
        return {r["id"] for r in rows} & set(ids)
    except Exception:  # containers not recreated yet
        return set()


def test_predictions_made_while_cosmos_is_down_are_all_stored_when_it_returns(model_dir: Path, tmp_path: Path) -> None:
    emulator = CosmosEmulator().start()
    port = emulator.port
    settings = app_settings(
        model_dir=model_dir, outbox_dir=tmp_path / "outbox", cosmos_endpoint=emulator.endpoint, outbox_retry_max_s=1.0
    )
    try:
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").status_code == 200

            emulator.stop()
            made = []
            for make in MAKES:
                response = client.post("/api/predictions", json={**AUDI, "make": make})
                assert response.status_code == 201, response.text  # the user still gets a price
                assert response.json()["price"] > 0
                made.append(response.json()["id"])

            ready = wait_for(lambda: (r := client.get("/readyz")).status_code == 503 and r, what="/readyz to fail")
            assert ready.json()["checks"]["store"].startswith("unreachable")
            history = client.get("/api/predictions", params={"limit": 200}).json()
            assert history["store_ok"] is False
            assert set(made) <= {p["id"] for p in history["items"]}  # still visible, from the outbox

            emulator = CosmosEmulator(port=port).start()
            wait_for(lambda: _stored_ids(emulator, made) == set(made), timeout=30, what="every record in Cosmos DB")
            wait_for(lambda: client.get("/readyz").json()["checks"]["outbox_pending"] == "0", what="an empty outbox")
    finally:
        emulator.stop()


def test_records_left_in_the_outbox_are_stored_at_the_next_start_up(model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    endpoint = f"https://127.0.0.1:{port}/"
    settings = app_settings(model_dir=model_dir, outbox_dir=tmp_path / "outbox", cosmos_endpoint=endpoint)

    with TestClient(create_app(settings)) as client:  # Cosmos DB never came up during this run
        made = [client.post("/api/predictions", json={**AUDI, "make": m}).json()["id"] for m in MAKES[:3]]
    assert len(made) == 3

    with CosmosEmulator(port=port) as emulator, TestClient(create_app(settings)):
        wait_for(lambda: _stored_ids(emulator, made) == set(made), timeout=30, what="records drained at start-up")
