"""Azure Machine Learning workspace with its own storage and registry, linked to the shared Key Vault and
Application Insights; a CPU training cluster that scales to zero; datastores over the lake's layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

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
from stacks.modules.interfaces import Interfaces, Placement, RoleAssignment, StandardInterfaces
from stacks.modules.storage import SecureStorageAccount


class MlWorkspace(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        storage_name: str, registry_name: str, registry_sku: str, key_vault_id: str, application_insights_id: str,
        identity_id: str, identity_principal_id: str, public_network_access: bool,
        allowed_ip_ranges: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        # The workspace identity works with its storage and registry by RBAC (no keys are enabled).
        storage_grants = (
            RoleAssignment(identity_principal_id, "Storage Blob Data Contributor"),
            RoleAssignment(identity_principal_id, "Storage File Data Privileged Contributor"),
        )
        self.storage = SecureStorageAccount(
            self, "Storage", placement=placement, interfaces=replace(interfaces, role_assignments=storage_grants),
            name=storage_name,
            public_network_access=public_network_access, allowed_ip_ranges=allowed_ip_ranges,
            private_endpoint_subresources=("blob", "file"),
        )
        self.registry = ContainerRegistry(
            self, "Registry", placement=placement,
            interfaces=replace(interfaces, role_assignments=(RoleAssignment(identity_principal_id, "AcrPush"),)),
            name=registry_name, sku=registry_sku,
            public_network_access=public_network_access, allowed_ip_ranges=allowed_ip_ranges,
        )
        self.workspace = MachineLearningWorkspace(
            self, "Workspace",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            storage_account_id=self.storage.account.id,
            container_registry_id=self.registry.registry.id,
            key_vault_id=key_vault_id,
            application_insights_id=application_insights_id,
            identity=MachineLearningWorkspaceIdentity(type="UserAssigned", identity_ids=[identity_id]),
            primary_user_assigned_identity=identity_id,
            # Shared keys are off on the workspace storage, so the workspace reaches it with its identity.
            # The provider accepts "AccessKey" or "Identity", case-sensitive.
            storage_account_access_type="Identity",
            public_network_access_enabled=public_network_access,
            high_business_impact=True,
            v1_legacy_mode_enabled=False,
            managed_network=MachineLearningWorkspaceManagedNetwork(
                isolation_mode="AllowOnlyApprovedOutbound" if not public_network_access else "AllowInternetOutbound"
            ),
            image_build_compute_name=None,
            tags=dict(placement.tags),
        )
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.workspace.id, resource_name=name, private_endpoint_subresources=["amlworkspace"],
            stateful=True,
        )

    def add_compute_cluster(
        self, id_: str, *, name: str, vm_size: str, max_nodes: int, subnet_id: str, identity_id: str,
        private: bool, location: str,
    ) -> MachineLearningComputeCluster:
        return MachineLearningComputeCluster(
            self, id_,
            name=name,
            location=location,
            machine_learning_workspace_id=self.workspace.id,
            vm_size=vm_size,
            vm_priority="Dedicated",
            # Scale to zero when idle: a training cluster costs nothing between runs.
            scale_settings=MachineLearningComputeClusterScaleSettings(
                min_node_count=0, max_node_count=max_nodes, scale_down_nodes_after_idle_duration="PT5M"
            ),
            local_auth_enabled=False,
            ssh_public_access_enabled=False,
            node_public_ip_enabled=not private,
            subnet_resource_id=subnet_id,
            identity=MachineLearningComputeClusterIdentity(type="UserAssigned", identity_ids=[identity_id]),
        )

    def add_lake_datastores(self, datastores: Mapping[str, str], filesystem_ids: Mapping[str, str]) -> None:
        """One datastore per lake layer; jobs reach the data with their own identity (no stored credentials)."""
        for layer, datastore in datastores.items():
            MachineLearningDatastoreDatalakeGen2(
                self, f"Datastore{layer.title()}",
                name=datastore,
                workspace_id=self.workspace.id,
                storage_container_id=filesystem_ids[layer],
                service_data_identity="WorkspaceUserAssignedIdentity",
                description=f"Data Lake {layer} layer",
            )
