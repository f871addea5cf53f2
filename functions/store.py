"""Cosmos DB for the function app: the market and dead-letter containers and the prediction history
(the same container the web app's dashboard reads). Writes are upserts of documents with deterministic
ids, spread over a few threads (one round trip each), so a retried batch costs time, never duplicates.

In Azure the data stack owns the database and containers and the app's identity has data-plane rights
only; locally (a loopback emulator) they are created if missing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey

import contract
from functions.settings import FunctionSettings
from runtime.credentials import cosmos_credential

WRITE_THREADS = 8  # within the SDK transport's connection pool (10)
_PARTITION_KEYS = {
    "market": contract.MARKET_PARTITION_KEY,
    "dead_letters": contract.DEAD_LETTER_PARTITION_KEY,
    "history": contract.HISTORY_PARTITION_KEY,
}


class MarketStore:
    def __init__(self, settings: FunctionSettings, credential: Any = None) -> None:
        self.settings = settings
        self.local = settings.cosmos_is_local_emulator
        if self.local:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # loopback self-signed cert
        self._client = CosmosClient(settings.cosmos_endpoint, credential=credential or cosmos_credential(
            settings.cosmos_endpoint, settings.managed_identity_client_id),
                                    connection_verify=not self.local)
        self._names = {"market": settings.market_container, "dead_letters": settings.dead_letter_container,
                       "history": settings.history_container}
        self._proxies: dict[str, ContainerProxy] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="cosmos-write")
        if self.local:
            self.ensure_containers()

    def ensure_containers(self) -> None:
        db = self._client.create_database_if_not_exists(self.settings.cosmos_database)
        for role, name in self._names.items():
            db.create_container_if_not_exists(name, partition_key=PartitionKey(path=_PARTITION_KEYS[role]))

    def container(self, role: str) -> ContainerProxy:
        with self._lock:
            if role not in self._proxies:
                db = self._client.get_database_client(self.settings.cosmos_database)
                self._proxies[role] = db.get_container_client(self._names[role])
            return self._proxies[role]

    def upsert(self, role: str, docs: Sequence[dict]) -> None:
        """Upsert every document; raises the first failure after all writes finished (the batch is retried)."""
        if not docs:
            return
        container = self.container(role)
        if len(docs) == 1:
            container.upsert_item(docs[0])
            return
        list(self._pool.map(container.upsert_item, docs))

    def query(self, role: str, query: str, parameters: dict[str, object] | None = None) -> list[dict]:
        params = [{"name": k, "value": v} for k, v in (parameters or {}).items()]
        items = self.container(role).query_items(query, parameters=params, enable_cross_partition_query=True)
        return [{k: v for k, v in item.items() if not k.startswith("_")} for item in items]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()
