"""The assistant as the web layer uses it: built at start-up when both AI endpoints are configured."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.assistant.clients import AiClients, build_clients
from app.assistant.history import ChatHistory, ChatStore, new_turn
from app.assistant.orchestrator import Answer, AssistantError, Event, Orchestrator
from app.assistant.retrieval import ListingSearch
from app.assistant.tools import PRICE_CAR, ToolBox
from app.service import PredictionService
from app.settings import Settings
from app.store.owners import Owner

log = logging.getLogger(__name__)


def session_key(cookie_value: str) -> str:
    """The stored session id: a digest of the browser's cookie, so the store never holds the cookie itself."""
    return hashlib.sha256(cookie_value.encode()).hexdigest()[:32]


@dataclass
class Assistant:
    settings: Settings
    clients: AiClients
    orchestrator: Orchestrator
    history: ChatHistory

    @classmethod
    def build(cls, settings: Settings, service: PredictionService, clients: AiClients | None = None) -> Assistant:
        clients = clients or build_clients(settings)
        listings = ListingSearch(clients.openai, clients.search, settings.openai_embedding_deployment, service.dataset)
        tools = ToolBox(service, listings, settings.assistant_search_top)
        store = ChatStore(settings) if settings.cosmos_endpoint else None
        history = ChatHistory(settings, Owner.of_this_process(), store, service.load).start()
        return cls(settings, clients, Orchestrator(settings, clients.openai, tools), history)

    async def aclose(self) -> None:
        self.history.stop()
        await self.clients.aclose()

    def answer(self, session_id: str, question: str, history: list[dict[str, Any]], result: Answer
               ) -> AsyncIterator[Event]:
        return self.orchestrator.answer(question, history, result)

    async def keep(self, session_id: str, question: str, result: Answer, outcome: str | None = None) -> dict:
        """Record the turn (durably, before the page hears it is done): its answer, the prices it quoted and
        the listings it cited."""
        prices = [{"prediction_id": r.result["id"], "price": r.result["price"], "price_low": r.result["price_low"],
                   "price_high": r.result["price_high"], "model_version": r.result["model_version"]}
                  for r in result.tool_runs if r.name == PRICE_CAR and r.ok]
        turn = new_turn(
            session_id, question, answer=result.text, outcome=outcome or result.outcome,
            citations=result.citations, prices=prices, rounds=result.rounds,
            tools=[{"name": r.name, "ok": r.ok, "arguments": r.arguments} for r in result.tool_runs],
            deployment=self.settings.openai_chat_deployment, region=self.settings.region,
        )
        await self.history.keep(turn)
        return turn


__all__ = ["Answer", "Assistant", "AssistantError", "Event", "session_key"]
