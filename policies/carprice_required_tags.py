"""Policy 1: every taggable resource carries environment, owner, cost-center and managed-by."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import REQUIRED_TAGS, taggable_types, tags
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class RequiredTags(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=f"Ensure every taggable resource has the tags {', '.join(REQUIRED_TAGS)}",
            id="CKV_CARPRICE_1",
            categories=(CheckCategories.CONVENTION,),
            supported_resources=taggable_types(),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        present = tags(conf)
        missing = [tag for tag in REQUIRED_TAGS if not present.get(tag)]
        self.evaluated_keys = ["tags"]
        if missing:
            self.details.append(f"missing tags: {', '.join(missing)}")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = RequiredTags()
