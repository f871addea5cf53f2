"""Policies 20-22: the generative-AI tier's settings no built-in check covers.

20: Azure AI Search accepts only Entra ID tokens (API keys off).
21: every Azure OpenAI deployment is pinned to one model version and never upgrades itself.
22: every deployment runs under a content-filter policy of this stack (not a default one), and every such policy
    blocks the prompt shields for jailbreaks and indirect attacks on prompts.
"""

from __future__ import annotations

import re
from typing import Any

from carprice_policy_support import is_false, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# A date version ("2024-07-18") or a numbered one ("1"); never "latest" or empty (Azure would pick).
PINNED_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d+(\.\d+)*)$")
REQUIRED_SHIELDS = ("Jailbreak", "Indirect Attack")
RAI_POLICY_REFERENCE = re.compile(r"^\$\{azurerm_cognitive_account_rai_policy\.[^.}]+\.name\}$")


class SearchLocalAuth(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Azure AI Search disables local (API key) authentication",
            id="CKV_CARPRICE_20",
            categories=(CheckCategories.IAM,),
            supported_resources=("azurerm_search_service",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        # The provider's default is true (search_service_resource.go, v4.81.0): leaving it out keeps API keys.
        self.evaluated_keys = ["local_authentication_enabled"]
        if is_false(conf, "local_authentication_enabled"):
            return CheckResult.PASSED
        self.details.append("local_authentication_enabled must be false")
        return CheckResult.FAILED


class PinnedModelVersion(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Azure OpenAI deployments pin the model version and never auto-upgrade",
            id="CKV_CARPRICE_21",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("azurerm_cognitive_deployment",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        # version_upgrade_option defaults to OnceNewDefaultVersionAvailable (cognitive_deployment_resource.go).
        self.evaluated_keys = ["model/[0]/version", "version_upgrade_option"]
        version = str(value(value(conf, "model", {}), "version", ""))
        if not PINNED_VERSION.fullmatch(version):
            self.details.append(f"model.version {version!r} is not a pinned version")
            return CheckResult.FAILED
        if value(conf, "version_upgrade_option") != "NoAutoUpgrade":
            self.details.append("version_upgrade_option must be NoAutoUpgrade")
            return CheckResult.FAILED
        return CheckResult.PASSED


class ContentFilterAttached(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Azure OpenAI deployments use a content filter that blocks jailbreak and indirect attacks",
            id="CKV_CARPRICE_22",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("azurerm_cognitive_deployment", "azurerm_cognitive_account_rai_policy"),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if "content_filter" in conf:  # the policy itself
            return self._blocks_prompt_attacks(conf)
        self.evaluated_keys = ["rai_policy_name"]
        policy = str(value(conf, "rai_policy_name", ""))
        if RAI_POLICY_REFERENCE.fullmatch(policy):
            return CheckResult.PASSED
        self.details.append(
            f"rai_policy_name {policy or '(unset: Microsoft.DefaultV2)'} is not a content filter of this stack"
        )
        return CheckResult.FAILED

    def _blocks_prompt_attacks(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["content_filter"]
        filters = conf.get("content_filter") or []
        while len(filters) == 1 and isinstance(filters[0], list):
            filters = filters[0]
        blocking = {
            value(f, "name") for f in filters if isinstance(f, dict)
            and value(f, "source") == "Prompt" and value(f, "filter_enabled") is True
            and value(f, "block_enabled") is True
        }
        missing = [shield for shield in REQUIRED_SHIELDS if shield not in blocking]
        if missing:
            self.details.append(f"the policy does not block {', '.join(missing)} on prompts")
            return CheckResult.FAILED
        return CheckResult.PASSED


search_local_auth = SearchLocalAuth()
pinned_model_version = PinnedModelVersion()
content_filter_attached = ContentFilterAttached()
