"""Azure Databricks for Spark prep: a Premium workspace injected into the platform's virtual network, and the
access connector (a managed identity) Unity Catalog reaches the lake with.

Settings verified in the azurerm provider at v4.81.0 (internal/services/databricks/databricks_workspace_resource.go)
and pinned by tests/stacks/test_databricks.py; docs/deploy-readiness.md lists each with its source.
- Secure cluster connectivity (`no_public_ip`): nodes get no public address and leave through the platform's
  NAT gateway, associated with both subnets here.
- With the public endpoint off, `network_security_group_rules_required` cannot be "AllRules" (the provider
  refuses it): "NoAzureDatabricksRules" makes clusters reach the control plane through the workspace's own
  `databricks_ui_api` private endpoint (back-end Private Link) instead of Databricks' NSG rules.
- Customer-managed keys (`customer_managed_key_enabled`, `managed_disk_cmk_*`, `managed_services_cmk_*`) are
  Premium-only; the managed disk and managed services keys must be versioned key URLs, and the workspace rotates
  disks to each new version itself.
- Managed services (notebooks, secrets, queries kept in the Databricks control plane) are encrypted with the
  key through the tenant's AzureDatabricks first-party application, which therefore needs get, wrap and unwrap
  on the vault before the workspace is created or updated with the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktn import TerraformResource
from cdktn_provider_azurerm.databricks_access_connector import (
    DatabricksAccessConnector,
    DatabricksAccessConnectorIdentity,
)
from cdktn_provider_azurerm.databricks_workspace import DatabricksWorkspace, DatabricksWorkspaceCustomParameters
from cdktn_provider_azurerm.databricks_workspace_root_dbfs_customer_managed_key import (
    DatabricksWorkspaceRootDbfsCustomerManagedKey,
)
from cdktn_provider_azurerm.subnet_nat_gateway_association import SubnetNatGatewayAssociation
from constructs import Construct

from stacks.modules.interfaces import (
    DiagnosticTarget,
    Grants,
    Interfaces,
    Placement,
    RoleAssignment,
    StandardInterfaces,
)

# The workspace's private endpoints: the UI and REST API (also the clusters' back-end path to the control
# plane), and browser single sign-on (one per region is enough; Learn recommends a dedicated "web auth"
# workspace for it when a region has several workspaces).
PRIVATE_ENDPOINT_SUBRESOURCES = ("databricks_ui_api", "browser_authentication")
KEY_ENCRYPTION_USER = "Key Vault Crypto Service Encryption User"


class InjectedSubnet:
    """A subnet the workspace is injected into: its name, id and NSG association id."""

    def __init__(self, name: str, subnet_id: str, security_group_association_id: str) -> None:
        self.name, self.id, self.security_group_association_id = name, subnet_id, security_group_association_id


class SparkWorkspace(Construct):
    """`workspace` (Premium, VNet-injected), `access_connector` and its lake grants."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        connector_name: str, managed_resource_group_name: str, virtual_network_id: str,
        host: InjectedSubnet, container: InjectedSubnet, nat_gateway_id: str,
        lake_filesystem_ids: Mapping[str, str], key_vault_id: str | None = None,
        disk_key_id: str | None = None, dbfs_key_id: str | None = None,
        services_key_id: str | None = None, services_principal_id: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self._grants = Grants(self)
        self.name = name
        # Outbound through the platform's NAT gateway: no-public-IP nodes have no other way out.
        egress = [
            SubnetNatGatewayAssociation(self, f"Egress{key}", subnet_id=subnet.id, nat_gateway_id=nat_gateway_id)
            for key, subnet in (("Host", host), ("Container", container))
        ]
        self.access_connector = DatabricksAccessConnector(
            self, "AccessConnector",
            name=connector_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            identity=DatabricksAccessConnectorIdentity(type="SystemAssigned"),
        )
        services_key_grants = self._managed_services_key_user(key_vault_id, services_key_id, services_principal_id)
        services_key_ready = (
            [self._grants.propagated("ManagedServicesKeyPropagation", services_key_grants)]
            if services_key_grants else []
        )
        self.workspace = self._workspace(
            placement, name, public=interfaces.network_access.public,
            managed_resource_group_name=managed_resource_group_name, virtual_network_id=virtual_network_id,
            host=host, container=container, disk_key_id=disk_key_id, dbfs_encrypted=dbfs_key_id is not None,
            services_key_id=services_key_id, depends_on=[*egress, *services_key_ready],
        )
        self.key_grants = [*services_key_grants, *self._customer_managed_keys(key_vault_id, disk_key_id, dbfs_key_id)]
        # Unity Catalog reaches the lake as the connector: read and write exactly the layers prep touches.
        self.lake_grants = [
            self._grants.one(f"Lake{layer.title()}", filesystem_id, RoleAssignment(
                self.access_connector.identity.principal_id, "Storage Blob Data Contributor"
            ))
            for layer, filesystem_id in lake_filesystem_ids.items()
        ]
        self.standard = StandardInterfaces(self, placement, interfaces)
        self.standard.apply(
            resource_id=self.workspace.id, resource_name=name,
            private_endpoint_subresources=PRIVATE_ENDPOINT_SUBRESOURCES,
            diagnostic_targets=[DiagnosticTarget(self.workspace.id, metrics=False)],  # no platform metrics
            stateful=True,
        )

    def _workspace(
        self, placement: Placement, name: str, *, public: bool, managed_resource_group_name: str,
        virtual_network_id: str, host: InjectedSubnet, container: InjectedSubnet, disk_key_id: str | None,
        dbfs_encrypted: bool, services_key_id: str | None, depends_on: Sequence[TerraformResource],
    ) -> DatabricksWorkspace:
        return DatabricksWorkspace(
            self, "Workspace",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku="premium",  # Unity Catalog, cluster policies, Private Link and customer-managed keys need it
            managed_resource_group_name=managed_resource_group_name,
            public_network_access_enabled=public,
            network_security_group_rules_required="AllRules" if public else "NoAzureDatabricksRules",
            # The workspace's own storage account (DBFS root) admits only the access connector.
            default_storage_firewall_enabled=True,
            access_connector_id=self.access_connector.id,
            infrastructure_encryption_enabled=True,
            customer_managed_key_enabled=dbfs_encrypted,
            managed_disk_cmk_key_vault_key_id=disk_key_id,
            managed_disk_cmk_rotation_to_latest_version_enabled=True if disk_key_id is not None else None,
            # Same subscription as the vault, so `managed_services_cmk_key_vault_id` stays unset (it is only
            # for a vault in another subscription).
            managed_services_cmk_key_vault_key_id=services_key_id,
            custom_parameters=DatabricksWorkspaceCustomParameters(
                no_public_ip=True,
                virtual_network_id=virtual_network_id,
                public_subnet_name=host.name,
                private_subnet_name=container.name,
                public_subnet_network_security_group_association_id=host.security_group_association_id,
                private_subnet_network_security_group_association_id=container.security_group_association_id,
            ),
            depends_on=list(depends_on),
        )

    def _managed_services_key_user(
        self, key_vault_id: str | None, services_key_id: str | None, services_principal_id: str | None
    ) -> list[TerraformResource]:
        """The grant the workspace needs before it exists: the control plane wraps and
        unwraps the managed services key as the tenant's AzureDatabricks application from its first request."""
        if key_vault_id is None or services_key_id is None:
            return []
        if services_principal_id is None:
            raise ValueError("a managed services key needs the AzureDatabricks application's object id")
        return [self._grants.one("GrantManagedServicesKeyUser", key_vault_id,
                                 RoleAssignment(services_principal_id, KEY_ENCRYPTION_USER))]

    def _customer_managed_keys(
        self, key_vault_id: str | None, disk_key_id: str | None, dbfs_key_id: str | None
    ) -> list[TerraformResource]:
        """The workspace's identities unwrap their keys in the vault: managed disks, and the DBFS root."""
        if key_vault_id is None:
            return []
        grants: dict[str, RoleAssignment] = {}
        if disk_key_id is not None:
            # The workspace's disk encryption set unwraps the managed disk key with its own identity.
            grants["GrantDiskKeyUser"] = RoleAssignment(
                self.workspace.managed_disk_identity.get(0).principal_id, KEY_ENCRYPTION_USER
            )
        if dbfs_key_id is not None:
            grants["GrantDbfsKeyUser"] = RoleAssignment(
                self.workspace.storage_account_identity.get(0).principal_id, KEY_ENCRYPTION_USER
            )
        key_grants: list[TerraformResource] = [*self._grants.on(key_vault_id, grants)]
        if dbfs_key_id is not None:
            DatabricksWorkspaceRootDbfsCustomerManagedKey(
                self, "DbfsKey", workspace_id=self.workspace.id, key_vault_key_id=dbfs_key_id,
                depends_on=list(key_grants),
            )
        return key_grants
