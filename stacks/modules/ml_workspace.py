"""Azure Machine Learning workspace with its own storage, registry and vault, linked to the shared Application
Insights; a CPU training cluster in our ML subnet that scales to zero; datastores over the lake's layers.

Network design: the workspace uses our virtual network, not an Azure ML managed network (`isolation_mode`
"Disabled"). A managed network rules out Kubernetes compute and compute in our own subnets (Learn:
how-to-managed-network, "Limitations"), and AKS attached as an inference target is part of the product. So the
workspace, its storage, registry and vault take private endpoints in our subnet, the compute cluster runs in
the ML subnet without public IPs, and images are built on that cluster because the registry is private.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from cdktn import TerraformResource
from cdktn_provider_azurerm.machine_learning_compute_cluster import (
    MachineLearningComputeCluster,
    MachineLearningComputeClusterIdentity,
    MachineLearningComputeClusterScaleSettings,
)
from cdktn_provider_azurerm.machine_learning_datastore_datalake_gen2 import MachineLearningDatastoreDatalakeGen2
from cdktn_provider_azurerm.machine_learning_workspace import (
    MachineLearningWorkspace,
    MachineLearningWorkspaceIdentity,
    MachineLearningWorkspaceManagedNetwork,
)
from constructs import Construct

from stacks.modules.container_registry import ContainerRegistry
from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Grants, Interfaces, Placement, RoleAssignment, StandardInterfaces
from stacks.modules.key_vault import KeyVault
from stacks.modules.storage import SecureStorageAccount


class MlWorkspace(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        storage_name: str, registry_name: str, registry_sku: str, key_vault_name: str, tenant_id: str,
        subscription_id: str,
        application_insights_id: str, identity: ManagedIdentity, image_build_compute_name: str,
    ) -> None:
        super().__init__(scope, id_)
        self._placement, self._interfaces = placement, interfaces
        self._grants = Grants(self)
        self.storage = self._storage(storage_name, identity.principal_id)
        self._admit_workspace_to_storage(name, subscription_id)
        registry_grants = {
            "WorkspaceAcrPush": RoleAssignment(identity.principal_id, "AcrPush"),
            "WorkspaceContributor": RoleAssignment(identity.principal_id, "Contributor"),
        }
        self.registry = ContainerRegistry(
            self, "Registry", placement=placement, interfaces=replace(interfaces, role_assignments=registry_grants),
            name=registry_name, sku=registry_sku,
        )
        # The workspace's own vault: its identity administers this one, never the vault of the encryption keys.
        # Only the workspace and its compute (primary region) use it: no endpoint in the other app regions.
        self.key_vault = KeyVault(
            self, "KeyVault", placement=placement,
            interfaces=replace(interfaces, role_assignments={}, customer_managed_key=None, regional_private_links={}),
            name=key_vault_name, tenant_id=tenant_id,
        )
        self._grants.on(self.key_vault.resource_id, {
            "KeyVaultContributor": RoleAssignment(identity.principal_id, "Contributor"),
            "KeyVaultAdministrator": RoleAssignment(identity.principal_id, "Key Vault Administrator"),
        })
        self._grants.on(application_insights_id, {
            "InsightsContributor": RoleAssignment(identity.principal_id, "Contributor"),
            # Application Insights accepts Entra ID tokens only: publishing telemetry needs this role.
            "InsightsMetricsPublisher": RoleAssignment(identity.principal_id, "Monitoring Metrics Publisher"),
        })
        # Creating the workspace checks its identity's access to what it links.
        linked_access = self._grants.propagated("GrantsPropagation", [
            *self.storage.standard.granted, *self.registry.standard.granted, *self._grants.granted,
        ])
        self.workspace = self._workspace(
            name, application_insights_id=application_insights_id, identity=identity,
            image_build_compute_name=image_build_compute_name, depends_on=linked_access,
        )
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.workspace.id, resource_name=name, private_endpoint_subresources=["amlworkspace"],
            stateful=True,
        )
        self.service_identity_ready = self._service_identity_access()

    def _storage(self, storage_name: str, principal_id: str) -> SecureStorageAccount:
        """The workspace identity's roles on its dependent resources (Learn: how-to-identity-based-service-
        authentication, "User-assigned managed identity"); the workspace is created only once they exist."""
        storage_grants = {
            "WorkspaceBlobDataContributor": RoleAssignment(principal_id, "Storage Blob Data Contributor"),
            "WorkspaceFileDataPrivilegedContributor": RoleAssignment(
                principal_id, "Storage File Data Privileged Contributor"
            ),
            "WorkspaceContributor": RoleAssignment(principal_id, "Contributor"),
        }
        return SecureStorageAccount(
            self, "Storage", placement=self._placement,
            interfaces=replace(self._interfaces, role_assignments=storage_grants),
            name=storage_name,
            # Batch deployments need all four storage services reachable privately (Learn:
            # how-to-secure-batch-endpoint, "Securing batch endpoints").
            private_endpoint_subresources=("blob", "file", "queue", "table"),
        )

    def _admit_workspace_to_storage(self, name: str, subscription_id: str) -> None:
        """Azure ML's own service reaches its default storage past the firewall as a resource instance
        (Learn: how-to-secure-workspace-vnet, "Secure Azure storage accounts"). Resource-instance rules are
        evaluated on the public endpoint only: with public access disabled they admit nothing, so the rule is
        written only where the public endpoint answers. The id is built, not referenced: the workspace itself
        depends on this account."""
        if not self._interfaces.network_access.public:
            return
        workspace_id = (
            f"/subscriptions/{subscription_id}/resourceGroups/{self._placement.resource_group_name}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{name}"
        )
        self.storage.account.add_override("network_rules.private_link_access", [{"endpoint_resource_id": workspace_id}])

    def _workspace(
        self, name: str, *, application_insights_id: str, identity: ManagedIdentity, image_build_compute_name: str,
        depends_on: TerraformResource,
    ) -> MachineLearningWorkspace:
        return MachineLearningWorkspace(
            self, "Workspace",
            name=name,
            location=self._placement.location,
            resource_group_name=self._placement.resource_group_name,
            tags=self._placement.tags,
            storage_account_id=self.storage.account.id,
            container_registry_id=self.registry.registry.id,
            key_vault_id=self.key_vault.resource_id,
            application_insights_id=application_insights_id,
            # The user-assigned identity does the work; the system-assigned one is what a firewalled storage
            # account admits as a resource instance, and what attaching AKS to an HBI workspace needs
            # (Learn: how-to-secure-kubernetes-inferencing-environment).
            identity=MachineLearningWorkspaceIdentity(
                type="SystemAssigned, UserAssigned", identity_ids=[identity.resource_id]
            ),
            primary_user_assigned_identity=identity.resource_id,
            # Shared keys are off on the workspace storage, so the workspace reaches it with its identity.
            # The provider accepts "AccessKey" or "Identity", case-sensitive.
            storage_account_access_type="Identity",
            public_network_access_enabled=self._interfaces.network_access.public,
            high_business_impact=True,
            v1_legacy_mode_enabled=False,
            # Our virtual network isolates the workspace (see the module docstring).
            managed_network=MachineLearningWorkspaceManagedNetwork(isolation_mode="Disabled"),
            # The registry is private: Azure ML cannot build images with ACR Tasks, the cluster builds them.
            image_build_compute_name=image_build_compute_name,
            depends_on=[depends_on],
        )

    def _service_identity_access(self) -> TerraformResource:
        """What the Kubernetes compute attach waits for (Learn: how-to-secure-kubernetes-inferencing-environment):
        the workspace's system identity on its storage, propagated."""
        self.service_identity_grants = self._grants.on(self.storage.account.id, {
            f"ServiceIdentity{role.replace(' ', '')}": RoleAssignment(self.workspace.identity.principal_id, role)
            for role in ("Storage Blob Data Contributor", "Storage Account Contributor")
        })
        return self._grants.propagated("ServiceIdentityGrantsPropagation", self.service_identity_grants)

    def add_compute_cluster(
        self, id_: str, *, name: str, vm_size: str, max_nodes: int, subnet_id: str, identity: ManagedIdentity,
        location: str, depends_on: Sequence[TerraformResource] = (),
    ) -> MachineLearningComputeCluster:
        """A cluster in our ML subnet without public IPs: it needs no inbound rules, and leaves through
        the subnet's NAT gateway (`depends_on`)."""
        return MachineLearningComputeCluster(
            self, id_,
            name=name,
            location=location,
            tags=self._placement.tags,
            machine_learning_workspace_id=self.workspace.id,
            vm_size=vm_size,
            vm_priority="Dedicated",
            # Scale to zero when idle: a training cluster costs nothing between runs.
            scale_settings=MachineLearningComputeClusterScaleSettings(
                min_node_count=0, max_node_count=max_nodes, scale_down_nodes_after_idle_duration="PT5M"
            ),
            local_auth_enabled=False,
            ssh_public_access_enabled=False,
            node_public_ip_enabled=False,
            subnet_resource_id=subnet_id,
            identity=MachineLearningComputeClusterIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
            depends_on=list(depends_on) or None,
        )

    def add_lake_datastores(self, datastores: Mapping[str, str], filesystem_ids: Mapping[str, str]) -> None:
        """One datastore per lake layer; jobs reach the data with their own identity (no stored credentials)."""
        workspace_id = self.workspace.id  # read once: each read is a round trip to Node
        for layer, datastore in datastores.items():
            MachineLearningDatastoreDatalakeGen2(
                self, f"Datastore{layer.title()}",
                name=datastore,
                workspace_id=workspace_id,
                storage_container_id=filesystem_ids[layer],
                service_data_identity="WorkspaceUserAssignedIdentity",
                description=f"Data Lake {layer} layer",
                tags=self._placement.tags,
            )
