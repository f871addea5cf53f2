"""Policies 20 and 21: the Databricks workspace is Premium, injected into our network with no public IPs on its
nodes, double-encrypted with customer-managed keys for its disks and its managed services (notebooks, secrets,
queries in the control plane), and has no public endpoint when its environment is private; every job cluster runs
under a cluster policy, as a dedicated (single-user) cluster, with a bounded autoscaling range."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import block, environment_of, is_false, is_true, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

MAX_JOB_WORKERS = 64  # the ceiling stacks/config.py allows; beyond it a job is an unreviewed cost


class DatabricksWorkspaceGuardrails(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the Databricks workspace is Premium, VNet-injected without public IPs, and private when "
                 "its environment is",
            id="CKV_CARPRICE_23",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("azurerm_databricks_workspace",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["sku", "custom_parameters", "public_network_access_enabled",
                               "infrastructure_encryption_enabled", "managed_disk_cmk_key_vault_key_id",
                               "managed_services_cmk_key_vault_key_id", "tags"]
        env = environment_of(conf)
        if env is None:
            self.details.append("no environment tag: cannot tell whether the environment is private")
            return CheckResult.FAILED
        params = block(conf, "custom_parameters")
        if value(conf, "sku") != "premium":
            self.details.append("sku must be premium (Unity Catalog, cluster policies, Private Link, CMK)")
        if not is_true(params, "no_public_ip"):
            self.details.append("custom_parameters.no_public_ip must be true (secure cluster connectivity)")
        if not value(params, "virtual_network_id"):
            self.details.append("custom_parameters.virtual_network_id must be set (VNet injection)")
        if not is_true(conf, "infrastructure_encryption_enabled"):
            self.details.append("infrastructure_encryption_enabled must be true")
        for key in ("managed_disk_cmk_key_vault_key_id", "managed_services_cmk_key_vault_key_id"):
            if not value(conf, key):
                self.details.append(f"{key} must be set (the platform's customer-managed key)")
        if env.get("private_networking") and not is_false(conf, "public_network_access_enabled"):
            self.details.append(f"{env['name']} is private but public_network_access_enabled is not false")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


class DatabricksJobClusters(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Databricks job clusters run under a cluster policy, single-user, with bounded autoscaling",
            id="CKV_CARPRICE_24",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("databricks_job",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["job_cluster"]
        clusters = conf.get("job_cluster") or []
        if not clusters:
            self.details.append("a job must declare its job clusters (no existing all-purpose clusters)")
        for cluster in clusters:
            spec = block(cluster, "new_cluster")
            key = value(cluster, "job_cluster_key", "?")
            if not value(spec, "policy_id"):
                self.details.append(f"job cluster {key}: policy_id must be set")
            if value(spec, "data_security_mode") not in ("SINGLE_USER", "USER_ISOLATION"):
                self.details.append(f"job cluster {key}: data_security_mode must isolate users (SINGLE_USER)")
            workers = value(block(spec, "autoscale"), "max_workers")
            if not isinstance(workers, int) or workers > MAX_JOB_WORKERS:
                self.details.append(f"job cluster {key}: autoscale.max_workers must be at most {MAX_JOB_WORKERS}")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


workspace = DatabricksWorkspaceGuardrails()
job_clusters = DatabricksJobClusters()
