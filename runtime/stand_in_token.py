"""The AI stand-ins' token (tools/local/standins/): what a managed identity's Entra token is in Azure, issued
only when both AI endpoints are loopback (runtime.emulator.is_loopback), like the Cosmos DB emulator's key.

The stand-ins accept only `Authorization: Bearer <token>` and refuse any `api-key` header, so the local twin
and the tests exercise the same keyless path as Azure."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

TOKEN_PREFIX = "stand-in-token"


def token_for(scope: str) -> str:
    return f"{TOKEN_PREFIX}:{scope}"


class StandInCredential:
    """An async token credential (azure-core's protocol) that issues the stand-ins' bearer token."""

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return AccessToken(token_for(scopes[0] if scopes else ""), int(time.time()) + 3600)

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(token_for(scopes[0] if scopes else ""), int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StandInCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


class SyncStandInCredential:
    """The same token for the SDKs' synchronous clients (the index deploy step and the indexers)."""

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return AccessToken(token_for(scopes[0] if scopes else ""), int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(token_for(scopes[0] if scopes else ""), int(time.time()) + 3600)

    def close(self) -> None:
        return None
