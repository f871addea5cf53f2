"""Shared set-up for the assistant's tests: the real model and Cosmos emulator of the app's tests, both stand-ins
(HTTPS on loopback), the listings index filled from gold and the stream the way the deploy step and the function
app fill it, and the app in-process pointed at all of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import app_settings, cosmos, model_dir  # noqa: F401  (shared session fixtures)
from tools.deploy.genai.search_index import create_or_update_index, credential_for, listing_writer
from tools.local.standins.running import EMBEDDING_DEPLOYMENT, RunningStandIns, running_stand_ins

pytestmark = pytest.mark.xdist_group("assistant")


@pytest.fixture(scope="session")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStandIns]:
    with running_stand_ins(tmp_path_factory.mktemp("stand-ins")) as running:
        yield running


@pytest.fixture(scope="session")
def gold_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    from ml.carprice.prep import load_gold, run_prep

    lake = tmp_path_factory.mktemp("lake")
    run_prep(lake)
    return load_gold(lake).to_dict("records")


@pytest.fixture(scope="session")
def index_writer(stand_ins: RunningStandIns) -> Iterator[Any]:
    search, openai = stand_ins.search_server.endpoint, stand_ins.openai_server.endpoint
    credential = credential_for(search, openai)
    create_or_update_index(search, credential, str(stand_ins.ca_file))
    writer = listing_writer(search, openai, EMBEDDING_DEPLOYMENT, credential, str(stand_ins.ca_file))
    yield writer
    writer.close()


@pytest.fixture(scope="session")
def indexed(index_writer: Any, gold_rows: list[dict[str, Any]], model_dir: Path) -> list[dict[str, Any]]:  # noqa: F811
    """The index's documents: every gold car (batch step) and stream listings (function app records)."""
    from functions.listing_index import from_gold_row
    from tools.checks.genai.evaluate import market_documents

    docs = [from_gold_row(row) for row in gold_rows] + market_documents(gold_rows, model_dir, 20)
    index_writer.upsert(docs)
    return docs


def assistant_settings(model_dir: Path, outbox: Path, stand_ins: RunningStandIns, cosmos_endpoint: str = "",  # noqa: F811
                       **extra: object) -> Any:
    return app_settings(model_dir=model_dir, outbox_dir=outbox, cosmos_endpoint=cosmos_endpoint,
                        **stand_ins.app_settings(), **extra)


@pytest.fixture(scope="module")
def chat(model_dir: Path, cosmos: Any, stand_ins: RunningStandIns, indexed: list[dict[str, Any]],  # noqa: F811
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = assistant_settings(model_dir, tmp_path_factory.mktemp("outbox"), stand_ins, cosmos.endpoint)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(autouse=True)
def no_fault(stand_ins: RunningStandIns) -> Iterator[None]:
    yield
    stand_ins.openai.set_fault(None)
