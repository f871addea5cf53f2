"""Resource names: one place for Azure's per-type length and character rules.

Names follow the Cloud Adoption Framework abbreviations (`st`, `kv`, `cosmos`, ...) and are
`<abbr>-<workload>-<env>[-<qualifier>][-<region>]`. Types whose names are globally unique DNS
labels get a stable suffix derived from the subscription and environment, so a redeploy finds the
same resources and two teams deploying the blueprint never collide. Pure functions: no cdktn here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


class NamingError(ValueError):
    """A generated name breaks Azure's rules for its resource type."""


@dataclass(frozen=True)
class Rule:
    abbreviation: str
    min_length: int
    max_length: int
    pattern: str  # full-match regex of allowed names (Azure's documented character rules)
    separator: str = "-"
    globally_unique: bool = False
    explanation: str = ""


_HYPHENATED = r"[a-z0-9][a-z0-9-]*[a-z0-9]"
_ALNUM_LOWER = r"[a-z0-9]+"

# Limits from "Naming rules and restrictions for Azure resources" (Microsoft Learn).
RULES: dict[str, Rule] = {
    "resource_group": Rule("rg", 1, 90, r"[a-zA-Z0-9._()-]*[a-zA-Z0-9_()-]", explanation="letters, digits, . _ ( ) -"),
    "log_analytics": Rule("log", 4, 63, _HYPHENATED, explanation="letters, digits and hyphens"),
    "application_insights": Rule("appi", 1, 255, _HYPHENATED),
    "virtual_network": Rule("vnet", 2, 64, _HYPHENATED),
    "subnet": Rule("snet", 1, 80, _HYPHENATED),
    "network_security_group": Rule("nsg", 1, 80, _HYPHENATED),
    "user_identity": Rule("id", 3, 128, _HYPHENATED),
    "private_endpoint": Rule("pe", 2, 64, _HYPHENATED),
    "budget": Rule("budget", 1, 63, _HYPHENATED),
    "key_vault": Rule(
        "kv", 3, 24, r"[a-z][a-z0-9-]*[a-z0-9]", globally_unique=True,
        explanation="3-24 letters, digits and hyphens, starting with a letter",
    ),
    "storage_account": Rule(
        "st", 3, 24, _ALNUM_LOWER, separator="", globally_unique=True,
        explanation="3-24 lowercase letters and digits only",
    ),
    "container_registry": Rule(
        "cr", 5, 50, _ALNUM_LOWER, separator="", globally_unique=True,
        explanation="5-50 letters and digits only",
    ),
    "eventhub_namespace": Rule(
        "evhns", 6, 50, r"[a-z][a-z0-9-]*[a-z0-9]", globally_unique=True,
        explanation="6-50 letters, digits and hyphens, starting with a letter",
    ),
    "eventhub": Rule("evh", 1, 256, _HYPHENATED),
    "cosmosdb_account": Rule(
        "cosmos", 3, 44, _HYPHENATED, globally_unique=True,
        explanation="3-44 lowercase letters, digits and hyphens",
    ),
    "ml_workspace": Rule("mlw", 3, 33, r"[a-z0-9][a-z0-9-]*", explanation="3-33 letters, digits and hyphens"),
    "kubernetes_cluster": Rule("aks", 1, 63, _HYPHENATED),
    "disk_encryption_set": Rule("des", 1, 80, _HYPHENATED),
    "app_service_plan": Rule("asp", 1, 60, _HYPHENATED),
    "web_app": Rule(
        "app", 2, 60, _HYPHENATED, globally_unique=True,
        explanation="2-60 letters, digits and hyphens (a DNS label under azurewebsites.net)",
    ),
    "data_factory": Rule(
        "adf", 3, 63, r"[a-z0-9]+(-[a-z0-9]+)*", globally_unique=True,
        explanation="3-63 letters, digits and single hyphens, starting and ending with a letter or digit",
    ),
    # Function app names over 32 characters share a truncated host ID and may collide on one storage account.
    "function_app": Rule(
        "func", 2, 32, _HYPHENATED, globally_unique=True,
        explanation="2-32 letters, digits and hyphens (a DNS label; longer names risk host ID collisions)",
    ),
    "application_gateway": Rule("agw", 1, 80, _HYPHENATED),
    "waf_policy": Rule("waf", 1, 80, _HYPHENATED),
    "public_ip": Rule("pip", 1, 80, _HYPHENATED),
    "public_ip_dns_label": Rule(
        "agw", 3, 63, r"[a-z][a-z0-9-]{1,61}[a-z0-9]", globally_unique=True,
        explanation="3-63 lowercase letters, digits and hyphens, starting with a letter (<label>.<region>.cloudapp...)",
    ),
    # azurerm validate.WorkspaceName / AccessConnectorName at v4.81.0: 3-64 letters, digits, "_" and "-".
    "databricks_workspace": Rule("dbw", 3, 64, r"[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9]"),
    "databricks_access_connector": Rule("dbac", 3, 64, r"[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9]"),
    "traffic_manager": Rule(
        "traf", 1, 63, _HYPHENATED, globally_unique=True,
        explanation="1-63 letters, digits and hyphens (a DNS label under trafficmanager.net)",
    ),
    # The account name is also its custom subdomain (<name>.openai.azure.com), which Entra ID auth requires.
    "openai_account": Rule(
        "oai", 2, 64, r"[a-z0-9][a-z0-9-]*[a-z0-9]", globally_unique=True,
        explanation="2-64 letters, digits and hyphens (a DNS label under openai.azure.com)",
    ),
    "search_service": Rule(
        "srch", 2, 60, r"[a-z0-9]+(-[a-z0-9]+)*", globally_unique=True,
        explanation="2-60 lowercase letters, digits and single hyphens, not at either end (<name>.search.windows.net)",
    ),
}

