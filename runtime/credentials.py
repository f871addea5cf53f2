"""How the deployed apps authenticate: Entra ID tokens from DefaultAzureCredential (the app's user-assigned
managed identity in Azure; no keys in code or settings), and for Cosmos DB the emulator's key, only ever for a
loopback endpoint."""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
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


class CachedToken(ABC):
    """A token shared by every caller: fetched when missing or due for renewal (`_renew` says when), dropped when
    its audience refuses it. Subclasses say how a token is obtained."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._token: tuple[str, float] | None = None  # (token, renew at)
        self._lock = threading.Lock()

    @abstractmethod
    def _renew(self) -> tuple[str, float]:
        """A new token and the time (clock seconds) to renew it at."""

    def _fresh(self) -> str | None:
        token = self._token
        if token is None or self.clock() >= token[1]:
            return None
        return token[0]

    def get(self) -> str:
        with self._lock:
            fresh = self._fresh()
            if fresh is None:
                self._token = self._renew()
                fresh = self._token[0]
            return fresh

    async def aget(self) -> str:
        """As `get`; a renewal calls Entra ID (and IMDS), so it runs off the event loop."""
        fresh = self._fresh()
        return fresh if fresh is not None else await asyncio.to_thread(self.get)

    def forget(self) -> None:
        """Drop the token (its audience refused it): the next call fetches a new one."""
        self._token = None


class BearerToken(CachedToken):
    """An Entra ID token for one scope, renewed a margin before it expires."""

    def __init__(self, credential: Any, scope: str) -> None:
        super().__init__()
        self.credential = credential  # azure.core.credentials.TokenCredential
        self.scope = scope

    def _renew(self) -> tuple[str, float]:
        token = self.credential.get_token(self.scope)
        return token.token, float(token.expires_on) - TOKEN_REFRESH_MARGIN_S
