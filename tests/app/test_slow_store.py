"""A store that is reachable but does not answer (the Cosmos emulator paused with SIGSTOP, as one busy finishing
queries nobody waits for any more): the app stays ready and keeps pricing, /readyz says the store is slow, and
history reads answer from what the instance holds instead of queueing more queries."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import AUDI, app_settings
from tools.local.emulators import CosmosEmulator

pytestmark = [pytest.mark.xdist_group("app"), pytest.mark.slow]


def test_a_store_that_does_not_answer_leaves_the_app_ready_and_serving(model_dir: Path, tmp_path: Path) -> None:
    with CosmosEmulator() as emulator:
        assert emulator.process is not None
        settings = app_settings(model_dir=model_dir, outbox_dir=tmp_path / "outbox", cosmos_endpoint=emulator.endpoint,
                                store_timeout_s=1.0)
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").json()["checks"]["store"] == "ok"
            os.kill(emulator.process.pid, signal.SIGSTOP)
            try:
                made = client.post("/api/predictions", json=AUDI)
                assert made.status_code == 201  # priced and kept in the outbox
                history = client.get("/api/predictions").json()
                assert history["store_ok"] is False and made.json()["id"] in {p["id"] for p in history["items"]}
                time.sleep(1.1)  # past the readiness cache
                ready = client.get("/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"]["store"].startswith("slow")
            finally:
                os.kill(emulator.process.pid, signal.SIGCONT)
