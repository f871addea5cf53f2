"""Batch ingest: an Azure Data Factory that moves dealer feed files from the lake's landing filesystem into
bronze, partitioned by ingest date, on a schedule.

The copy runs on an Azure integration runtime inside the factory's managed virtual network and reaches the
lake through a managed private endpoint (dfs), authenticating with the factory's managed identity. Every
definition (linked service, datasets, pipeline, trigger) lives here, so nothing is clicked in the portal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktn import TerraformResourceLifecycle
from cdktn_provider_azurerm.data_factory import (
    DataFactory,
    DataFactoryIdentity,
)
from cdktn_provider_azurerm.data_factory_custom_dataset import (
    DataFactoryCustomDataset,
    DataFactoryCustomDatasetLinkedService,
)
from cdktn_provider_azurerm.data_factory_integration_runtime_azure import DataFactoryIntegrationRuntimeAzure
from cdktn_provider_azurerm.data_factory_linked_custom_service import (
    DataFactoryLinkedCustomService,
    DataFactoryLinkedCustomServiceIntegrationRuntime,
)
from cdktn_provider_azurerm.data_factory_linked_service_data_lake_storage_gen2 import (
    DataFactoryLinkedServiceDataLakeStorageGen2,
)
from cdktn_provider_azurerm.data_factory_managed_private_endpoint import DataFactoryManagedPrivateEndpoint
from cdktn_provider_azurerm.data_factory_pipeline import DataFactoryPipeline
from cdktn_provider_azurerm.data_factory_trigger_schedule import DataFactoryTriggerSchedule
from constructs import Construct

from contract import FEED_FILE_SUFFIXES, FEED_INGEST_DATE_KEY, FEED_LANDING_CONTAINER, LAKE_FEEDS_FOLDER
from stacks.config import DataFactory as FactorySettings
from stacks.config import FeedSchedule, FeedSource
from stacks.modules.interfaces import Grants, Interfaces, Placement, RoleAssignment, StandardInterfaces

INTEGRATION_RUNTIME = "ir-managed-vnet"
LAKE_LINKED_SERVICE = "lake"
LANDING_DATASET = "landing_feeds"
BRONZE_DATASET = "bronze_feeds"
INGEST_PIPELINE = "ingest_dealer_feeds"
PREP_PIPELINE = "ingest_then_prep"
DATABRICKS_LINKED_SERVICE = "databricks"
# What the pipeline moves: feed files (by suffix) from the landing filesystem into bronze.
LANDING_FILESYSTEM = FEED_LANDING_CONTAINER
BRONZE_FILESYSTEM = "bronze"
FEED_PATTERNS = tuple(f"*{suffix}" for suffix in FEED_FILE_SUFFIXES)


def ingest_date_folder_expression() -> str:
    """The sink folder, evaluated by Data Factory per run: feeds/ingest_date=YYYY-MM-DD of the trigger time
    (a retried run keeps its trigger time, so it lands in the same partition)."""
    prefix = f"{LAKE_FEEDS_FOLDER}/{FEED_INGEST_DATE_KEY}="
    return f"@concat('{prefix}', formatDateTime(pipeline().TriggerTime, 'yyyy-MM-dd'))"


def copy_activity(pattern: str, source: FeedSource) -> dict[str, Any]:
    """One binary copy per file pattern: bytes land unchanged in bronze (prep parses them), and each source
    file is deleted once copied, so a feed file is ingested exactly once."""
    label = pattern.rsplit(".", 1)[-1].title()
    return {
        "name": f"Move{label}Feeds",
        "type": "Copy",
        "policy": {"timeout": "0.02:00:00", "retry": 2, "retryIntervalInSeconds": 60},
        "typeProperties": {
            "source": {
                "type": "BinarySource",
                "storeSettings": {
                    "type": "AzureBlobFSReadSettings",
                    "recursive": True,
                    "wildcardFolderPath": source.folder,
                    "wildcardFileName": pattern,
                    "deleteFilesAfterCompletion": True,
                },
                "formatSettings": {"type": "BinaryReadSettings"},
            },
            "sink": {
                "type": "BinarySink",
                "storeSettings": {"type": "AzureBlobFSWriteSettings", "copyBehavior": "PreserveHierarchy"},
            },
            "enableStaging": False,
        },
        "inputs": [{"referenceName": LANDING_DATASET, "type": "DatasetReference"}],
        "outputs": [{
            "referenceName": BRONZE_DATASET,
            "type": "DatasetReference",
            "parameters": {"folder": {"value": ingest_date_folder_expression(), "type": "Expression"}},
        }],
    }


def _binary_location(filesystem: str, folder: dict[str, str] | str | None) -> str:
    location: dict[str, Any] = {"type": "AzureBlobFSLocation", "fileSystem": filesystem}
    if folder is not None:
        location["folderPath"] = folder
    return json.dumps({"location": location})


def schedule_trigger(scope: Construct, id_: str, *, data_factory_id: str, pipeline: DataFactoryPipeline,
                     pipeline_name: str, schedule: FeedSchedule,
                     depends_on: Sequence[Any] = ()) -> DataFactoryTriggerSchedule:
    """The factory's one schedule, on the pipeline that starts each run: ingest alone, or ingest then prep where
    the environment has the Databricks tier. It lives in the stack that declares that pipeline (a trigger cannot
    name a pipeline that does not exist yet), so with Databricks it is the prep stack's.

    Created stopped: no run before the factory's managed private endpoints are approved.
    `make approve-private-endpoints` approves them and then starts the trigger; Terraform keeps that state."""
    return DataFactoryTriggerSchedule(
        scope, id_,
        name=f"{pipeline_name}_schedule",
        data_factory_id=data_factory_id,
        pipeline_name=pipeline.name,  # a reference: created after its pipeline
        frequency=schedule.frequency,
        interval=schedule.interval,
        start_time=schedule.start_time,
        time_zone="UTC",
        activated=False,
        lifecycle=TerraformResourceLifecycle(ignore_changes=["activated"]),
        depends_on=list(depends_on),
    )


class FeedIngestFactory(Construct):
    """`factory` is the Data Factory; `pipeline` the feed move into bronze and `trigger` its schedule (None
    where the prep stack schedules ingest-then-prep instead)."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        lake_account_id: str, lake_dfs_endpoint: str, filesystem_ids: Mapping[str, str], settings: FactorySettings,
        scheduled: bool = True,
    ) -> None:
        """`filesystem_ids` holds the landing and bronze filesystems' resource ids; `scheduled` is False where
        the prep stack schedules ingest-then-prep instead (a schedule here as well would ingest twice)."""
        super().__init__(scope, id_)
        self.factory = self._factory(placement, interfaces, name)
        self.factory_id = self.factory.id  # read once: each read is a round trip to Node
        # Read and delete what was copied from landing; write bronze. Nothing else in the lake. Each grant is on
        # the container resource itself, so it waits for the container.
        lake_access = Grants(self)
        for filesystem in (LANDING_FILESYSTEM, BRONZE_FILESYSTEM):
            lake_access.one(f"LakeAccess{filesystem.title()}", filesystem_ids[filesystem], RoleAssignment(
                self.factory.identity.principal_id, "Storage Blob Data Contributor"
            ))
        self.grants = lake_access.granted
        runtime = DataFactoryIntegrationRuntimeAzure(
            self, "ManagedNetworkRuntime",
            name=INTEGRATION_RUNTIME,
            data_factory_id=self.factory_id,
            location=self.factory.location,  # the factory's region: data never leaves it
            virtual_network_enabled=True,
        )
        self.runtime_name = runtime.name
        self._lake_connection(lake_account_id, lake_dfs_endpoint)
        self.pipeline = self._ingest_pipeline(settings.source)
        self.trigger = schedule_trigger(
            self, "Schedule", data_factory_id=self.factory_id, pipeline=self.pipeline, pipeline_name=INGEST_PIPELINE,
            schedule=settings.schedule, depends_on=self.grants,
        ) if scheduled else None
        # With the public endpoint off, Studio (monitoring runs) and the data plane are reached privately.
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.factory_id, resource_name=name,
            private_endpoint_subresources=() if interfaces.network_access.public else ("dataFactory", "portal"),
        )

    def _factory(self, placement: Placement, interfaces: Interfaces, name: str) -> DataFactory:
        cmk = interfaces.customer_managed_key
        return DataFactory(
            self, "Factory",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            # The system identity reads and writes the lake; the encryption identity (with a key) unwraps it.
            identity=DataFactoryIdentity(
                type="SystemAssigned, UserAssigned", identity_ids=[cmk.user_assigned_identity.resource_id]
            ) if cmk else DataFactoryIdentity(type="SystemAssigned"),
            managed_virtual_network_enabled=True,
            public_network_enabled=interfaces.network_access.public,
            # Versionless key URL: Data Factory then uses the key's latest version, so rotation needs no redeploy.
            customer_managed_key_id=cmk.key_id if cmk else None,
            customer_managed_key_identity_id=cmk.user_assigned_identity.resource_id if cmk else None,
        )

    def _lake_connection(self, lake_account_id: str, lake_dfs_endpoint: str) -> None:
        """The lake through a managed private endpoint, and the datasets over it: landing as a whole, bronze at
        a folder chosen per run."""
        # Created pending: the lake owner approves the connection once (docs/deploy-readiness.md).
        DataFactoryManagedPrivateEndpoint(
            self, "LakePrivateEndpoint",
            name="mpe-lake-dfs",
            data_factory_id=self.factory_id,
            target_resource_id=lake_account_id,
            subresource_name="dfs",
        )
        lake = DataFactoryLinkedServiceDataLakeStorageGen2(
            self, "LakeLinkedService",
            name=LAKE_LINKED_SERVICE,
            data_factory_id=self.factory_id,
            url=lake_dfs_endpoint,
            use_managed_identity=True,
            integration_runtime_name=self.runtime_name,
            description="The data lake, reached from the managed network with the factory's identity.",
        )
        self.datasets = [
            DataFactoryCustomDataset(
                self, construct_id,
                name=dataset_name,
                data_factory_id=self.factory_id,
                type="Binary",
                linked_service=DataFactoryCustomDatasetLinkedService(name=lake.name),
                parameters=parameters,
                type_properties_json=_binary_location(filesystem, folder),
            )
            for construct_id, dataset_name, filesystem, folder, parameters in (
                ("LandingDataset", LANDING_DATASET, LANDING_FILESYSTEM, None, None),
                ("BronzeDataset", BRONZE_DATASET, BRONZE_FILESYSTEM,
                 {"value": "@dataset().folder", "type": "Expression"}, {"folder": ""}),
            )
        ]

    def _ingest_pipeline(self, source: FeedSource) -> DataFactoryPipeline:
        return DataFactoryPipeline(
            self, "IngestPipeline",
            name=INGEST_PIPELINE,
            data_factory_id=self.factory_id,
            description="Moves dealer feed files from landing into bronze, partitioned by ingest date.",
            concurrency=1,  # two overlapping runs would race for the same landing files
            activities_json=json.dumps([copy_activity(pattern, source) for pattern in FEED_PATTERNS]),
            depends_on=list(self.datasets),
        )


