"""Policy 2: a resource's location is one of its environment's allowed regions."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import environment_of, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class AllowedRegions(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the resource's location is one of the environment's allowed regions",
            id="CKV_CARPRICE_2",
            categories=(CheckCategories.CONVENTION,),
            supported_resources=("azurerm_*",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        location = value(conf, "location")
        if not isinstance(location, str) or "${" in location:
            return CheckResult.UNKNOWN  # no location, or one computed at deploy time
        self.evaluated_keys = ["location", "tags"]
        env = environment_of(conf)
        if env is None:
            self.details.append("no environment tag naming a stacks/environments/<name>.yaml file")
            return CheckResult.FAILED
        allowed = list(env.get("allowed_regions", []))
        if location not in allowed:
            self.details.append(f"location {location!r} is not in {env['name']}'s allowed_regions {allowed}")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = AllowedRegions()
