"""ML stack: the Azure ML workspace, its training cluster, lake datastores, and AKS for inference.

The workspace sits in our virtual network (see stacks/modules/ml_workspace.py for why not a managed network):
private endpoints for the workspace, its storage, registry and vault; the training cluster in the ML subnet,
leaving through a NAT gateway; AKS in its subnet, attached as the workspace's Kubernetes inference compute,
serving real-time scoring: its inference router listens on a fixed internal load-balancer address
(`aks.inference_router_ip`) that the scoring name resolves to in every network that calls it.

Why not a managed online endpoint: its deployments pull the image and model from outside our network, and
without a workspace managed network (ruled out by the attached AKS, see ml_workspace.py) they reach a private
registry and storage only through the legacy per-deployment network that Learn advises against
(concept-secure-online-endpoint, "Appendix"). The Kubernetes endpoint pulls from inside the network, through
the registry's and storage's private endpoints, in every environment, so dev rehearses what prod runs.
"""

from __future__ import annotations

from cdktn_provider_azapi.provider import AzapiProvider
from constructs import Construct

import contract as c
from contract import ML_COMPUTE_CLUSTER, ML_INFERENCE_COMPUTE, ML_LAKE_DATASTORES
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.data import DataStack
from stacks.foundation import AKS_SUBNET, ML_SUBNET, FoundationStack
from stacks.modules.endpoint_access import EndpointTokenRole
from stacks.modules.inference_cluster import InferenceCluster
from stacks.modules.interfaces import RoleAssignment
from stacks.modules.ml_network import MlSubnetEgress
from stacks.modules.ml_workspace import MlWorkspace
from stacks.modules.private_name import PrivateName


class MlStack(PlatformStack):
    def __init__(
        self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack, data: DataStack
    ) -> None:
        super().__init__(scope, "ml", config=config)
        AzapiProvider(self, "azapi", subscription_id=config.subscription_id)
        # Callers of the online endpoint (the web app here, the function app in its stack) get its token, no more.
        self.endpoint_token_role = EndpointTokenRole(
            self, "EndpointTokenRole",
            name=f"{config.workload}-{config.name}-online-endpoint-token-{self.namer.suffix}",
            resource_group_id=f"/subscriptions/{config.subscription_id}/resourceGroups/{self.resource_group_name}",
        ).role
        self.workspace = self._workspace(foundation)
        self._training(foundation, data)
        self.inference = self._inference(foundation)
        self._scoring_name(foundation)

    def _workspace(self, foundation: FoundationStack) -> MlWorkspace:
        config = self.config
        ml_identity = foundation.identities["ml"]
        return MlWorkspace(
            self, "Workspace", placement=self.placement(),
            interfaces=foundation.interfaces(
                lock=config.lock_stateful_resources,
                role_assignments={
                    # The web app may get the online endpoint's token with its identity (remote scoring mode).
                    "AppOnlineEndpointCaller": RoleAssignment(
                        foundation.identities["app"].principal_id, self.endpoint_token_role
                    ),
                    # The workspace identity manages the workspace itself (Learn: identity-based service auth).
                    "WorkspaceContributor": RoleAssignment(ml_identity.principal_id, "Contributor"),
                },
                encryption_key="storage",  # the workspace's storage account
            ),
            name=self.namer.name("ml_workspace"),
            storage_name=self.namer.name("storage_account", "ml"),
            registry_name=self.namer.name("container_registry"),
            registry_sku=config.ml.container_registry_sku,
            # "m": the longest workload and environment names leave no room for "ml" in 24 characters.
            key_vault_name=self.namer.name("key_vault", "m"),
            tenant_id=self.client.tenant_id,
            subscription_id=config.subscription_id,
            application_insights_id=foundation.monitoring.insights.id,
            identity=ml_identity,
            image_build_compute_name=ML_COMPUTE_CLUSTER,
        )

    def _training(self, foundation: FoundationStack, data: DataStack) -> None:
        """The training cluster in the ML subnet, and the lake's layers as the workspace's datastores."""
        config = self.config
        # The platform's NAT: the training subnet leaves through it, and so do the Databricks subnets.
        self.egress = egress = MlSubnetEgress(
            self, "TrainingEgress", placement=self.placement(),
            name=f"{config.workload}-{config.name}-ml", subnet_id=foundation.subnet_ids[ML_SUBNET],
        )
        self.workspace.add_compute_cluster(
            "TrainingCluster",
            name=ML_COMPUTE_CLUSTER,
            vm_size=config.ml.compute_vm_size,
            max_nodes=config.ml.compute_max_nodes,
            subnet_id=foundation.subnet_ids[ML_SUBNET],
            identity=foundation.identities["ml"],
            location=config.location,
            depends_on=[egress.association],
        )
        self.workspace.add_lake_datastores(
            ML_LAKE_DATASTORES, dict(data.lake.filesystem_ids)
        )

    def _inference(self, foundation: FoundationStack) -> InferenceCluster:
        """AKS for real-time scoring, attached to the workspace as its Kubernetes compute."""
        config = self.config
        inference = InferenceCluster(
            self, "InferenceCluster", placement=self.placement(),
            interfaces=foundation.interfaces(encryption_key="disks"),
            name=self.namer.name("kubernetes_cluster"),
            sizes=config.aks,
            subnet_id=foundation.subnet_ids[AKS_SUBNET],
            identity=foundation.identities["aks"],
            tenant_id=self.client.tenant_id,
            log_analytics_workspace_id=foundation.monitoring.workspace.id,
            deployer_object_id=self.client.object_id,
            # A public API server admits the environment's ranges (the cluster's own setting, `aks.private_cluster`).
            allowed_ip_ranges=foundation.network_access.allowed_ip_ranges,
            disk_encryption_set_name=self.namer.name("disk_encryption_set", "aks"),
        )
        inference.attach_to_workspace(
            workspace_id=self.workspace.workspace.id,
            compute_name=ML_INFERENCE_COMPUTE,
            location=config.location,
            identity=foundation.identities["ml"],
            key_vault_id=foundation.key_vault.resource_id,  # holds the inference router's TLS certificate
            # Attaching checks the workspace identity's access: wait until its grants have propagated.
            waits_for=[self.workspace.service_identity_ready],
        )
        return inference

    def _scoring_name(self, foundation: FoundationStack) -> None:
        config = self.config
        # The inference router's internal load balancer, by name, from every network whose callers score: each
        # app region's (the web apps; the function app integrates with the primary one) and the deploy agents'
        # (the rollout's smoke tests and probes call the endpoint's scoring URI).
        callers = dict(foundation.vnet_ids)
        if foundation.agent_network is not None:
            callers["agents"] = foundation.agent_network.vnet_id
        self.scoring_name = PrivateName(
            self, "ScoringName", placement=self.placement(), host=config.scoring_host,
            address=config.inference_router_ip, linked_networks=callers,
        )
        self.scoring_url = c.online_scoring_url(
            config.name, config.scoring_host, https=config.aks.inference_tls is not None
        )
        self.scoring_token_url = c.online_token_url(self.workspace.workspace.id, config.name)
