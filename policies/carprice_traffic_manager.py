"""Policy 10: Traffic Manager probes each app over HTTPS on the app's health path (contract.HEALTH_PATH)."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import block, value  # also puts the repo root (and `contract`) on sys.path
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from contract import HEALTH_PATH


class TrafficManagerHealthProbe(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=f"Ensure Traffic Manager monitors HTTPS on the app's health path {HEALTH_PATH}",
            id="CKV_CARPRICE_10",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("azurerm_traffic_manager_profile",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        monitor = block(conf, "monitor_config")
        self.evaluated_keys = ["monitor_config/[0]/protocol", "monitor_config/[0]/path"]
        if value(monitor, "protocol") != "HTTPS":
            self.details.append('monitor_config.protocol must be "HTTPS"')
        if value(monitor, "path") != HEALTH_PATH:
            self.details.append(f"monitor_config.path must be the app's health path {HEALTH_PATH!r}")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = TrafficManagerHealthProbe()
