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
    endpoint_scope: str = Field(
        contract.AML_ENDPOINT_TOKEN_SCOPE, validation_alias=contract.SETTING_ENDPOINT_SCOPE
    )
    model_dir: Path = Field(default_factory=default_model_dir, validation_alias=contract.SETTING_MODEL_DIR)
    region: str = Field("local", validation_alias=contract.SETTING_REGION)
    outbox_dir: Path = Field(default_factory=_default_outbox_dir, validation_alias=contract.SETTING_OUTBOX_DIR)
    managed_identity_client_id: str = Field(
        "", validation_alias=contract.SETTING_MANAGED_IDENTITY_CLIENT_ID
    )

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

    @property
    def cosmos_is_local_emulator(self) -> bool:
        """True only for a loopback endpoint: the one case where the emulator key and an unverified TLS are OK."""
        return is_loopback(self.cosmos_endpoint)

