"""Prediction history and batch results in Cosmos DB (SQL API) through the official azure-cosmos SDK.

Auth: in Azure, DefaultAzureCredential (the web app's managed identity; the stack disables local auth).
Locally, only for a loopback endpoint, the emulator's well-known key with TLS verification off (it
serves a self-signed certificate). The database and containers are created if missing only locally:
in Azure the Data stack owns them, and a data-plane identity could not create them anyway.

Both containers are partitioned by /make, the filter every page and API call offers. The emulator has
no GROUP BY, so aggregates are computed by the caller over bounded, newest-first queries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import urllib3
from azure.core.pipeline.transport import RequestsTransport
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey
from azure.cosmos.exceptions import CosmosHttpResponseError, CosmosResourceNotFoundError

import contract
from app.settings import Settings
from runtime.credentials import cosmos_credential

log = logging.getLogger(__name__)


class StoreNotConfigured(RuntimeError):
    pass


class CosmosStore:
    def __init__(self, settings: Settings, credential: Any = None) -> None:
        if not settings.cosmos_endpoint:
            raise StoreNotConfigured(f"{contract.SETTING_COSMOS_ENDPOINT} is not set")
        self.settings = settings
        self.local = settings.cosmos_is_local_emulator
        if self.local:
            # The loopback emulator's certificate is self-signed; nothing else ever gets verify=False.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._credential = credential if credential is not None else cosmos_credential(
            settings.cosmos_endpoint, settings.managed_identity_client_id)
        self._client: CosmosClient | None = None
        self._lock = threading.Lock()
        self._proxies: dict[str, ContainerProxy] = {}

    def _connect(self) -> CosmosClient:
        """The SDK client, created on first use: its constructor calls Cosmos DB, and the app must
        start (and keep taking predictions into the outbox) while Cosmos DB is down."""
        with self._lock:
            if self._client is None:
                timeout = self.settings.store_timeout_s
                self._client = CosmosClient(
                    self.settings.cosmos_endpoint,
                    credential=self._credential,
                    # Proxy variables and .netrc are not read on every request: that lookup cost more
                    # CPU and time than the upsert itself (App Service sets no outbound proxy).
                    transport=RequestsTransport(use_env_settings=False, connection_verify=not self.local),
                    connection_verify=not self.local,
                    connection_timeout=timeout,
                    read_timeout=timeout,
                    # Fail fast: the outbox is the retry mechanism for writes, the user for reads.
                    retry_total=1,
                    retry_connect=1,
                    retry_read=1,
                    retry_backoff_max=1,
                )
            return self._client

    def _container(self, name: str) -> ContainerProxy:
        # Proxies are kept: each one caches its container's partition-key definition after first use.
        proxy = self._proxies.get(name)
        if proxy is None:
            db = self._connect().get_database_client(self.settings.cosmos_database)
            proxy = self._proxies.setdefault(name, db.get_container_client(name))
        return proxy

    @property
    def _history(self) -> ContainerProxy:
        return self._container(self.settings.history_container)

    @property
    def _batch(self) -> ContainerProxy:
        return self._container(self.settings.batch_container)

    # --- set-up ---------------------------------------------------------------------------------
    def ensure_containers(self) -> None:
        """Create the database and containers if missing (local emulator only)."""
        if not self.local:
            return
        client = self._connect()
        with self._lock:
            db = client.create_database_if_not_exists(self.settings.cosmos_database)
            db.create_container_if_not_exists(
                self.settings.history_container, partition_key=PartitionKey(path=contract.HISTORY_PARTITION_KEY)
            )
            db.create_container_if_not_exists(
                self.settings.batch_container, partition_key=PartitionKey(path=contract.BATCH_PARTITION_KEY)
            )
            db.create_container_if_not_exists(
                self.settings.market_container, partition_key=PartitionKey(path=contract.MARKET_PARTITION_KEY)
            )
            self._proxies.clear()  # recreated containers have new resource ids

    def ping(self) -> None:
        """Raises unless the history container answers (used by /readyz)."""
        self._history.read()

    # --- writes ---------------------------------------------------------------------------------
    def upsert_prediction(self, doc: dict) -> None:
        self._upsert(lambda: self._history, doc)

    def upsert_batch_result(self, doc: dict) -> None:
        self._upsert(lambda: self._batch, doc)

    def _upsert(self, container: Callable[[], ContainerProxy], doc: dict) -> None:
        # no_response: the stored copy is not needed back, so neither side serializes or parses it.
        try:
            container().upsert_item(doc, no_response=True)
        except CosmosResourceNotFoundError:
            # The in-memory emulator forgets everything on restart; recreate and try once more.
            if not self.local:
                raise
            self.ensure_containers()
            container().upsert_item(doc, no_response=True)

    # --- reads ----------------------------------------------------------------------------------
    def recent_predictions(self, limit: int, make: str | None = None) -> list[dict]:
        query = "SELECT TOP @n * FROM c {} ORDER BY c.created_at DESC".format("WHERE c.make = @make" if make else "")
        return self._query(self._history, query, {"@n": limit, "@make": make}, make)

    def prediction(self, prediction_id: str) -> dict | None:
        rows = self._query(
            self._history, "SELECT * FROM c WHERE c.id = @id", {"@id": prediction_id}, None
        )
        return rows[0] if rows else None

    def latest_batch_run(self) -> dict | None:
        rows = self._query(
            self._batch,
            "SELECT TOP 1 c.run_id, c.model_version, c.scored_at FROM c ORDER BY c.scored_at DESC",
            {},
            None,
        )
        return rows[0] if rows else None

    def batch_results(self, run_id: str, limit: int, make: str | None = None) -> list[dict]:
        query = "SELECT TOP @n * FROM c WHERE c.run_id = @run {} ORDER BY c.car_id".format(
            "AND c.make = @make" if make else ""
        )
        return self._query(self._batch, query, {"@n": limit, "@run": run_id, "@make": make}, make)

    def recent_listings(self, limit: int) -> list[dict]:
        """The stream's newest scored listings (written by the function app's score_listings)."""
        query = "SELECT TOP @n * FROM c ORDER BY c.listed_at DESC"
        return self._query(self._container(self.settings.market_container), query, {"@n": limit}, None)

    def _query(self, container: ContainerProxy, query: str, params: dict, make: str | None) -> list[dict]:
        parameters = [{"name": k, "value": v} for k, v in params.items() if v is not None]
        kwargs: dict[str, Any] = {"partition_key": make} if make else {"enable_cross_partition_query": True}
        try:
            return list(container.query_items(query, parameters=parameters, **kwargs))
        except CosmosResourceNotFoundError:
            if not self.local:
                raise
            self.ensure_containers()
            return []

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
                self._proxies.clear()


__all__ = ["CosmosHttpResponseError", "CosmosStore", "StoreNotConfigured"]
