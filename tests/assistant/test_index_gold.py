"""`make index-gold` (the ML pipeline's listings stage) on the stand-ins: the index is created when missing,
filled from a gold lake through the real SDKs, a re-run leaves it as it was, gold listings that left the table
are deleted and stream listings are never touched. In Azure it finds everything in the synthesized stacks and
reads the lake with the caller's Entra token (a fake credential here, the boundary that cannot run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.search.documents import SearchClient

from contract.listings_index import KEY_FIELD, SOURCE_GOLD, SOURCE_MARKET
from tools.deploy.genai import search_index
from tools.local.standins.running import EMBEDDING_DEPLOYMENT, RunningStandIns, running_stand_ins

pytestmark = pytest.mark.xdist_group("assistant")


@pytest.fixture(scope="module")
def own_stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStandIns]:
    """Stand-ins of this module's own: deleting gold listings here must not touch the shared index."""
    with running_stand_ins(tmp_path_factory.mktemp("index-gold-stand-ins")) as running:
        yield running


@pytest.fixture(scope="module")
def gold_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ml.carprice.prep import run_prep

    lake = tmp_path_factory.mktemp("gold-lake")
    run_prep(lake)
    return lake


def _args(stand_ins: RunningStandIns, lake: Path) -> list[str]:
    return ["fill-gold", "--search-endpoint", stand_ins.search_server.endpoint,
            "--openai-endpoint", stand_ins.openai_server.endpoint, "--embedding-deployment", EMBEDDING_DEPLOYMENT,
            "--lake", str(lake), "--ca-file", str(stand_ins.ca_file)]


def _documents(stand_ins: RunningStandIns) -> dict[str, dict[str, Any]]:
    from runtime.stand_in_token import SyncStandInCredential

    with SearchClient(stand_ins.search_server.endpoint, "listings", SyncStandInCredential(),
                      connection_verify=str(stand_ins.ca_file)) as client:
        return {d[KEY_FIELD]: {k: v for k, v in d.items() if not k.startswith("@")}
                for d in client.search(search_text="*", top=1000)}


def test_index_gold_creates_the_index_fills_it_and_a_rerun_changes_nothing_on_the_stand_ins(
        own_stand_ins: RunningStandIns, gold_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ml.carprice.prep import load_gold

    gold = load_gold(gold_lake)
    assert search_index.main(_args(own_stand_ins, gold_lake)) == 0  # no index yet: the step creates it
    first = _documents(own_stand_ins)
    assert len(first) == len(gold) and {d["source"] for d in first.values()} == {SOURCE_GOLD}
    assert f"{len(gold)} listings indexed, 0 stale ones deleted" in capsys.readouterr().out

    assert search_index.main(_args(own_stand_ins, gold_lake)) == 0
    assert _documents(own_stand_ins) == first  # same ids, same content: nothing added, nothing lost
    assert "0 stale ones deleted" in capsys.readouterr().out


def test_gold_listings_that_left_the_table_are_deleted_and_stream_listings_stay(
        own_stand_ins: RunningStandIns, gold_lake: Path) -> None:
    from functions.listing_index import listing_document
    from ml.carprice.prep import load_gold

    rows = load_gold(gold_lake).to_dict("records")
    search, openai = own_stand_ins.search_server.endpoint, own_stand_ins.openai_server.endpoint
    credential = search_index.credential_for(search, openai)
    search_index.create_or_update_index(search, credential, str(own_stand_ins.ca_file))
    writer = search_index.listing_writer(search, openai, EMBEDDING_DEPLOYMENT, credential, str(own_stand_ins.ca_file))
    try:
        market = listing_document("stream-1", {"make": "bmw", "body_style": "sedan"}, 16000.0, source=SOURCE_MARKET)
        writer.upsert([market])
        search_index.fill_from_gold(writer, rows, progress=lambda _: None)
        filled = search_index.fill_from_gold(writer, rows[:-3], progress=lambda _: None)
    finally:
        writer.close()
    assert (filled.indexed, filled.deleted) == (len(rows) - 3, 3)
    documents = _documents(own_stand_ins)
    assert market[KEY_FIELD] in documents
    assert sum(d["source"] == SOURCE_GOLD for d in documents.values()) == len(rows) - 3


class FakeCredential:
    """Stands in for the pipeline's federated credential: records the scopes it is asked for."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: Any) -> Any:
        self.scopes += scopes
        return type("Token", (), {"token": "entra-token-for-storage", "expires_on": 0})()


def test_an_adls_lake_is_read_with_the_callers_entra_token_never_a_key_with_a_fake_credential() -> None:
    credential = FakeCredential()
    options = search_index.lake_storage_options("abfss://{layer}@stlake.dfs.core.windows.net", credential)
    assert options == {"bearer_token": "entra-token-for-storage"}
    assert credential.scopes == ["https://storage.azure.com/.default"]
    assert search_index.lake_storage_options("/some/folder", credential) == {}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_pipeline_step_finds_search_openai_and_the_lake_in_the_synthesized_stacks(synth, env: str) -> None:
    found = search_index.endpoints_from_synth(env, synth.root)
    lake = next(a["name"] for a in synth.resources(f"{env}-data", "azurerm_storage_account") if a.get("is_hns_enabled"))
    assert found["lake"] == f"abfss://{{layer}}@{lake}.dfs.core.windows.net"
    assert found["search"].endswith(".search.windows.net") and found["openai"].endswith(".openai.azure.com")
