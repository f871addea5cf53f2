"""Both stand-ins running (HTTPS on 127.0.0.1), and the app settings that point the app at them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import genai
from tools.local.standins.openai_server import OpenAIStandIn
from tools.local.standins.search_server import SearchStandIn
from tools.local.standins.server import ServedApp, loopback_certificate

# The deployment names the genai stack creates: the stand-in answers on the same paths.
CHAT_DEPLOYMENT, EMBEDDING_DEPLOYMENT = genai.OPENAI_CHAT_DEPLOYMENT, genai.OPENAI_EMBEDDING_DEPLOYMENT


@dataclass
class RunningStandIns:
    openai: OpenAIStandIn
    search: SearchStandIn
    openai_server: ServedApp
    search_server: ServedApp
    ca_file: Path

    def app_settings(self) -> dict[str, str]:
        """The assistant's app settings, by the names the genai stack sets (contract/genai.py)."""
        return {
            genai.SETTING_OPENAI_ENDPOINT: self.openai_server.endpoint,
            genai.SETTING_OPENAI_CHAT_DEPLOYMENT: CHAT_DEPLOYMENT,
            genai.SETTING_OPENAI_EMBEDDING_DEPLOYMENT: EMBEDDING_DEPLOYMENT,
            genai.SETTING_SEARCH_ENDPOINT: self.search_server.endpoint,
            "CARPRICE_ASSISTANT_CA_FILE": str(self.ca_file),
        }


@contextmanager
def running_stand_ins(state_dir: Path, openai_port: int = 0, search_port: int = 0) -> Iterator[RunningStandIns]:
    cert, key = loopback_certificate(state_dir)
    openai, search = OpenAIStandIn(), SearchStandIn()
    with ServedApp(openai.app, cert, key, openai_port, "Azure OpenAI stand-in") as openai_server, \
            ServedApp(search.app, cert, key, search_port, "Azure AI Search stand-in") as search_server:
        yield RunningStandIns(openai, search, openai_server, search_server, cert)


def prepare_listings_index(stand_ins: RunningStandIns, gold_rows: list[dict], progress: Any = print) -> int:
    """What the deploy pipeline does in Azure: create the listings index, then fill it from gold."""
    from tools.deploy.genai.search_index import create_or_update_index, credential_for, fill_from_gold, listing_writer

    search, openai = stand_ins.search_server.endpoint, stand_ins.openai_server.endpoint
    credential = credential_for(search, openai)
    create_or_update_index(search, credential, str(stand_ins.ca_file))
    writer = listing_writer(search, openai, EMBEDDING_DEPLOYMENT, credential, str(stand_ins.ca_file))
    try:
        return fill_from_gold(writer, gold_rows, progress).indexed
    finally:
        writer.close()
