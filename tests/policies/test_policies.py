"""Each organisation policy against a passing fixture (a stack from the real synth) and a failing one
(the same stack with one hardened setting flipped), all scanned by one checkov run."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contract import HEALTH_PATH
from tests.policies.scan_support import platform_scan, run_policies
from tools.checks.scan import POLICIES_DIR

pytestmark = pytest.mark.xdist_group("scan")


@dataclass(frozen=True)
class Case:
    policy: str
    label: str
    stack: str
    resource_type: str
    weaken: Callable[[dict[str, Any]], None]
    resource: str = ""  # a part of the logical id, where the stack holds several of the type


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda resource: resource.__setitem__(key, value)


def _set_in(block: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda resource: resource[block].__setitem__(key, value)


CASES = [
    Case("CKV_CARPRICE_1", "owner-tag-missing", "dev-data", "azurerm_storage_account",
         lambda r: r["tags"].pop("owner")),
    Case("CKV_CARPRICE_1", "no-tags", "dev-foundation", "azurerm_key_vault", lambda r: r.pop("tags")),
    Case("CKV_CARPRICE_2", "region-not-allowed", "dev-data", "azurerm_storage_account", _set("location", "eastus")),
    Case("CKV_CARPRICE_3", "lake-open-to-ips-in-prod", "prod-data", "azurerm_storage_account",
         _set_in("network_rules", "ip_rules", ["198.51.100.0/24"])),
    Case("CKV_CARPRICE_3", "lake-default-allow-in-prod", "prod-data", "azurerm_storage_account",
         _set_in("network_rules", "default_action", "Allow")),
    Case("CKV_CARPRICE_3", "public-cosmos-in-prod", "prod-global-data", "azurerm_cosmosdb_account",
         lambda r: r.pop("public_network_access_enabled")),
    Case("CKV_CARPRICE_4", "shared-keys-on", "dev-ml", "azurerm_storage_account",
         _set("shared_access_key_enabled", True)),
    Case("CKV_CARPRICE_4", "lake-without-hns", "dev-data", "azurerm_storage_account", _set("is_hns_enabled", False)),
    Case("CKV_CARPRICE_5", "no-purge-protection", "dev-foundation", "azurerm_key_vault",
         _set("purge_protection_enabled", False)),
    Case("CKV_CARPRICE_5", "access-policies", "dev-foundation", "azurerm_key_vault",
         _set("rbac_authorization_enabled", False)),
    Case("CKV_CARPRICE_6", "no-kubernetes-rbac", "dev-ml", "azurerm_kubernetes_cluster",
         _set("role_based_access_control_enabled", False)),
    Case("CKV_CARPRICE_6", "no-network-policy", "prod-ml", "azurerm_kubernetes_cluster",
         lambda r: r["network_profile"].pop("network_policy")),
    Case("CKV_CARPRICE_6", "no-azure-rbac", "prod-ml", "azurerm_kubernetes_cluster",
         lambda r: r.pop("azure_active_directory_role_based_access_control")),
    Case("CKV_CARPRICE_7", "ftps", "dev-app-westeurope", "azurerm_linux_web_app",
         _set_in("site_config", "ftps_state", "FtpsOnly")),
    Case("CKV_CARPRICE_7", "tls-1-1", "dev-app-westeurope", "azurerm_linux_web_app",
         _set_in("site_config", "minimum_tls_version", "1.1")),
    Case("CKV_CARPRICE_7", "http-allowed", "prod-app-northeurope", "azurerm_linux_web_app", _set("https_only", False)),
    Case("CKV_CARPRICE_7", "no-identity", "prod-app-westeurope", "azurerm_linux_web_app_slot",
         lambda r: r.pop("identity")),
    Case("CKV_CARPRICE_8", "account-keys", "dev-global-data", "azurerm_cosmosdb_account",
         _set("local_authentication_enabled", True)),
    Case("CKV2_CARPRICE_9", "no-diagnostics", "dev-edge", "azurerm_traffic_manager_profile",
         lambda r: None),  # the flip removes the stack's diagnostic settings (see _weakened_stack)
    Case("CKV2_CARPRICE_9", "no-diagnostics", "dev-foundation", "azurerm_key_vault", lambda r: None),
    Case("CKV2_CARPRICE_9", "no-diagnostics", "prod-data", "azurerm_data_factory", lambda r: None),
    Case("CKV_CARPRICE_10", "http-probe", "prod-edge", "azurerm_traffic_manager_profile",
         _set_in("monitor_config", "protocol", "HTTP")),
    Case("CKV_CARPRICE_10", "wrong-path", "prod-edge", "azurerm_traffic_manager_profile",
         _set_in("monitor_config", "path", "/")),
    Case("CKV_CARPRICE_11", "public-factory-in-prod", "prod-data", "azurerm_data_factory",
         _set("public_network_enabled", True)),
    Case("CKV_CARPRICE_11", "no-managed-network", "dev-data", "azurerm_data_factory",
         _set("managed_virtual_network_enabled", False)),
    Case("CKV_CARPRICE_11", "git-mode", "prod-data", "azurerm_data_factory",
         _set("github_configuration", {"account_name": "org", "repository_name": "adf", "branch_name": "main",
                                       "root_folder": "/"})),
    Case("CKV_CARPRICE_12", "public-runtime", "prod-data", "azurerm_data_factory_integration_runtime_azure",
         _set("virtual_network_enabled", False)),
    Case("CKV_CARPRICE_3", "public-openai-in-prod", "prod-genai", "azurerm_cognitive_account",
         _set("public_network_access_enabled", True)),
    Case("CKV_CARPRICE_3", "public-search-in-prod", "prod-genai", "azurerm_search_service",
         lambda r: r.pop("public_network_access_enabled")),  # the provider's default is true
    Case("CKV2_CARPRICE_9", "no-diagnostics", "dev-genai", "azurerm_search_service", lambda r: None),
    Case("CKV_CARPRICE_20", "api-keys", "dev-genai", "azurerm_search_service",
         lambda r: r.pop("local_authentication_enabled")),  # the provider's default is true
    Case("CKV_CARPRICE_21", "auto-upgrade", "prod-genai", "azurerm_cognitive_deployment",
         lambda r: r.pop("version_upgrade_option"), resource="Chat"),
    Case("CKV_CARPRICE_21", "unpinned", "dev-genai", "azurerm_cognitive_deployment",
         lambda r: r["model"].pop("version"), resource="Embedding"),
    Case("CKV_CARPRICE_22", "default-filter", "dev-genai", "azurerm_cognitive_deployment",
         _set("rai_policy_name", "Microsoft.DefaultV2"), resource="Chat"),
    Case("CKV_CARPRICE_22", "jailbreaks-pass", "prod-genai", "azurerm_cognitive_account_rai_policy",
         lambda r: [f.__setitem__("block_enabled", False) for f in r["content_filter"] if f["name"] == "Jailbreak"]),
    Case("CKV2_CARPRICE_9", "no-diagnostics", "prod-databricks", "azurerm_databricks_workspace", lambda r: None),
    Case("CKV_CARPRICE_23", "public-workspace-in-prod", "prod-databricks", "azurerm_databricks_workspace",
         _set("public_network_access_enabled", True)),
    Case("CKV_CARPRICE_23", "public-ips", "dev-databricks", "azurerm_databricks_workspace",
         _set_in("custom_parameters", "no_public_ip", False)),
    Case("CKV_CARPRICE_23", "standard-sku", "dev-databricks", "azurerm_databricks_workspace", _set("sku", "standard")),
    Case("CKV_CARPRICE_24", "no-cluster-policy", "prod-prep", "databricks_job",
         lambda r: r["job_cluster"][0]["new_cluster"].pop("policy_id")),
    Case("CKV_CARPRICE_24", "shared-no-isolation", "dev-prep", "databricks_job",
         lambda r: r["job_cluster"][0]["new_cluster"].__setitem__("data_security_mode", "NONE")),
]


def _only(document: dict[str, Any], resource_type: str, part: str = "") -> tuple[str, dict[str, Any]]:
    found = {key: r for key, r in document["resource"][resource_type].items() if part in key}
    assert len(found) == 1, f"{resource_type} {part!r}: expected one, found {list(found)}"
    return next(iter(found.items()))


def _weakened_stack(case: Case, original: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(original)
    _, resource = _only(document, case.resource_type, case.resource)
    case.weaken(resource)
    if case.policy == "CKV2_CARPRICE_9":
        document["resource"].pop("azurerm_monitor_diagnostic_setting")
    return document


@pytest.fixture(scope="session")
def policy_results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], str]:
    """(policy, fixture stack, resource unique id) -> PASSED/FAILED, for every case, in one checkov run."""
    outdir = _platform_outdir(tmp_path_factory)
    fixtures = tmp_path_factory.mktemp("policy-fixtures")
    for case in CASES:
        original = json.loads((outdir / "stacks" / case.stack / "cdk.tf.json").read_text(encoding="utf-8"))
        for name, document in (
            (f"pass-{case.stack}", original),
            (f"fail-{case.policy}-{case.label}-{case.stack}", _weakened_stack(case, original)),
        ):
            target = fixtures / "stacks" / name / "cdk.tf.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(document, indent=2), encoding="utf-8")
    policies = sorted({case.policy for case in CASES})
    results = run_policies(fixtures, tmp_path_factory.mktemp("policy-reports"), policies)
    return {
        (item["check_id"], Path(item["file_path"]).parent.name, item["resource"].rpartition(".")[2]):
            item["check_result"]["result"]
        for item in results
    }


def _platform_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return platform_scan(tmp_path_factory).outdir


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.policy}-{c.label}")
def test_policy_passes_on_the_real_stack_and_fails_on_the_weakened_one(case, policy_results, tmp_path_factory):
    original = json.loads((_platform_outdir(tmp_path_factory) / "stacks" / case.stack / "cdk.tf.json").read_text())
    unique_id, _ = _only(original, case.resource_type, case.resource)
    assert policy_results[(case.policy, f"pass-{case.stack}", unique_id)] == "PASSED"
    assert policy_results[(case.policy, f"fail-{case.policy}-{case.label}-{case.stack}", unique_id)] == "FAILED"


def test_every_policy_has_a_passing_and_a_failing_case():
    policy_files = sorted(POLICIES_DIR.glob("carprice_*.py")) + sorted(POLICIES_DIR.glob("carprice_*.yaml"))
    declared = {found for f in policy_files for found in re.findall(r'\bid[=:] *"(CKV2?_CARPRICE_\d+)"', f.read_text())}
    assert declared == {case.policy for case in CASES}


def test_private_lake_passes_with_only_the_capture_namespace_admitted(policy_results, tmp_path_factory):
    original = json.loads((_platform_outdir(tmp_path_factory) / "stacks" / "prod-data" / "cdk.tf.json").read_text())
    unique_id, lake = _only(original, "azurerm_storage_account")
    assert lake["network_rules"]["private_link_access"]
    assert policy_results[("CKV_CARPRICE_3", "pass-prod-data", unique_id)] == "PASSED"


def test_public_data_stores_pass_in_dev_because_dev_is_not_private(policy_results, tmp_path_factory):
    original = json.loads((_platform_outdir(tmp_path_factory) / "stacks" / "dev-data" / "cdk.tf.json").read_text())
    unique_id, lake = _only(original, "azurerm_storage_account")
    assert lake["public_network_access_enabled"] is True
    assert policy_results[("CKV_CARPRICE_3", "pass-dev-data", unique_id)] == "PASSED"


def test_traffic_manager_policy_uses_the_contract_health_path(tmp_path_factory):
    edge = json.loads((_platform_outdir(tmp_path_factory) / "stacks" / "prod-edge" / "cdk.tf.json").read_text())
    _, profile = _only(edge, "azurerm_traffic_manager_profile")
    assert profile["monitor_config"]["path"] == HEALTH_PATH
