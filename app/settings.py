"""The web app's settings, read from the environment variables the App stack sets (names in contract/).

No secrets live here: in Azure the app authenticates to Cosmos DB and the Azure ML endpoint with
DefaultAzureCredential (its managed identity); locally the Cosmos emulator's well-known key is used,
and only ever for a loopback endpoint (runtime/credentials.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

import contract
from contract import genai
from runtime.emulator import is_loopback
from runtime.model_location import ROOT, default_model_dir


def _default_outbox_dir() -> Path:
    # App Service keeps /home across restarts; elsewhere the repo's git-ignored .local/ is used.
    if os.environ.get("WEBSITE_SITE_NAME"):
        return Path("/home/data/carprice-outbox")
    return ROOT / ".local" / "outbox"


class Settings(BaseSettings):
    # Contract settings use their exact names (aliases below); tuning knobs read CARPRICE_<FIELD>.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_prefix="CARPRICE_")

    cosmos_endpoint: str = Field("", validation_alias=contract.SETTING_COSMOS_ENDPOINT)
    cosmos_database: str = Field(contract.COSMOS_DATABASE, validation_alias=contract.SETTING_COSMOS_DATABASE)
    history_container: str = Field(
        contract.HISTORY_CONTAINER, validation_alias=contract.SETTING_HISTORY_CONTAINER
    )
    batch_container: str = Field(contract.BATCH_CONTAINER, validation_alias=contract.SETTING_BATCH_CONTAINER)
    market_container: str = Field(contract.MARKET_CONTAINER, validation_alias=contract.SETTING_MARKET_CONTAINER)
    scoring_mode: Literal["local", "remote"] = Field("local", validation_alias=contract.SETTING_SCORING_MODE)
    endpoint_url: str = Field("", validation_alias=contract.SETTING_ENDPOINT_URL)
    endpoint_token_url: str = Field("", validation_alias=contract.SETTING_ENDPOINT_TOKEN_URL)
    endpoint_scope: str = Field(
        contract.AML_ENDPOINT_TOKEN_SCOPE, validation_alias=contract.SETTING_ENDPOINT_SCOPE
    )
    model_dir: Path = Field(default_factory=default_model_dir, validation_alias=contract.SETTING_MODEL_DIR)
    region: str = Field("local", validation_alias=contract.SETTING_REGION)
    outbox_dir: Path = Field(default_factory=_default_outbox_dir, validation_alias=contract.SETTING_OUTBOX_DIR)
    managed_identity_client_id: str = Field(
        "", validation_alias=contract.SETTING_MANAGED_IDENTITY_CLIENT_ID
    )
    # The assistant (app/assistant/): Azure OpenAI and Azure AI Search, both with Entra tokens only. No
    # endpoint: the assistant page says it is not configured and everything else runs as usual.
    # Names and defaults: contract/genai.py, the same the genai stack sets.
    openai_endpoint: str = Field("", validation_alias=genai.SETTING_OPENAI_ENDPOINT)
    openai_chat_deployment: str = Field(
        genai.OPENAI_CHAT_DEPLOYMENT, validation_alias=genai.SETTING_OPENAI_CHAT_DEPLOYMENT
    )
    openai_embedding_deployment: str = Field(
        genai.OPENAI_EMBEDDING_DEPLOYMENT, validation_alias=genai.SETTING_OPENAI_EMBEDDING_DEPLOYMENT
    )
    openai_api_version: str = Field(genai.OPENAI_API_VERSION, validation_alias=genai.SETTING_OPENAI_API_VERSION)
    search_endpoint: str = Field("", validation_alias=genai.SETTING_SEARCH_ENDPOINT)
    search_index: str = Field(genai.SEARCH_INDEX, validation_alias=genai.SETTING_SEARCH_INDEX)
    chat_container: str = Field(genai.CHAT_CONTAINER, validation_alias=genai.SETTING_CHAT_CONTAINER)

    # Tuning knobs with safe defaults; not part of the infra contract.
    max_body_bytes: int = 16_384
    history_page_max: int = 200
    dashboard_window: int = 2_000
    market_window: int = 500  # newest stream listings the live market panel summarises
    endpoint_timeout_s: float = 5.0
    endpoint_attempts: int = 3
    store_timeout_s: float = 3.0
    outbox_retry_max_s: float = 30.0
    # False: a committed record survives the app crashing or restarting (the usual failure; App Service
    # restarts containers), not the host losing power mid-write. True: fsync every commit, which caps
    # throughput at connections / fsync latency on slow disks.
    outbox_fsync_each_commit: bool = False
    # An outbox whose owner has not renewed its lease for this long is adopted by a live worker (the
    # owner renews every tenth of it); it must comfortably exceed a stall of the /home share.
    outbox_lease_s: float = 600.0
    # The instance's pending view (app/store/pending_view.py): instance-local disk, never /home.
    pending_view_dir: Path | None = None
    # The assistant's bounds: tool rounds per answer, tokens per model reply, earlier turns sent back.
    assistant_max_tool_rounds: int = 3
    assistant_max_tokens: int = 700
    assistant_history_turns: int = 4
    assistant_max_question_chars: int = 2_000
    assistant_search_top: int = 5
    assistant_timeout_s: float = 30.0
    assistant_max_retries: int = 1  # the SDK's own retry of a 429 within its Retry-After
    # The local stand-ins' certificate (tools/local/standins/): trusted only for loopback endpoints.
    assistant_ca_file: Path | None = Field(None, validation_alias="CARPRICE_ASSISTANT_CA_FILE")

    @property
    def assistant_configured(self) -> bool:
        return bool(self.openai_endpoint and self.search_endpoint)

    @property
    def assistant_is_local(self) -> bool:
        """True only when both AI endpoints are loopback stand-ins (tools/local/standins/)."""
        return is_loopback(self.openai_endpoint) and is_loopback(self.search_endpoint)

    @property
    def cosmos_is_local_emulator(self) -> bool:
        """True only for a loopback endpoint: the one case where the emulator key and an unverified TLS are OK."""
        return is_loopback(self.cosmos_endpoint)

