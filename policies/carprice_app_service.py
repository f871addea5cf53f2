"""Policy 7: web apps (and slots) are HTTPS only, TLS >= 1.2, FTPS disabled, with a managed identity."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import block, is_true, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

WEB_APPS = (
    "azurerm_linux_web_app",
    "azurerm_linux_web_app_slot",
    "azurerm_windows_web_app",
    "azurerm_windows_web_app_slot",
)


def tls_at_least_1_2(version: Any) -> bool:
    try:
        return tuple(int(part) for part in str(version).split(".")) >= (1, 2)
    except ValueError:
        return False


class AppServiceGuardrails(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure web apps are HTTPS only with TLS >= 1.2, FTPS disabled and a managed identity",
            id="CKV_CARPRICE_7",
            categories=(CheckCategories.ENCRYPTION,),
            supported_resources=WEB_APPS,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        site = block(conf, "site_config")
        self.evaluated_keys = [
            "https_only", "site_config/[0]/minimum_tls_version", "site_config/[0]/ftps_state", "identity/[0]/type"
        ]
        if not is_true(conf, "https_only"):
            self.details.append("https_only must be true")
        # The provider's default minimum TLS is 1.2, so an unset value is acceptable.
        if "minimum_tls_version" in site and not tls_at_least_1_2(value(site, "minimum_tls_version")):
            self.details.append("site_config.minimum_tls_version must be 1.2 or higher")
        if value(site, "ftps_state") != "Disabled":
            self.details.append('site_config.ftps_state must be "Disabled"')
        if "Assigned" not in str(value(block(conf, "identity"), "type", "")):
            self.details.append("a managed identity (identity block) is required")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = AppServiceGuardrails()
