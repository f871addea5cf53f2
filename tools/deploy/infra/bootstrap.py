"""`make bootstrap-state ENV=...`: create the Terraform state resource group, storage account and container.

With an `agents:` block it also registers the resource providers the agent pool needs (`make bootstrap`
then deploys the <env>-agents stack).

Idempotent: what exists is left alone unless a security setting drifted (shared keys back on, public blob
access, old TLS), which is put back. The account has no shared keys, so Terraform reaches it with Entra ID
(`use_azuread_auth` / ARM_USE_AZUREAD) and the pipeline identity needs "Storage Blob Data Contributor" on it.
Blob versioning and soft delete keep earlier state files recoverable.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage import models as storage_models

from stacks.config import ENVIRONMENTS_DIR, EnvironmentConfig, load_environment
from tools.deploy.credential import azure_credential

STATE_RETENTION_DAYS = 30
# azurerm's default ("legacy") registrations leave these out (internal/resourceproviders/required.go at v4.81.0).
AGENT_POOL_PROVIDERS = ("Microsoft.DevCenter", "Microsoft.DevOpsInfrastructure")
# Settings an existing state account must have; each maps to (attribute, required value).
SECURE_SETTINGS: dict[str, Any] = {
    "allow_shared_key_access": False,
    "allow_blob_public_access": False,
    "minimum_tls_version": "TLS1_2",
    "enable_https_traffic_only": True,
}


@dataclass
class BootstrapReport:
    environment: str
    actions: list[str] = field(default_factory=list)

    def note(self, action: str) -> None:
        print(f"  {action}")
        self.actions.append(action)


def _account_parameters(config: EnvironmentConfig, location: str) -> storage_models.StorageAccountCreateParameters:
    return storage_models.StorageAccountCreateParameters(
        sku=storage_models.Sku(name="Standard_ZRS"),
        kind="StorageV2",
        location=location,
        tags=config.all_tags,
        default_to_o_auth_authentication=True,
        **SECURE_SETTINGS,
    )


def bootstrap(config: EnvironmentConfig, credential: TokenCredential, **client_kwargs: Any) -> BootstrapReport:
    """Make the environment's azurerm state backend exist; client_kwargs go to the SDK clients (e.g. transport)."""
    report = BootstrapReport(config.name)
    backend = config.state_backend
    if backend.kind != "azurerm":
        report.note(f"{config.name} keeps state locally (state_backend.kind: local); nothing to create")
        return report
    assert backend.resource_group and backend.storage_account  # guaranteed by StateBackend's validator
    location = backend.location or config.location
    resources = ResourceManagementClient(credential, config.subscription_id, **client_kwargs)
    storage = StorageManagementClient(credential, config.subscription_id, **client_kwargs)

    if resources.resource_groups.check_existence(backend.resource_group):
        report.note(f"resource group {backend.resource_group}: exists")
    else:
        resources.resource_groups.create_or_update(
            backend.resource_group, {"location": location, "tags": config.all_tags}
        )
        report.note(f"resource group {backend.resource_group}: created in {location}")

    _ensure_account(storage, config, backend.resource_group, backend.storage_account, location, report)
    _ensure_blob_service(storage, backend.resource_group, backend.storage_account, report)

    try:
        storage.blob_containers.get(backend.resource_group, backend.storage_account, backend.container)
        report.note(f"container {backend.container}: exists")
    except ResourceNotFoundError:
        storage.blob_containers.create(
            backend.resource_group,
            backend.storage_account,
            backend.container,
            storage_models.BlobContainer(public_access="None"),
        )
        report.note(f"container {backend.container}: created")
    if config.agents is not None:
        register_providers(resources, AGENT_POOL_PROVIDERS, report)
    return report


def register_providers(resources: ResourceManagementClient, namespaces: tuple[str, ...],
                       report: BootstrapReport) -> None:
    """The agent pool's resource providers, which the azurerm provider does not register by itself."""
    for namespace in namespaces:
        state = resources.providers.get(namespace).registration_state
        if state == "Registered":
            report.note(f"resource provider {namespace}: registered")
        else:
            resources.providers.register(namespace)
            report.note(f"resource provider {namespace}: registration requested (was {state})")


def _ensure_account(
    storage: StorageManagementClient,
    config: EnvironmentConfig,
    group: str,
    name: str,
    location: str,
    report: BootstrapReport,
) -> None:
    try:
        account = storage.storage_accounts.get_properties(group, name)
    except ResourceNotFoundError:
        storage.storage_accounts.begin_create(group, name, _account_parameters(config, location)).result()
        report.note(f"storage account {name}: created (no shared keys, TLS 1.2, no public blobs)")
        return
    drifted = {key: value for key, value in SECURE_SETTINGS.items() if getattr(account, key, None) != value}
    if drifted:
        storage.storage_accounts.update(group, name, storage_models.StorageAccountUpdateParameters(**drifted))
        report.note(f"storage account {name}: exists; restored {', '.join(sorted(drifted))}")
    else:
        report.note(f"storage account {name}: exists with shared keys off")


def _ensure_blob_service(storage: StorageManagementClient, group: str, name: str, report: BootstrapReport) -> None:
    current = storage.blob_services.get_service_properties(group, name)
    retention = current.delete_retention_policy
    if current.is_versioning_enabled and retention is not None and retention.enabled:
        report.note(f"storage account {name}: versioning and soft delete already on")
        return
    policy = storage_models.DeleteRetentionPolicy(enabled=True, days=STATE_RETENTION_DAYS)
    storage.blob_services.set_service_properties(
        group,
        name,
        storage_models.BlobServiceProperties(
            is_versioning_enabled=True, delete_retention_policy=policy, container_delete_retention_policy=policy
        ),
    )
    report.note(f"storage account {name}: turned on versioning and {STATE_RETENTION_DAYS}-day soft delete")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create an environment's Terraform state backend in Azure.")
    parser.add_argument("--env", required=True)
    args = parser.parse_args(argv)
    config = load_environment(ENVIRONMENTS_DIR / f"{args.env}.yaml")

    print(f"Bootstrapping Terraform state for {config.name} (subscription {config.subscription_id})")
    bootstrap(config, azure_credential())
    backend = config.state_backend
    if backend.kind == "azurerm":
        print(
            "Next: give the pipeline's service connection identity 'Storage Blob Data Contributor' on "
            f"storage account {backend.storage_account} (see the README, 'Run it in Azure DevOps')."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
