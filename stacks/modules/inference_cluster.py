"""AKS for real-time inference, attached to the Azure ML workspace as a Kubernetes compute.

Entra ID with Azure RBAC (cluster admins granted from config), Azure CNI with network policy, autoscaling
system and user pools across the configured zones, Azure Policy, and Container Insights through a data
collection rule; a private API server unless config opens it to named ranges. Node disks are encrypted with
the customer-managed key through a disk encryption set, on top of host encryption.

Local accounts stay enabled: the Azure ML extension does not support AKS with local accounts disabled
(Learn: how-to-deploy-kubernetes-extension, "Limitations"). Access still needs Entra ID and Azure RBAC.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktn import Fn, TerraformResource
from cdktn_provider_azapi.resource import Resource as AzapiResource
from cdktn_provider_azapi.resource import ResourceIdentity as AzapiResourceIdentity
from cdktn_provider_azurerm.data_azurerm_key_vault_certificate_data import DataAzurermKeyVaultCertificateData
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
from cdktn_provider_azurerm.monitor_data_collection_rule import (
    MonitorDataCollectionRule,
    MonitorDataCollectionRuleDataFlow,
    MonitorDataCollectionRuleDataSources,
    MonitorDataCollectionRuleDataSourcesExtension,
    MonitorDataCollectionRuleDestinations,
    MonitorDataCollectionRuleDestinationsLogAnalytics,
)
from cdktn_provider_azurerm.monitor_data_collection_rule_association import MonitorDataCollectionRuleAssociation
from constructs import Construct

from stacks.compute_config import Aks, InferenceTls
from stacks.modules.customer_managed_key import CustomerManagedKey
from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Grants, Interfaces, Placement, RoleAssignment, StandardInterfaces

CLUSTER_ADMIN = "Azure Kubernetes Service RBAC Cluster Admin"


class InferenceCluster(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str, sizes: Aks,
        subnet_id: str, identity: ManagedIdentity, tenant_id: str, log_analytics_workspace_id: str,
        deployer_object_id: str, allowed_ip_ranges: Sequence[str] = (), disk_encryption_set_name: str = "",
    ) -> None:
        super().__init__(scope, id_)
        self._sizes, self._tags = sizes, placement.tags
        self._deployer_object_id = deployer_object_id
        self._grants = Grants(self)
        # The cluster's identity joins nodes to the subnet; without this grant, scaling fails.
        cluster_waits_for: list[TerraformResource] = [*self._grants.on(subnet_id, {
            "SubnetNetworkContributor": RoleAssignment(identity.principal_id, "Network Contributor"),
        })]
        self.disk_encryption_set: DiskEncryptionSet | None = None
        cmk = interfaces.customer_managed_key
        if cmk:
            self.disk_encryption_set, des_grant = self._disk_encryption_set(
                cmk, placement, disk_encryption_set_name or f"des-{name}", identity.principal_id
            )
            cluster_waits_for.append(des_grant)
        self.cluster = self._cluster(
            placement, name, identity=identity, tenant_id=tenant_id, subnet_id=subnet_id,
            log_analytics_workspace_id=log_analytics_workspace_id, allowed_ip_ranges=allowed_ip_ranges,
            depends_on=cluster_waits_for,
        )
        self.user_pool = self._user_pool(subnet_id)
        StandardInterfaces(self, placement, interfaces).apply(resource_id=self.cluster.id, resource_name=name)
        self._grant_cluster_admins(deployer_object_id)
        self._container_insights(placement, name, log_analytics_workspace_id)

    def _cluster(
        self, placement: Placement, name: str, *, identity: ManagedIdentity, tenant_id: str, subnet_id: str,
        log_analytics_workspace_id: str, allowed_ip_ranges: Sequence[str], depends_on: list[TerraformResource],
    ) -> KubernetesCluster:
        sizes = self._sizes
        return KubernetesCluster(
            self, "Cluster",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            node_resource_group=f"{placement.resource_group_name}-{name}-nodes",
            dns_prefix=name,
            kubernetes_version=sizes.kubernetes_version,
            sku_tier=sizes.sku_tier,
            automatic_upgrade_channel="patch",
            node_os_upgrade_channel="NodeImage",
            identity=KubernetesClusterIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
            # The Azure ML extension does not support disabled local accounts (see the module docstring).
            local_account_disabled=False,
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
            private_cluster_enabled=sizes.private_cluster,
            # Azure ML does not support a private cluster reached by its public FQDN (Learn:
            # how-to-secure-kubernetes-inferencing-environment).
            private_cluster_public_fqdn_enabled=False,
            # A public API server must admit Azure ML's control plane too, or the extension cannot deploy pods.
            api_server_access_profile=None if sizes.private_cluster else KubernetesClusterApiServerAccessProfile(
                authorized_ip_ranges=[*allowed_ip_ranges, *sizes.azureml_control_plane_ip_ranges]
            ),
            default_node_pool=self._system_pool(subnet_id),
            depends_on=depends_on,
        )

    def _system_pool(self, subnet_id: str) -> KubernetesClusterDefaultNodePool:
        sizes = self._sizes
        return KubernetesClusterDefaultNodePool(
            name="system",
            vm_size=sizes.system_vm_size,
            vnet_subnet_id=subnet_id,
            auto_scaling_enabled=True,
            min_count=sizes.system_node_min,
            max_count=sizes.system_node_max,
            max_pods=50,
            only_critical_addons_enabled=True,  # inference pods run on the user pool
            host_encryption_enabled=True,
            # Ephemeral needs a size with a local temp disk: stacks/config.py checks the pair.
            os_disk_type=sizes.os_disk_type,
            os_disk_size_gb=sizes.os_disk_size_gb,
            zones=list(sizes.zones) or None,
            temporary_name_for_rotation="systemtmp",
        )

    def _user_pool(self, subnet_id: str) -> KubernetesClusterNodePool:
        sizes = self._sizes
        return KubernetesClusterNodePool(
            self, "UserPool",
            name="inference",
            kubernetes_cluster_id=self.cluster.id,
            mode="User",
            tags=self._tags,
            vm_size=sizes.user_vm_size,
            vnet_subnet_id=subnet_id,
            auto_scaling_enabled=True,
            min_count=sizes.user_node_min,
            max_count=sizes.user_node_max,
            max_pods=50,
            host_encryption_enabled=True,
            os_disk_type=sizes.os_disk_type,
            os_disk_size_gb=sizes.os_disk_size_gb,
            zones=list(sizes.zones) or None,
        )

    def _grant_cluster_admins(self, deployer_object_id: str) -> None:
        """With Azure RBAC for Kubernetes, nobody administers the cluster until a role says so."""
        admins = self._sizes.admin_group_object_ids
        self._grants.on(self.cluster.id, {
            f"ClusterAdmin-{object_id}": RoleAssignment(object_id, CLUSTER_ADMIN, principal_type="Group")
            for object_id in admins
        } or {
            # a user or a pipeline's service principal
            "ClusterAdminDeployer": RoleAssignment(deployer_object_id, CLUSTER_ADMIN, principal_type=None),
        })

    def _container_insights(self, placement: Placement, name: str, log_analytics_workspace_id: str) -> None:
        """The monitoring add-on with managed identity auth collects only what a data collection rule names."""
        rule = MonitorDataCollectionRule(
            self, "ContainerInsightsRule",
            name=f"MSCI-{placement.location}-{name}",
            kind="Linux",
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            destinations=MonitorDataCollectionRuleDestinations(log_analytics=[
                MonitorDataCollectionRuleDestinationsLogAnalytics(
                    name="ciworkspace", workspace_resource_id=log_analytics_workspace_id
                ),
            ]),
            data_flow=[MonitorDataCollectionRuleDataFlow(
                streams=["Microsoft-ContainerInsights-Group-Default"], destinations=["ciworkspace"]
            )],
            data_sources=MonitorDataCollectionRuleDataSources(extension=[
                MonitorDataCollectionRuleDataSourcesExtension(
                    name="ContainerInsightsExtension",
                    extension_name="ContainerInsights",
                    streams=["Microsoft-ContainerInsights-Group-Default"],
                    extension_json=json.dumps({"dataCollectionSettings": {
                        "interval": "1m", "namespaceFilteringMode": "Off", "enableContainerLogV2": True,
                    }}),
                ),
            ]),
        )
        MonitorDataCollectionRuleAssociation(
            self, "ContainerInsightsAssociation",
            name="ContainerInsightsExtension",
            target_resource_id=self.cluster.id,
            data_collection_rule_id=rule.id,
        )

    def _disk_encryption_set(
        self, cmk: CustomerManagedKey, placement: Placement, name: str, cluster_principal_id: str
    ) -> tuple[DiskEncryptionSet, TerraformResource]:
        """OS and data disks of every node pool wrap their keys with the customer-managed key.

        The set reaches the key with the encryption identity (Key Vault Crypto Service Encryption User on
        the vault); the cluster's identity needs read access to the set to create node disks with it.
        """
        des = DiskEncryptionSet(
            self, "DiskEncryptionSet",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            key_vault_key_id=cmk.key_id,
            # With the versionless key URL, the set moves to each new key version within an hour.
            auto_key_rotation_enabled=cmk.key_version is None,
            encryption_type="EncryptionAtRestWithPlatformAndCustomerKeys",  # double encryption
            identity=DiskEncryptionSetIdentity(
                type="UserAssigned", identity_ids=[cmk.user_assigned_identity.resource_id]
            ),
        )
        reader = self._grants.one("DiskEncryptionSetReader", des.id, RoleAssignment(cluster_principal_id, "Reader"))
        return des, reader

    def attach_to_workspace(
        self, *, workspace_id: str, compute_name: str, location: str, identity: ManagedIdentity, key_vault_id: str,
        waits_for: Sequence[TerraformResource] = (), namespace: str = "azureml",
    ) -> AzapiResource:
        """Install the Azure ML extension and register the cluster as the workspace's Kubernetes compute.

        azurerm has no resource for a v2 Kubernetes compute, so the attach is an azapi resource.
        """
        tls = self._sizes.inference_tls
        protected: dict[str, str] | None = None
        if tls:
            certificate = DataAzurermKeyVaultCertificateData(
                self, "InferenceTlsCertificate", key_vault_id=key_vault_id, name=tls.key_vault_certificate,
                # Read during apply, once the deployer may read certificates (not at plan time, before the grant).
                depends_on=[self._certificate_read_access(key_vault_id)],
            )
            protected = {
                "scoringFe.sslCert": Fn.base64encode(certificate.pem),
                "scoringFe.sslKey": Fn.base64encode(certificate.key),
            }
        extension = KubernetesClusterExtension(
            self, "AzureMlExtension",
            name="azureml",
            cluster_id=self.cluster.id,
            extension_type="Microsoft.AzureML.Kubernetes",
            release_train="stable",
            release_namespace=namespace,
            configuration_settings=azureml_extension_settings(
                cluster_id=self.cluster.id, cluster_name=self.cluster.name, location=location,
                router_ha=self._sizes.inference_router_ha, tls=tls,
            ),
            configuration_protected_settings=protected,
            # The extension's pods need the user pool's nodes to start.
            depends_on=[self.user_pool],
        )
        return AzapiResource(
            self, "WorkspaceCompute",
            type="Microsoft.MachineLearningServices/workspaces/computes@2024-10-01",
            name=compute_name,
            parent_id=workspace_id,
            location=location,
            tags=self._tags,
            identity=[AzapiResourceIdentity(type="UserAssigned", identity_ids=[identity.resource_id])],
            body={
                "properties": {
                    "computeType": "Kubernetes",
                    "resourceId": self.cluster.id,
                    "properties": {"namespace": namespace},
                    "disableLocalAuth": True,
                }
            },
            depends_on=[extension, self.user_pool, *waits_for],
        )

    def _certificate_read_access(self, key_vault_id: str) -> TerraformResource:
        """Reading a certificate with its key takes certificates/read (the deployer's vault roles cover
        secrets and keys only), and a fresh role assignment takes minutes to apply."""
        grant = self._grants.one("InferenceTlsCertificateUser", key_vault_id, RoleAssignment(
            self._deployer_object_id, "Key Vault Certificate User", principal_type=None
        ))
        return self._grants.propagated("InferenceTlsCertificateUserPropagation", [grant])


def azureml_extension_settings(
    *, cluster_id: str, cluster_name: str, location: str, router_ha: bool, tls: InferenceTls | None,
) -> dict[str, str]:
    """The extension's settings as the Azure ML CLI (`az k8s-extension create`) would send them to ARM.

    Installed through ARM directly, nothing translates the documented settings into the chart's keys, so
    both are given: the documented ones (Learn: how-to-deploy-kubernetes-extension) and the chart keys the
    CLI derives from them (azure-cli-extensions: partner_extensions/AzureMLKubernetes.py).
    """
    settings = {
        "enableTraining": "False",  # training runs on the workspace's compute cluster
        "enableInference": "True",
        "inferenceRouterServiceType": "LoadBalancer",
        # The scoring router gets a private IP in the cluster subnet only.
        "internalLoadBalancerProvider": "azure",
        "scoringFe.serviceType.internalLoadBalancer": "True",
        # Three router replicas need three nodes; fewer nodes get one replica (and a DevTest purpose).
        "inferenceRouterHA": str(router_ha),
        "clusterPurpose": "FastProd" if router_ha else "DevTest",
        # HTTPS needs the certificate (protected settings) and the name it was issued for.
        "allowInsecureConnections": str(tls is None),
        "cluster_name": cluster_id,
        "clusterId": cluster_id,
        "prometheus.prometheusSpec.externalLabels.cluster_name": cluster_id,
        "cluster_name_friendly": cluster_name,
        "location": location,
        "jobSchedulerLocation": location,
        "domain": f"{location}.cloudapp.azure.com",
        # AKS talks to Azure ML directly: no Azure Relay or Service Bus namespaces for this cluster.
        "relayserver.enabled": "false",
        "servicebus.enabled": "false",
        "nginxIngress.enabled": "true",
    }
    if tls:
        settings["sslCname"] = tls.cname
    return settings
