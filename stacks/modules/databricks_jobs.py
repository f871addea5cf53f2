"""Inside the Databricks workspace (the databricks provider): Unity Catalog's storage credential and external
locations for the lake, the cluster policies, the prep code and the prep job.

- Unity Catalog is a precondition, not a declaration: a new Premium workspace is assigned to its region's
  metastore by automatic enablement, and declaring the assignment (`databricks_metastore_assignment`) needs an
  account-level provider and an account admin. So the plan reads the workspace's current metastore and stops
  with what to do when there is none (NO_METASTORE), before anything here is created.
- The storage credential is the workspace's access connector; one external location per lake layer prep reads
  or writes (bronze, silver, gold), so the job reaches `abfss://<layer>@<lake>` through Unity Catalog and no
  key or secret exists anywhere.
- Cluster policies: every cluster a user may start is a dedicated (single-user) cluster of an allowed node
  type with an upper worker bound and an idle shutdown; jobs get their own policy with the environment's
  bounds. Public IPs are impossible workspace-wide (secure cluster connectivity).
- The job runs `ml/carprice/engines/databricks_job.py` from workspace files this stack uploads, on a job
  cluster with the pinned runtime and autoscaling bounds from the environment's config.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from cdktn import Postcondition, TerraformResource, TerraformResourceLifecycle
from cdktn_provider_databricks.cluster_policy import ClusterPolicy
from cdktn_provider_databricks.data_databricks_current_metastore import DataDatabricksCurrentMetastore
from cdktn_provider_databricks.external_location import ExternalLocation
from cdktn_provider_databricks.ip_access_list import IpAccessList
from cdktn_provider_databricks.job import (
    Job,
    JobJobCluster,
    JobJobClusterNewCluster,
    JobJobClusterNewClusterAutoscale,
    JobJobClusterNewClusterAzureAttributes,
    JobTask,
    JobTaskLibrary,
    JobTaskLibraryPypi,
    JobTaskSparkPythonTask,
)
from cdktn_provider_databricks.storage_credential import StorageCredential, StorageCredentialAzureManagedIdentity
from cdktn_provider_databricks.workspace_conf import WorkspaceConf
from cdktn_provider_databricks.workspace_file import WorkspaceFile
from constructs import Construct

from stacks.compute_config import Databricks

ROOT = Path(__file__).resolve().parents[2]
CODE_ROOT = "/Workspace/Shared/carprice"  # where the job's code lives in the workspace
JOB_ENTRY = "ml/carprice/engines/databricks_job.py"
# What the prep job imports (the repository's layout under CODE_ROOT): the shared contract, the row logic and
# engines, and the data set declarations.
CODE_GLOBS = ("contract/*.py", "ml/__init__.py", "ml/carprice/*.py", "ml/carprice/engines/*.py", "ml/data/*.yml")
# Packages the runtime does not ship, at the versions constraints.txt pins (Capture's Avro; delta-rs, which
# lake.py imports even where Spark's own Delta writer does the writing).
JOB_PACKAGES = ("fastavro", "deltalake")
NO_METASTORE = "no_metastore"
METASTORE_MISSING = (
    "The Databricks workspace has no Unity Catalog metastore. New workspaces get their region's metastore by "
    "automatic enablement; where the account has it turned off, an account admin assigns the region's metastore "
    "to this workspace once (account console > Catalog > the metastore > Workspaces), then plan again. "
    "See README, first deployment.")


def pinned(package: str, constraints: Path = ROOT / "constraints.txt") -> str:
    for line in constraints.read_text().splitlines():
        if line.split("==")[0].strip().lower() == package:
            return line.strip()
    raise ValueError(f"{package} is not pinned in {constraints.name}")


def job_code(root: Path = ROOT) -> dict[str, bytes]:
    """Workspace path -> content of every file the job imports."""
    files = sorted({path for pattern in CODE_GLOBS for path in root.glob(pattern) if path.is_file()})
    return {f"{CODE_ROOT}/{path.relative_to(root).as_posix()}": path.read_bytes() for path in files}


def job_policy(compute: Databricks) -> dict[str, object]:
    """The job cluster policy: the pinned runtime, the allowed node type, the autoscaling ceiling."""
    return {
        "cluster_type": {"type": "fixed", "value": "job"},
        "spark_version": {"type": "fixed", "value": compute.runtime},
        "node_type_id": {"type": "allowlist", "values": [compute.node_type]},
        "driver_node_type_id": {"type": "allowlist", "values": [compute.node_type]},
        "autoscale.max_workers": {"type": "range", "maxValue": compute.max_workers},
        "autoscale.min_workers": {"type": "range", "minValue": 1, "maxValue": compute.max_workers},
        "num_workers": {"type": "forbidden", "hidden": True},
        "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
        "enable_local_disk_encryption": {"type": "fixed", "value": True},
        "azure_attributes.availability": {"type": "fixed", "value": "ON_DEMAND_AZURE"},
    }


def interactive_policy(compute: Databricks) -> dict[str, object]:
    """What a user may start by hand: small, dedicated, encrypted, and shut down when idle."""
    return {
        "cluster_type": {"type": "fixed", "value": "all-purpose"},
        "spark_version": {"type": "fixed", "value": compute.runtime},
        "node_type_id": {"type": "allowlist", "values": [compute.node_type], "defaultValue": compute.node_type},
        "driver_node_type_id": {"type": "allowlist", "values": [compute.node_type]},
        "autoscale.max_workers": {"type": "range", "maxValue": compute.interactive_max_workers},
        "num_workers": {"type": "range", "maxValue": compute.interactive_max_workers},
        "autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": compute.autotermination_minutes,
                                    "defaultValue": compute.autotermination_minutes},
        "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
        "enable_local_disk_encryption": {"type": "fixed", "value": True},
    }


class PrepJobs(Construct):
    """`job` is the prep job the factory runs; `locations` the Unity Catalog external location per layer."""

    def __init__(
        self, scope: Construct, id_: str, *, job_name: str, access_connector_id: str, lake_account_name: str,
        layers: Sequence[str], compute: Databricks, allowed_ip_ranges: Sequence[str] | None,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        self.locations = self._external_locations(job_name, access_connector_id, lake_account_name, layers)
        if allowed_ip_ranges is not None:
            # Public endpoint on (dev): like the other data planes, it admits only the environment's ranges.
            conf = WorkspaceConf(self, "IpAccessLists", custom_config={"enableIpAccessLists": "true"})
            IpAccessList(self, "AllowedRanges", label="allowed-ip-ranges", list_type="ALLOW",
                         ip_addresses=list(allowed_ip_ranges), depends_on=[conf])
        policy = self._cluster_policies(job_name, compute)
        # Keyed by the file's path, so adding a module never renames (and replaces) the others.
        files = [
            WorkspaceFile(self, "Code" + re.sub(r"[^A-Za-z0-9]+", "_", path.removeprefix(CODE_ROOT)), path=path,
                          content_base64=base64.b64encode(content).decode())
            for path, content in job_code().items()
        ]
        self.job = self._job(
            job_name, compute, policy_id=policy.id, lake_account_name=lake_account_name, tags=tags,
            depends_on=[*files, *self.locations.values()],
        )

    def _external_locations(
        self, job_name: str, access_connector_id: str, lake_account_name: str, layers: Sequence[str]
    ) -> dict[str, ExternalLocation]:
        """Unity Catalog, once the plan has found its metastore, reaches each layer as the access connector: no
        key or secret anywhere."""
        # The provider reads "no metastore assigned" as this id instead of failing (catalog/data_current_metastore.go).
        self.metastore = DataDatabricksCurrentMetastore(
            self, "Metastore",
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition=f'${{self.id != "{NO_METASTORE}"}}', error_message=METASTORE_MISSING)]),
        )
        credential = StorageCredential(
            self, "LakeCredential",
            name=f"{job_name}-lake",
            azure_managed_identity=StorageCredentialAzureManagedIdentity(access_connector_id=access_connector_id),
            comment="The workspace's access connector: data roles on the lake layers prep reads and writes.",
            depends_on=[self.metastore],
        )
        return {
            layer: ExternalLocation(
                self, f"Location{layer.title()}",
                name=f"{job_name}-{layer}",
                url=f"abfss://{layer}@{lake_account_name}.dfs.core.windows.net/",
                credential_name=credential.name,
                comment=f"The lake's {layer} layer.",
            )
            for layer in layers
        }

    def _cluster_policies(self, job_name: str, compute: Databricks) -> ClusterPolicy:
        """The job clusters' policy (returned) and the one for clusters users start by hand."""
        job_policy_ = ClusterPolicy(
            self, "JobPolicy", name=f"{job_name}-jobs", definition=json.dumps(job_policy(compute), sort_keys=True),
            description="Prep job clusters: pinned runtime, allowed node type, autoscaling ceiling.",
        )
        ClusterPolicy(
            self, "InteractivePolicy", name=f"{job_name}-interactive", max_clusters_per_user=1,
            definition=json.dumps(interactive_policy(compute), sort_keys=True),
            description="Clusters users start: small, dedicated, encrypted, shut down when idle.",
        )
        return job_policy_

    def _job(
        self, job_name: str, compute: Databricks, *, policy_id: str, lake_account_name: str,
        tags: Mapping[str, str], depends_on: Sequence[TerraformResource],
    ) -> Job:
        lake_root = f"abfss://{{layer}}@{lake_account_name}.dfs.core.windows.net"
        return Job(
            self, "PrepJob",
            name=job_name,
            description="Medallion prep on Spark: landed feeds and captured events -> bronze -> silver -> gold.",
            max_concurrent_runs=1,  # two runs would race for the same landed files
            tags=dict(tags),
            timeout_seconds=4 * 3600,
            job_cluster=[JobJobCluster(
                job_cluster_key="prep",
                new_cluster=JobJobClusterNewCluster(
                    spark_version=compute.runtime,
                    node_type_id=compute.node_type,
                    autoscale=JobJobClusterNewClusterAutoscale(
                        min_workers=compute.min_workers, max_workers=compute.max_workers),
                    policy_id=policy_id,
                    apply_policy_default_values=True,
                    data_security_mode="SINGLE_USER",
                    enable_local_disk_encryption=True,
                    azure_attributes=JobJobClusterNewClusterAzureAttributes(availability="ON_DEMAND_AZURE"),
                    spark_env_vars={"CARPRICE_PREP_ENGINE": "spark"},
                    custom_tags=dict(tags),
                ),
            )],
            task=[JobTask(
                task_key="prep",
                job_cluster_key="prep",
                spark_python_task=JobTaskSparkPythonTask(
                    python_file=f"{CODE_ROOT}/{JOB_ENTRY}", source="WORKSPACE",
                    parameters=["--lake-root", lake_root],
                ),
                library=[JobTaskLibrary(pypi=JobTaskLibraryPypi(package=pinned(p))) for p in JOB_PACKAGES],
                max_retries=1,
                min_retry_interval_millis=5 * 60 * 1000,
            )],
            depends_on=list(depends_on),
        )
