"""The assistant's SDK clients: `AsyncAzureOpenAI` and the async `SearchClient`, both on Entra tokens, never keys.

In Azure the token comes from the app's managed identity (DefaultAzureCredential). Only when both endpoints are
loopback stand-ins (tools/local/standins/) does a stand-in credential issue the token, and the stand-ins'
self-signed certificate is trusted for those two endpoints alone: the code path is otherwise the same.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import get_bearer_token_provider
from azure.search.documents.aio import SearchClient
from openai import AsyncAzureOpenAI

from app.settings import Settings
from contract.genai import OPENAI_TOKEN_SCOPE


def credential(settings: Settings) -> AsyncTokenCredential:
    if settings.assistant_is_local:
        # Issued only for loopback endpoints (the stand-ins), never in Azure.
        from runtime.stand_in_token import StandInCredential

        return StandInCredential()
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=settings.managed_identity_client_id or None)


def _stand_in_ca_file(settings: Settings) -> str | None:
    """The stand-ins' CA to trust instead of the system's (local only; Azure's certificates need none)."""
    if settings.assistant_is_local and settings.assistant_ca_file:
        return str(settings.assistant_ca_file)
    return None


@dataclass
class AiClients:
    openai: AsyncAzureOpenAI
    search: SearchClient
    credential: AsyncTokenCredential

    async def aclose(self) -> None:
        await self.openai.close()
        await self.search.close()
        await self.credential.close()


def openai_client(settings: Settings, cred: AsyncTokenCredential, **extra: Any) -> AsyncAzureOpenAI:
    ca_file = _stand_in_ca_file(settings)
    http_client = None if ca_file is None else httpx.AsyncClient(verify=ssl.create_default_context(cafile=ca_file),
                                                                  trust_env=False)
    return AsyncAzureOpenAI(
        azure_endpoint=settings.openai_endpoint,
        api_version=settings.openai_api_version,
        azure_ad_token_provider=get_bearer_token_provider(cred, OPENAI_TOKEN_SCOPE),
        max_retries=settings.assistant_max_retries,
        timeout=settings.assistant_timeout_s,
        http_client=http_client,
        **extra,
    )


def search_client(settings: Settings, cred: AsyncTokenCredential, **extra: Any) -> SearchClient:
    return SearchClient(settings.search_endpoint, settings.search_index, cred,
                        connection_verify=_stand_in_ca_file(settings) or True, **extra)


def build_clients(settings: Settings) -> AiClients:
    cred = credential(settings)
    return AiClients(openai_client(settings, cred), search_client(settings, cred), cred)
