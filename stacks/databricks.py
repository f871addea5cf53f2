"""Spark prep in Azure Databricks: two deployment units, because one configures the other's provider.

- `databricks` (azurerm): the Premium workspace injected into the platform's network (its two delegated subnets
  from the foundation, egress through the ML stack's NAT gateway), private endpoints, diagnostics, customer-
  managed keys, and the access connector with data roles on the lake layers prep reads and writes.
- `prep` (databricks + azurerm): inside the workspace, Unity Catalog's storage credential and external
  locations, cluster policies, the prep code and job; in the Data Factory, the pipeline that runs ingest and
  then the job, and the factory's schedule on it (the data stack then declares none: ingest runs once). Its
  provider is the workspace the first unit created (host and resource id), so a fresh environment plans it only
  once that unit is applied (tools/deploy/infra/plan.py defers it).

Why not Azure ML serverless Spark: its network isolation needs the workspace's managed network, which this
platform does not use (the ML workspace's attached AKS and own-subnet compute cannot live in one); see
docs/deploy-readiness.md.
"""

from __future__ import annotations

from cdktn_provider_databricks.provider import DatabricksProvider
from constructs import Construct

from contract import LAKE_LAYERS
from stacks.base import PlatformStack, present
from stacks.config import EnvironmentConfig
from stacks.data import DataStack
from stacks.foundation import DATABRICKS_CONTAINER_SUBNET, DATABRICKS_HOST_SUBNET, FoundationStack
from stacks.ml import MlStack
from stacks.modules.data_factory import PrepRun
from stacks.modules.databricks_jobs import PrepJobs
from stacks.modules.databricks_workspace import InjectedSubnet, SparkWorkspace

PREP_JOB = "carprice-prep"


class DatabricksStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack, data: DataStack,
                 ml: MlStack) -> None:
        super().__init__(scope, "databricks", config=config)
        settings = present(config.databricks, "the databricks stack exists only where databricks is configured")
        network = foundation.network

        def injected(key: str) -> InjectedSubnet:
            # The name as the foundation's namer writes it (a literal, not a cross-stack reference).
            return InjectedSubnet(self.namer.name("subnet", key, config.location), network.subnet_ids[key],
                                  network.security_group_associations[key].id)

        self.spark = SparkWorkspace(
            self, "Workspace", placement=self.placement(),
            interfaces=foundation.interfaces(lock=config.lock_stateful_resources),
            name=self.namer.name("databricks_workspace"),
            connector_name=self.namer.name("databricks_access_connector"),
            managed_resource_group_name=self.namer.name("resource_group", "databricks"),
            virtual_network_id=network.vnet_id,
            host=injected(DATABRICKS_HOST_SUBNET), container=injected(DATABRICKS_CONTAINER_SUBNET),
            nat_gateway_id=ml.egress.nat_gateway.id,
            lake_filesystem_ids={layer: data.lake.filesystem_ids[layer] for layer in LAKE_LAYERS},
            # Customer-managed keys as for every other store of the platform: disks with the disks key, the
            # workspace's own storage (DBFS root) and the control plane's copy of notebooks, secrets and queries
            # with the storage key; versioned URLs (the provider requires it).
            key_vault_id=foundation.key_vault.resource_id,
            disk_key_id=foundation.encryption_keys["disks"].id,
            dbfs_key_id=foundation.encryption_keys["storage"].id,
            services_key_id=foundation.encryption_keys["storage"].id,
            services_principal_id=settings.azure_databricks_object_id,
        )


class PrepStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, data: DataStack,
                 databricks: DatabricksStack) -> None:
        super().__init__(scope, "prep", config=config)
        settings = present(config.databricks, "the prep stack exists only where databricks is configured")
        workspace = databricks.spark.workspace
        DatabricksProvider(self, "databricks", host=f"https://{workspace.workspace_url}",
                           azure_workspace_resource_id=workspace.id)
        self.jobs = PrepJobs(
            self, "Jobs",
            job_name=PREP_JOB,
            access_connector_id=databricks.spark.access_connector.id,
            lake_account_name=self.namer.name("storage_account", "lake"),  # the data stack's lake, by name
            layers=LAKE_LAYERS,
            compute=settings,
            allowed_ip_ranges=(list(config.network.allowed_ip_ranges) if not config.private_networking else None),
            tags=config.all_tags,
        )
        group = f"/subscriptions/{config.subscription_id}/resourceGroups"
        factory_id = f"{group}/{data.resource_group_name}/providers/Microsoft.DataFactory/factories/" + \
            self.namer.name("data_factory")
        workspace_arm_id = f"{group}/{databricks.resource_group_name}/providers/Microsoft.Databricks/workspaces/" + \
            databricks.spark.name
        self.run = PrepRun(
            self, "FactoryRun", factory=data.factory, factory_id=factory_id, workspace_id=workspace.id,
            workspace_arm_id=workspace_arm_id,
            workspace_url=workspace.workspace_url, job_id=self.jobs.job.id, schedule=config.data_factory.schedule,
        )
