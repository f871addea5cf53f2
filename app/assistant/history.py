"""Chat turns, kept through the same durable path as predictions: committed to this process's outbox (SQLite,
app/store/outbox.py) before the answer completes, drained to the Cosmos DB `chat` container (partitioned by the
anonymous session), and read back per session. The chat outboxes live in their own folder under the outbox
directory, owned and adopted like the prediction outboxes (app/store/owners.py), so a worker that dies leaves
its turns to a live one."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from azure.cosmos import PartitionKey
from azure.cosmos.exceptions import CosmosResourceNotFoundError
from starlette.concurrency import run_in_threadpool

from app.settings import Settings
from app.store.cosmos import CosmosStore
from app.store.drainer import Drainer, ServingLoad
from app.store.outbox import Outbox
from app.store.owners import LeaseKeeper, Owner, open_own_outbox
from contract.genai import CHAT_PARTITION_KEY
from runtime.predictions import utc_now_iso

log = logging.getLogger(__name__)
CHAT_FOLDER = "chat"


class ChatStore(CosmosStore):
    """The `chat` container (created only for the local emulator; in Azure the data stack owns it)."""

    def ensure_chat_container(self) -> None:
        if not self.local:
            return
        db = self._connect().create_database_if_not_exists(self.settings.cosmos_database)
        db.create_container_if_not_exists(self.settings.chat_container,
                                          partition_key=PartitionKey(path=CHAT_PARTITION_KEY))
        self._proxies.pop(self.settings.chat_container, None)

    def upsert_turn(self, doc: dict) -> None:
        try:
            self._container(self.settings.chat_container).upsert_item(doc, no_response=True)
        except CosmosResourceNotFoundError:
            if not self.local:
                raise
            self.ensure_chat_container()
            self._container(self.settings.chat_container).upsert_item(doc, no_response=True)

    def turns(self, session_id: str, limit: int) -> list[dict]:
        query = "SELECT TOP @n * FROM c WHERE c.session_id = @s ORDER BY c.created_at DESC"
        return self._query(self._container(self.settings.chat_container), query,
                           {"@n": limit, "@s": session_id}, session_id)


def new_turn(session_id: str, question: str, **facts: Any) -> dict:
    return {"id": uuid.uuid4().hex, "session_id": session_id, "created_at": utc_now_iso(), "question": question,
            **facts}


class ChatHistory:
    def __init__(self, settings: Settings, owner: Owner, store: ChatStore | None, load: ServingLoad) -> None:
        self.settings = settings
        self.store = store
        self.load = load  # the worker's serving load: chat turns drain at the pace it allows, as predictions do
        root = settings.outbox_dir / CHAT_FOLDER
        self.outbox: Outbox = open_own_outbox(root, owner, settings.outbox_fsync_each_commit)
        self.lease = LeaseKeeper(root, owner, self.outbox, lease_seconds=settings.outbox_lease_s,
                                 on_adopted=self._wake)
        self.drainer: Drainer | None = None

    def _wake(self) -> None:
        if self.drainer is not None:
            self.drainer.wake()

    def start(self) -> ChatHistory:
        self.lease.adopt_now()
        if self.store is not None:
            try:
                self.store.ensure_chat_container()
            except Exception as exc:  # the outbox keeps turns until Cosmos DB is back
                log.warning("Cosmos DB not reachable at start-up (chat): %s", exc)
            self.drainer = Drainer(self.outbox, self.store.upsert_turn,
                                   max_backoff_seconds=self.settings.outbox_retry_max_s, load=self.load).start()
        self.lease.start()
        return self

    def stop(self) -> None:
        self.lease.stop()
        if self.drainer is not None:
            self.drainer.stop()
        if self.store is not None:
            self.store.close()
        self.outbox.close()

    async def keep(self, turn: dict) -> None:
        """Commit the turn to the outbox (durable once this returns); the drainer copies it to Cosmos DB."""
        row = (turn["id"], turn["created_at"], turn["session_id"], orjson.dumps(turn).decode())
        await run_in_threadpool(lambda: self.outbox.add_rows([row]).result())
        if self.drainer is not None:
            self.drainer.committed()

    async def recent(self, session_id: str, limit: int) -> list[dict]:
        """The session's newest turns, oldest first: Cosmos DB plus this worker's turns not yet drained."""
        pending = await run_in_threadpool(self.outbox.newest, limit, session_id)
        stored: list[dict] = []
        if self.store is not None:
            try:
                stored = await run_in_threadpool(self.store.turns, session_id, limit)
            except Exception as exc:
                log.warning("chat history read from Cosmos DB failed: %s", exc)
        by_id = {d["id"]: d for d in stored} | {d["id"]: d for d in pending}
        newest = sorted(by_id.values(), key=lambda d: d["created_at"], reverse=True)[:limit]
        return [{k: v for k, v in d.items() if not k.startswith("_")} for d in reversed(newest)]