# Short region codes keep names inside the tighter limits (storage 24, Key Vault 24).
REGION_CODES: dict[str, str] = {
    "westeurope": "weu", "northeurope": "neu", "swedencentral": "sdc", "germanywestcentral": "gwc",
    "francecentral": "frc", "uksouth": "uks", "ukwest": "ukw", "switzerlandnorth": "szn",
    "eastus": "eus", "eastus2": "eus2", "westus": "wus", "westus2": "wus2", "westus3": "wus3",
    "centralus": "cus", "northcentralus": "ncus", "southcentralus": "scus", "canadacentral": "cac",
    "brazilsouth": "brs", "australiaeast": "aue", "southeastasia": "sea", "eastasia": "ea",
    "japaneast": "jpe", "koreacentral": "krc", "centralindia": "inc",
}


def region_code(region: str) -> str:
    try:
        return REGION_CODES[region]
    except KeyError:
        raise NamingError(f"region '{region}' has no short code; add it to stacks/naming.py REGION_CODES") from None


def stable_suffix(subscription_id: str, environment: str, length: int = 5) -> str:
    """Same inputs, same suffix: a hash, never randomness, so names survive every redeploy."""
    digest = hashlib.sha256(f"{subscription_id.lower()}/{environment}".encode()).hexdigest()
    return digest[:length]


def validate(kind: str, name: str) -> str:
    rule = RULES[kind]
    if not rule.min_length <= len(name) <= rule.max_length:
        raise NamingError(
            f"{kind} name '{name}' is {len(name)} characters; Azure allows "
            f"{rule.min_length}-{rule.max_length} ({rule.explanation or 'see naming rules'})"
        )
    if not re.fullmatch(rule.pattern, name):
        raise NamingError(f"{kind} name '{name}' has characters Azure does not allow: {rule.explanation}")
    return name


@dataclass(frozen=True)
class Namer:
    """Builds validated names for one workload in one environment."""

    workload: str
    environment: str
    subscription_id: str

    @property
    def suffix(self) -> str:
        return stable_suffix(self.subscription_id, self.environment)

    def name(self, kind: str, qualifier: str = "", region: str | None = None) -> str:
        if kind not in RULES:
            raise NamingError(f"no naming rule for resource type '{kind}'")
        rule = RULES[kind]
        parts = [rule.abbreviation, self.workload, self.environment]
        if qualifier:
            parts.append(qualifier)
        if region:
            parts.append(region_code(region))
        if rule.globally_unique:
            parts.append(self.suffix)
        name = rule.separator.join(parts)
        if rule.separator == "":
            name = re.sub(r"[^a-z0-9]", "", name.lower())
        return validate(kind, name)
