"""The function app's settings: app settings (environment variables) named in contract/, set by the stacks.

No secrets: in Azure the app reaches Cosmos DB, Event Hubs and the Azure ML endpoint with its managed
identity; the Cosmos emulator's well-known key is used only for a loopback endpoint (tests, local twin).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import contract
from contract import genai
from runtime.emulator import is_loopback
from runtime.model_location import TRAINED_MODEL_DIR, default_model_dir

SCORING_MODES = ("local", "remote")


class SettingError(ValueError):
    """An app setting is missing or has a value the function app cannot use."""


@dataclass(frozen=True)
class FunctionSettings:
    cosmos_endpoint: str
    cosmos_database: str = contract.COSMOS_DATABASE
    market_container: str = contract.MARKET_CONTAINER
    dead_letter_container: str = contract.DEAD_LETTER_CONTAINER
    history_container: str = contract.HISTORY_CONTAINER
    scoring_mode: str = "local"
    model_dir: Path = TRAINED_MODEL_DIR
    endpoint_url: str = ""
    endpoint_token_url: str = ""
    endpoint_scope: str = contract.AML_ENDPOINT_TOKEN_SCOPE
    region: str = "local"
    managed_identity_client_id: str = ""
    max_body_bytes: int = 16_384
    endpoint_timeout_s: float = 10.0
    endpoint_attempts: int = 3
    # The listings index (contract/listings_index.py), filled as listings are scored; off when unset.
    search_endpoint: str = ""
    openai_endpoint: str = ""
    embedding_deployment: str = genai.OPENAI_EMBEDDING_DEPLOYMENT
    openai_api_version: str = genai.OPENAI_API_VERSION
    search_index: str = genai.SEARCH_INDEX

    def __post_init__(self) -> None:
        if not self.cosmos_endpoint:
            raise SettingError(f"app setting {contract.SETTING_COSMOS_ENDPOINT} is not set")
        if self.scoring_mode not in SCORING_MODES:
            raise SettingError(f"app setting {contract.SETTING_SCORING_MODE} is {self.scoring_mode!r}; "
                               f"expected one of {', '.join(SCORING_MODES)}")
        if self.scoring_mode == "remote" and not self.endpoint_url:
            raise SettingError(f"remote scoring needs app setting {contract.SETTING_ENDPOINT_URL}")
        if self.scoring_mode == "remote" and not self.endpoint_token_url:
            raise SettingError(f"remote scoring needs app setting {contract.SETTING_ENDPOINT_TOKEN_URL}")

    @property
    def cosmos_is_local_emulator(self) -> bool:
        return is_loopback(self.cosmos_endpoint)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> FunctionSettings:
        env = os.environ if env is None else env

        def get(name: str, default: str) -> str:
            return env.get(name) or default

        return cls(
            cosmos_endpoint=get(contract.SETTING_COSMOS_ENDPOINT, ""),
            cosmos_database=get(contract.SETTING_COSMOS_DATABASE, contract.COSMOS_DATABASE),
            market_container=get(contract.SETTING_MARKET_CONTAINER, contract.MARKET_CONTAINER),
            dead_letter_container=get(contract.SETTING_DEAD_LETTER_CONTAINER, contract.DEAD_LETTER_CONTAINER),
            history_container=get(contract.SETTING_HISTORY_CONTAINER, contract.HISTORY_CONTAINER),
            scoring_mode=get(contract.SETTING_SCORING_MODE, "local"),
            model_dir=Path(get(contract.SETTING_MODEL_DIR, str(default_model_dir()))),
            endpoint_url=get(contract.SETTING_ENDPOINT_URL, ""),
            endpoint_token_url=get(contract.SETTING_ENDPOINT_TOKEN_URL, ""),
            endpoint_scope=get(contract.SETTING_ENDPOINT_SCOPE, contract.AML_ENDPOINT_TOKEN_SCOPE),
            region=get(contract.SETTING_REGION, "local"),
            managed_identity_client_id=get(contract.SETTING_MANAGED_IDENTITY_CLIENT_ID, ""),
            search_endpoint=get(genai.SETTING_SEARCH_ENDPOINT, ""),
            openai_endpoint=get(genai.SETTING_OPENAI_ENDPOINT, ""),
            embedding_deployment=get(genai.SETTING_OPENAI_EMBEDDING_DEPLOYMENT, genai.OPENAI_EMBEDDING_DEPLOYMENT),
            openai_api_version=get(genai.SETTING_OPENAI_API_VERSION, genai.OPENAI_API_VERSION),
            search_index=get(genai.SETTING_SEARCH_INDEX, genai.SEARCH_INDEX),
        )
