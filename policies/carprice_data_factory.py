"""Policies 11 and 12: Data Factory runs its copies inside a managed virtual network, has no public endpoint
when its environment is private, and has one owner of its content: the stacks (no Git mode, whose Studio
"publish" would overwrite the pipeline and trigger Terraform manages); its Azure integration runtimes live in
that managed network."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import block, environment_of, is_false, is_true
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class DataFactoryGuardrails(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Data Factory uses a managed VNet, no public access when private, and no Git mode",
            id="CKV_CARPRICE_11",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("azurerm_data_factory",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = [
            "managed_virtual_network_enabled", "public_network_enabled", "vsts_configuration", "github_configuration",
            "tags",
        ]
        env = environment_of(conf)
        if env is None:
            self.details.append("no environment tag: cannot tell whether the environment is private or production")
            return CheckResult.FAILED
        if not is_true(conf, "managed_virtual_network_enabled"):
            self.details.append("managed_virtual_network_enabled must be true (copies run in the managed network)")
        if env.get("private_networking") and not is_false(conf, "public_network_enabled"):
            self.details.append(f"{env['name']} is private but public_network_enabled is not false")
        if block(conf, "vsts_configuration") or block(conf, "github_configuration"):
            self.details.append("Git mode: the stacks own the factory's content, a Studio publish would overwrite it")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


class ManagedNetworkRuntime(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Data Factory Azure integration runtimes run in the factory's managed virtual network",
            id="CKV_CARPRICE_12",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("azurerm_data_factory_integration_runtime_azure",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["virtual_network_enabled"]
        if is_true(conf, "virtual_network_enabled"):
            return CheckResult.PASSED
        self.details.append("virtual_network_enabled must be true: a shared runtime reaches stores over the internet")
        return CheckResult.FAILED


guardrails = DataFactoryGuardrails()
runtime = ManagedNetworkRuntime()
