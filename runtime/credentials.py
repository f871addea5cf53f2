"""How the deployed apps authenticate: Entra ID tokens from DefaultAzureCredential (the app's user-assigned
managed identity in Azure; no keys in code or settings), and for Cosmos DB the emulator's key, only ever for a
loopback endpoint."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from runtime.emulator import COSMOS_EMULATOR_KEY, is_loopback

# Renew a token this long before it expires, so no request goes out with one that lapses on the way.
TOKEN_REFRESH_MARGIN_S = 300


def azure_credential(managed_identity_client_id: str = "") -> Any:
    """DefaultAzureCredential, pinned to the app's user-assigned identity when its client id is set."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=managed_identity_client_id or None)


def cosmos_credential(endpoint: str, managed_identity_client_id: str = "") -> Any:
    """The emulator's key for a loopback endpoint; the app's Entra ID identity for anything else."""
    if is_loopback(endpoint):
        return COSMOS_EMULATOR_KEY
    return azure_credential(managed_identity_client_id)


class BearerToken:
    """An Entra ID token for one scope, fetched when missing or about to expire, shared by every caller."""

    def __init__(self, credential: Any, scope: str) -> None:
        self.credential = credential  # azure.core.credentials.TokenCredential
        self.scope = scope
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _fresh(self) -> str | None:
        token = self._token
        if token is None or token[1] - time.time() < TOKEN_REFRESH_MARGIN_S:
            return None
        return token[0]

    def get(self) -> str:
        with self._lock:
            fresh = self._fresh()
            if fresh is None:
                token = self.credential.get_token(self.scope)
                self._token = (token.token, float(token.expires_on))
                fresh = token.token
            return fresh

    async def aget(self) -> str:
        """As `get`; a renewal may call IMDS or Entra ID, so it runs off the event loop."""
        fresh = self._fresh()
        return fresh if fresh is not None else await asyncio.to_thread(self.get)

    def forget(self) -> None:
        """Drop the token (the endpoint refused it): the next call fetches a new one."""
        self._token = None
