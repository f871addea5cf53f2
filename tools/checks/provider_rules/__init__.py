"""Plan-time argument rules of the azurerm provider, read from its source, and a check of synthesized stacks."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
PROVIDER_TAG = "v4.81.0"
DEFAULT_TABLE = Path(__file__).with_name(f"azurerm-{PROVIDER_TAG.lstrip('v')}.json")
KNOWN_VIOLATIONS = Path(__file__).with_name("known-violations.txt")
# Azure's resource types for the `azapi_resource` bodies the stacks declare (azapi_extract.py).
AZAPI_TABLE = Path(__file__).with_name("azapi-types.json")
