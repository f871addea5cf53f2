"""AKS for real-time inference, attached to the Azure ML workspace as a Kubernetes compute.

Entra ID with Azure RBAC and no local accounts, Azure CNI with network policy, autoscaling system and
user pools, Azure Policy and Container Insights; private API server when the environment is private.
Node disks are encrypted with the customer-managed key through a disk encryption set, on top of host encryption.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktn import TerraformResource
from cdktn_provider_azapi.resource import Resource as AzapiResource
from cdktn_provider_azapi.resource import ResourceIdentity as AzapiResourceIdentity
from cdktn_provider_azurerm.disk_encryption_set import DiskEncryptionSet, DiskEncryptionSetIdentity
from cdktn_provider_azurerm.kubernetes_cluster import (
    KubernetesCluster,
    KubernetesClusterApiServerAccessProfile,
    KubernetesClusterAzureActiveDirectoryRoleBasedAccessControl,
    KubernetesClusterDefaultNodePool,
    KubernetesClusterIdentity,
    KubernetesClusterKeyVaultSecretsProvider,
    KubernetesClusterNetworkProfile,
    KubernetesClusterOmsAgent,
)
from cdktn_provider_azurerm.kubernetes_cluster_extension import KubernetesClusterExtension
from cdktn_provider_azurerm.kubernetes_cluster_node_pool import KubernetesClusterNodePool
from cdktn_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

from stacks.config import Aks
from stacks.modules.customer_managed_key import CustomerManagedKey
from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces


class InferenceCluster(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str, sizes: Aks,
        subnet_id: str, identity_id: str, identity_principal_id: str, tenant_id: str, log_analytics_workspace_id: str,
        private: bool, allowed_ip_ranges: Sequence[str] = (), disk_encryption_set_name: str = "",
    ) -> None:
        super().__init__(scope, id_)
        # The cluster's identity joins nodes to the subnet; without this grant, scaling fails.
        subnet_grant = RoleAssignment(
            self, "SubnetNetworkContributor", scope=subnet_id, role_definition_name="Network Contributor",
            principal_id=identity_principal_id, principal_type="ServicePrincipal",
        )
        cluster_waits_for: list[TerraformResource] = [subnet_grant]
        self.disk_encryption_set: DiskEncryptionSet | None = None
        cmk = interfaces.customer_managed_key
        if cmk:
            self.disk_encryption_set, des_grant = self._disk_encryption_set(
                cmk, placement, disk_encryption_set_name or f"des-{name}", identity_principal_id
            )
            cluster_waits_for.append(des_grant)
        self.cluster = KubernetesCluster(
            self, "Cluster",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            node_resource_group=f"{placement.resource_group_name}-{name}-nodes",
            dns_prefix=name,
            kubernetes_version=sizes.kubernetes_version,
            sku_tier=sizes.sku_tier,
            automatic_upgrade_channel="patch",
            node_os_upgrade_channel="NodeImage",
            identity=KubernetesClusterIdentity(type="UserAssigned", identity_ids=[identity_id]),
            local_account_disabled=True,
            role_based_access_control_enabled=True,
            azure_active_directory_role_based_access_control=KubernetesClusterAzureActiveDirectoryRoleBasedAccessControl(
                azure_rbac_enabled=True, tenant_id=tenant_id
            ),
            oidc_issuer_enabled=True,
            workload_identity_enabled=True,
            azure_policy_enabled=True,
            key_vault_secrets_provider=KubernetesClusterKeyVaultSecretsProvider(secret_rotation_enabled=True),
            oms_agent=KubernetesClusterOmsAgent(
                log_analytics_workspace_id=log_analytics_workspace_id, msi_auth_for_monitoring_enabled=True
            ),
            network_profile=KubernetesClusterNetworkProfile(
                network_plugin="azure", network_policy="azure", load_balancer_sku="standard"
            ),
            disk_encryption_set_id=self.disk_encryption_set.id if self.disk_encryption_set else None,
            private_cluster_enabled=private,
            api_server_access_profile=None if private else KubernetesClusterApiServerAccessProfile(
                authorized_ip_ranges=list(allowed_ip_ranges)
            ),
            default_node_pool=KubernetesClusterDefaultNodePool(
                name="system",
                vm_size=sizes.system_vm_size,
                vnet_subnet_id=subnet_id,
                auto_scaling_enabled=True,
                min_count=sizes.system_node_min,
                max_count=sizes.system_node_max,
                max_pods=50,
                only_critical_addons_enabled=True,  # inference pods run on the user pool
                host_encryption_enabled=True,
                os_disk_type="Ephemeral",
                os_disk_size_gb=64,
                temporary_name_for_rotation="systemtmp",
            ),
            tags=dict(placement.tags),
            depends_on=cluster_waits_for,
        )
        self.user_pool = KubernetesClusterNodePool(
            self, "UserPool",
            name="inference",
            kubernetes_cluster_id=self.cluster.id,
            mode="User",
            vm_size=sizes.user_vm_size,
            vnet_subnet_id=subnet_id,
            auto_scaling_enabled=True,
            min_count=sizes.user_node_min,
            max_count=sizes.user_node_max,
            max_pods=50,
            host_encryption_enabled=True,
            os_disk_type="Ephemeral",
            os_disk_size_gb=64,
            tags=dict(placement.tags),
        )
        StandardInterfaces(self, placement, interfaces).apply(resource_id=self.cluster.id, resource_name=name)

    def _disk_encryption_set(
        self, cmk: CustomerManagedKey, placement: Placement, name: str, cluster_principal_id: str
    ) -> tuple[DiskEncryptionSet, RoleAssignment]:
        """OS and data disks of every node pool wrap their keys with the customer-managed key.

        The set reaches the key with the encryption identity (Key Vault Crypto Service Encryption User on
        the vault); the cluster's identity needs read access to the set to create node disks with it.
        """
        des = DiskEncryptionSet(
            self, "DiskEncryptionSet",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            key_vault_key_id=cmk.key_id,
            # With the versionless key URL, the set moves to each new key version within an hour.
            auto_key_rotation_enabled=cmk.key_version is None,
            encryption_type="EncryptionAtRestWithPlatformAndCustomerKeys",  # double encryption
            identity=DiskEncryptionSetIdentity(
                type="UserAssigned", identity_ids=[cmk.user_assigned_identity.resource_id]
            ),
            tags=dict(placement.tags),
        )
        reader = RoleAssignment(
            self, "DiskEncryptionSetReader", scope=des.id, role_definition_name="Reader",
            principal_id=cluster_principal_id, principal_type="ServicePrincipal",
        )
        return des, reader

    def attach_to_workspace(
        self, *, workspace_id: str, compute_name: str, location: str, identity_id: str, namespace: str = "azureml"
    ) -> AzapiResource:
        """Install the Azure ML extension and register the cluster as the workspace's Kubernetes compute.

        azurerm has no resource for a v2 Kubernetes compute, so the attach is an azapi resource.
        """
        extension = KubernetesClusterExtension(
            self, "AzureMlExtension",
            name="azureml",
            cluster_id=self.cluster.id,
            extension_type="Microsoft.AzureML.Kubernetes",
            release_train="stable",
            release_namespace=namespace,
            configuration_settings={
                "enableInference": "True",
                "inferenceRouterServiceType": "LoadBalancer",
                "internalLoadBalancerProvider": "azure",  # the scoring router gets a private IP only
                "allowInsecureConnections": "False",
                "inferenceRouterHA": "True",
            },
        )
        return AzapiResource(
            self, "WorkspaceCompute",
            type="Microsoft.MachineLearningServices/workspaces/computes@2024-10-01",
            name=compute_name,
            parent_id=workspace_id,
            location=location,
            identity=[AzapiResourceIdentity(type="UserAssigned", identity_ids=[identity_id])],
            body={
                "properties": {
                    "computeType": "Kubernetes",
                    "resourceId": self.cluster.id,
                    "properties": {"namespace": namespace},
                    "disableLocalAuth": True,
                }
            },
            depends_on=[extension, self.user_pool],
        )
