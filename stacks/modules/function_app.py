"""A Python function app on the Flex Consumption plan: its own managed identity, host and deployment storage
reached with that identity, outbound traffic through a delegated VNet subnet, diagnostics to Log Analytics.

Flex Consumption is the serverless plan Microsoft recommends for new apps that need VNet integration (the Linux
Consumption plan has none). The site itself is an azapi resource: `azurerm_function_app_flex_consumption`
(v4.81.0) always writes an `AzureWebJobsStorage` connection string with an empty account key, even with an
identity-based `storage_authentication_type`, and the Functions host prefers that string over the
`AzureWebJobsStorage__*` identity settings (hashicorp/terraform-provider-azurerm#29693).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cdktn_provider_azapi.resource import Resource as AzapiResource
from cdktn_provider_azapi.resource import ResourceIdentity as AzapiResourceIdentity
from cdktn_provider_azurerm.service_plan import ServicePlan
from cdktn_provider_azurerm.storage_container import StorageContainer
from constructs import Construct

from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import (
    Grants,
    Interfaces,
    NetworkAccess,
    Placement,
    RoleAssignment,
    StandardInterfaces,
)
from stacks.modules.storage import SecureStorageAccount

SITE_API = "Microsoft.Web/sites@2024-04-01"
DEPLOYMENT_CONTAINER = "app-package"


def identity_connection(prefix: str, client_id: str, **endpoint: str) -> dict[str, str]:
    """App settings of one identity-based connection: `<prefix>__<endpoint key>` plus the credential to use."""
    settings = {f"{prefix}__{key}": value for key, value in endpoint.items()}
    return {**settings, f"{prefix}__credential": "managedidentity", f"{prefix}__clientId": client_id}


class FlexFunctionApp(Construct):
    """`site` is the function app (azapi), `storage` its host storage; it runs as `identity`."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, resource_group_id: str,
        name: str, plan_name: str, storage_name: str, identity: ManagedIdentity, subnet_id: str,
        python_version: str,
        app_settings: Mapping[str, str], maximum_instance_count: int, instance_memory_mb: int,
        api_client_id: str, tenant_id: str,
    ) -> None:
        super().__init__(scope, id_)
        self.storage = self._host_storage(placement, interfaces, storage_name, identity)
        package = StorageContainer(
            self, "DeploymentContainer", name=DEPLOYMENT_CONTAINER, storage_account_id=self.storage.account.id,
            container_access_type="private",
        )
        self.plan = ServicePlan(
            self, "Plan",
            name=plan_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            os_type="Linux",
            sku_name="FC1",  # Flex Consumption
            # Instances spread over availability zones (the provider allows it for FC1; storage is zone-redundant).
            zone_balancing_enabled=True,
        )
        settings = {
            **identity_connection("AzureWebJobsStorage", identity.client_id, accountName=self.storage.account.name),
            **app_settings,
        }
        self.site = AzapiResource(
            self, "Site",
            type=SITE_API,
            name=name,
            parent_id=resource_group_id,
            location=placement.location,
            tags=placement.tags,
            identity=[AzapiResourceIdentity(type="UserAssigned", identity_ids=[identity.resource_id])],
            body={
                "kind": "functionapp,linux",
                "properties": self._site_properties(
                    public=interfaces.network_access.public, subnet_id=subnet_id, identity=identity,
                    python_version=python_version, settings=settings,
                    scale={"maximumInstanceCount": maximum_instance_count, "instanceMemoryMB": instance_memory_mb},
                ),
            },
            # The host reads its storage as soon as it starts: the grants must have propagated by then.
            depends_on=[
                package, Grants(self).propagated("HostStoragePropagation", self.storage.standard.granted),
            ],
        )
        self._entra_id_only(api_client_id, tenant_id)
        StandardInterfaces(self, placement, dataclasses.replace(interfaces, role_assignments={})).apply(
            resource_id=self.site.id, resource_name=name,
            private_endpoint_subresources=() if interfaces.network_access.public else ("sites",),
        )

    def _host_storage(
        self, placement: Placement, interfaces: Interfaces, storage_name: str, identity: ManagedIdentity
    ) -> SecureStorageAccount:
        """Host storage, all by identity: blob for the host's state and keys, the Event Hubs checkpoints and the
        deployment package (Blob Data Owner, the role the Functions host documents for AzureWebJobsStorage);
        table for the diagnostic events the host writes (azure-functions-host DiagnosticEventTableStorageRepository,
        Azure/azure-functions-host#10163). No queue or file: queues serve Durable Functions and blob/queue
        triggers, files the Consumption and Premium plans' content share (Learn: storage-considerations), none of
        which this app uses."""
        return SecureStorageAccount(
            self, "Storage", placement=placement,
            interfaces=dataclasses.replace(
                interfaces,
                role_assignments={
                    "HostBlobDataOwner": RoleAssignment(identity.principal_id, "Storage Blob Data Owner"),
                    "HostTableDataContributor": RoleAssignment(identity.principal_id, "Storage Table Data Contributor"),
                },
                # Only the app reaches it, through its VNet integration and the private endpoint, in every
                # environment.
                network_access=NetworkAccess(public=False),
            ),
            name=storage_name,
            private_endpoint_subresources=("blob", "table"),
        )

    def _site_properties(
        self, *, public: bool, subnet_id: str, identity: ManagedIdentity, python_version: str,
        settings: Mapping[str, str], scale: Mapping[str, int],
    ) -> dict[str, Any]:
        return {
            "serverFarmId": self.plan.id,
            "httpsOnly": True,
            "publicNetworkAccess": "Enabled" if public else "Disabled",
            "virtualNetworkSubnetId": subnet_id,
            "keyVaultReferenceIdentity": identity.resource_id,
            "functionAppConfig": {
                "deployment": {"storage": {
                    "type": "blobContainer",
                    "value": f"{self.storage.account.primary_blob_endpoint}{DEPLOYMENT_CONTAINER}",
                    "authentication": {
                        "type": "UserAssignedIdentity", "userAssignedIdentityResourceId": identity.resource_id,
                    },
                }},
                "runtime": {"name": "python", "version": python_version},
                "scaleAndConcurrency": dict(scale),
            },
            "siteConfig": {
                "minTlsVersion": "1.2",
                "scmMinTlsVersion": "1.2",
                "ftpsState": "Disabled",
                "http20Enabled": True,
                "appSettings": [{"name": key, "value": value} for key, value in sorted(settings.items())],
            },
        }

    def _entra_id_only(self, api_client_id: str, tenant_id: str) -> None:
        """Deployments authenticate with Entra ID (the pipeline's identity); publishing passwords stay off.
        App Service Authentication stands in front of every HTTP function: a caller needs an Entra ID token for
        the API's app registration; anything else gets 401 before the Python worker sees it."""
        for kind in ("ftp", "scm"):
            AzapiResource(
                self, f"BasicAuth{kind.title()}",
                type="Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01",
                name=kind,
                parent_id=self.site.id,
                body={"properties": {"allow": False}},
            )
        AzapiResource(
            self, "Authentication",
            type="Microsoft.Web/sites/config@2024-04-01",
            name="authsettingsV2",
            parent_id=self.site.id,
            body={"properties": {
                "platform": {"enabled": True},
                "globalValidation": {"requireAuthentication": True, "unauthenticatedClientAction": "Return401"},
                "httpSettings": {"requireHttps": True},
                "identityProviders": {"azureActiveDirectory": {
                    "enabled": True,
                    "registration": {
                        "clientId": api_client_id, "openIdIssuer": f"https://sts.windows.net/{tenant_id}/v2.0",
                    },
                    "validation": {"allowedAudiences": [f"api://{api_client_id}"]},
                }},
                "login": {"tokenStore": {"enabled": False}},
            }},
        )