def prep_activities(job_id: str) -> list[dict[str, Any]]:
    """Ingest (the feed move, waited for), then the Databricks prep job: prep reads what ingest just landed."""
    return [
        {
            "name": "IngestDealerFeeds",
            "type": "ExecutePipeline",
            "typeProperties": {"pipeline": {"referenceName": INGEST_PIPELINE, "type": "PipelineReference"},
                               "waitOnCompletion": True},
        },
        {
            "name": "PrepOnDatabricks",
            "type": "DatabricksJob",
            "dependsOn": [{"activity": "IngestDealerFeeds", "dependencyConditions": ["Succeeded"]}],
            "policy": {"timeout": "0.04:00:00", "retry": 0},  # the job retries itself (its task's max_retries)
            "linkedServiceName": {"referenceName": DATABRICKS_LINKED_SERVICE, "type": "LinkedServiceReference"},
            "typeProperties": {"jobId": job_id},
        },
    ]


class PrepRun(Construct):
    """A factory pipeline that runs ingest and then the Databricks prep job, as the factory's managed identity
    (Contributor on the workspace, which makes it a workspace admin at first sign-in), through a managed private
    endpoint to the workspace's `databricks_ui_api` (created pending, approved by make approve-private-endpoints),
    and the factory's schedule on it (`trigger`, see schedule_trigger)."""

    def __init__(self, scope: Construct, id_: str, *, factory: FeedIngestFactory, factory_id: str,
                 workspace_id: str, workspace_arm_id: str, workspace_url: str, job_id: str,
                 schedule: FeedSchedule) -> None:
        """`factory_id` and `workspace_arm_id` are ARM ids as literals (this runs in a later stack than both), so
        the approval step reads which factory reaches which workspace from the synth output alone; `workspace_id`
        is the same id as a reference."""
        super().__init__(scope, id_)
        access = Grants(self).one(
            "WorkspaceContributor", workspace_id,
            RoleAssignment(factory.factory.identity.principal_id, "Contributor"),
        )
        endpoint = DataFactoryManagedPrivateEndpoint(
            self, "WorkspacePrivateEndpoint", name="mpe-databricks", data_factory_id=factory_id,
            target_resource_id=workspace_arm_id, subresource_name="databricks_ui_api",
        )
        # azurerm's Databricks linked service requires cluster settings (an existing, new or pooled cluster);
        # a job activity takes none (the job owns its compute), so the service is declared as its JSON.
        service = DataFactoryLinkedCustomService(
            self, "DatabricksLinkedService",
            name=DATABRICKS_LINKED_SERVICE,
            data_factory_id=factory_id,
            type="AzureDatabricks",
            type_properties_json=json.dumps({
                "domain": f"https://{workspace_url}", "authentication": "MSI", "workspaceResourceId": workspace_id,
            }),
            integration_runtime=DataFactoryLinkedCustomServiceIntegrationRuntime(name=factory.runtime_name),
            description="The Databricks workspace, reached from the managed network with the factory's identity.",
        )
        self.pipeline = DataFactoryPipeline(
            self, "Pipeline",
            name=PREP_PIPELINE,
            data_factory_id=factory_id,
            description="Moves dealer feeds into bronze, then runs medallion prep on Databricks.",
            concurrency=1,
            activities_json=json.dumps(prep_activities(job_id)),
            depends_on=[service],  # the ingest pipeline is the data stack's, deployed before this one
        )
        self.trigger = schedule_trigger(
            self, "Schedule", data_factory_id=factory_id, pipeline=self.pipeline, pipeline_name=PREP_PIPELINE,
            schedule=schedule, depends_on=[access, endpoint],
        )
