"""The compute sections of an environment file: the ML tier, the AKS inference cluster, the pipeline agents' pool,
Spark prep on Azure Databricks and the function app.

Validated with the rest of the environment (stacks/config.py); a bad value names the file and the key.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from stacks.config_section import Section


class MlTier(Section):
    compute_vm_size: str
    compute_max_nodes: int = Field(ge=1)
    container_registry_sku: Literal["Basic", "Standard", "Premium"]


_UUID = r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$"
# Standard_<family><vCPUs><features>_v<generation>, e.g. Standard_D4ds_v5 (family D, 4 vCPUs, features "ds", v5).
_VM_SIZE = re.compile(r"^Standard_([A-Z]+)(\d+)(?:-\d+)?([a-z]*)(?:_v(\d+))?$")


def local_disk_gib(vm_size: str) -> float | None:
    """The local temp disk an ephemeral OS disk can live on: 0 when the size has none, None when unknown.

    From generation 4 on, only sizes with a "d" feature letter have a local temp disk (Dsv5 has none, Ddsv5
    has one); the D/E "d" sizes of v4 and v5 give it 37.5 GiB per vCPU (D2ds_v5: 75 GiB, D4ds_v5: 150 GiB).
    """
    match = _VM_SIZE.match(vm_size)
    if match is None:
        return None
    family, vcpus, features, generation = match.group(1), int(match.group(2)), match.group(3), match.group(4)
    if generation is None or int(generation) < 4:
        return None  # earlier generations carry a temp disk; its size varies by series
    if "d" not in features:
        return 0
    if family in ("D", "E") and int(generation) in (4, 5):
        return 37.5 * vcpus
    return None


class InferenceTls(Section):
    """HTTPS for the Azure ML inference router: the name clients call, and the certificate that proves it."""

    cname: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
    # A certificate (PEM, with its private key) the platform team imported into the environment's Key Vault.
    key_vault_certificate: str = Field(pattern=r"^[0-9a-zA-Z-]{1,127}$")


class Aks(Section):
    kubernetes_version: str | None = None
    # Declared before the sizes: the size validators read it.
    os_disk_type: Literal["Ephemeral", "Managed"] = "Ephemeral"
    os_disk_size_gb: int = Field(default=64, ge=30, le=2048)
    system_vm_size: str
    system_node_min: int = Field(ge=1)
    system_node_max: int = Field(ge=1)
    user_vm_size: str
    user_node_min: int = Field(ge=0)
    user_node_max: int = Field(ge=1)
    sku_tier: Literal["Free", "Standard", "Premium"]
    # Availability zones of every node pool; empty: no zone pinning (regions without zones, cheap dev).
    zones: tuple[Literal["1", "2", "3"], ...] = ()
    # The API server has a private endpoint only; Azure ML and kubectl (`az aks command invoke`) still reach it.
    private_cluster: bool = True
    # A public API server admits these besides network.allowed_ip_ranges. Azure ML's control plane must reach
    # it: list the AzureMachineLearning service-tag ranges of the region and its pair.
    azureml_control_plane_ip_ranges: tuple[str, ...] = ()
    # Entra groups granted "Azure Kubernetes Service RBAC Cluster Admin"; empty: the deploying principal.
    admin_group_object_ids: tuple[str, ...] = ()
    # None: the inference router speaks HTTP on an internal load balancer only (reachable inside the network).
    inference_tls: InferenceTls | None = None
    # The inference router's fixed internal load-balancer address, inside network.aks_subnet; the scoring name
    # resolves to it. None: the subnet's last usable address (Azure CNI hands node and pod addresses out from
    # the bottom of the subnet, so the top is the one least likely to be taken).
    inference_router_ip: str | None = None

    @field_validator("inference_router_ip")
    @classmethod
    def _router_ip(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_address(value)
        return value

    @field_validator("system_vm_size", "user_vm_size")
    @classmethod
    def _fits_ephemeral_os_disk(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("os_disk_type") != "Ephemeral":
            return value
        local = local_disk_gib(value)
        if local == 0:
            raise ValueError(
                f"{value} has no local temp disk, so it cannot hold an ephemeral OS disk: pick a size with a "
                "'d' (e.g. Standard_D4ds_v5) or set aks.os_disk_type: Managed"
            )
        size = info.data.get("os_disk_size_gb", 64)
        if local is not None and local < size:
            raise ValueError(
                f"{value} has a {local:g} GiB temp disk, smaller than aks.os_disk_size_gb {size}: "
                "pick a larger size or a smaller ephemeral OS disk"
            )
        return value

    @field_validator("admin_group_object_ids")
    @classmethod
    def _object_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for object_id in value:
            if not re.fullmatch(_UUID, object_id):
                raise ValueError(f"'{object_id}' is not an Entra object id (a lowercase GUID)")
        return value

    @field_validator("azureml_control_plane_ip_ranges")
    @classmethod
    def _ranges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            ipaddress.ip_network(cidr)
        return value

    @model_validator(mode="after")
    def _azureml_reaches_the_api_server(self) -> Aks:
        if not self.private_cluster and not self.azureml_control_plane_ip_ranges:
            raise ValueError(
                "private_cluster: false needs azureml_control_plane_ip_ranges (the AzureMachineLearning "
                "service-tag ranges of the region and its pair), or Azure ML cannot deploy to the cluster"
            )
        return self

    @property
    def inference_router_ha(self) -> bool:
        """Three router replicas need three nodes that stay up: the user pool's minimum decides."""
        return self.user_node_min >= 3


class AgentPool(Section):
    """Pipeline agents inside the network (a Managed DevOps Pool), created by `make bootstrap` before the foundation.

    The pool lives in its own virtual network (the environment's does not exist yet at bootstrap), which the
    foundation peers with the environment's network and links to its private DNS zones.
    """

    organization_url: str = Field(pattern=r"^https://dev\.azure\.com/[A-Za-z0-9-]+$")
    projects: tuple[str, ...] = Field(min_length=1)
    address_space: str
    subnet: str
    vm_size: str = "Standard_D4ads_v5"
    max_agents: int = Field(default=4, ge=1, le=100)
    image: str = "ubuntu-24.04"
    # Object id of the "DevOpsInfrastructure" service principal (it joins agents to the subnet). Leave it out:
    # `make bootstrap` looks it up once registering Microsoft.DevOpsInfrastructure has created it.
    devops_infrastructure_principal_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")

    @model_validator(mode="after")
    def _subnet_inside(self) -> AgentPool:
        if not ipaddress.ip_network(self.subnet).subnet_of(ipaddress.ip_network(self.address_space)):  # type: ignore[arg-type]
            raise ValueError(f"subnet {self.subnet} is outside address_space {self.address_space}")
        # Every agent takes an address; Azure reserves five per subnet (Managed DevOps Pools networking).
        if ipaddress.ip_network(self.subnet).num_addresses - 5 < self.max_agents:
            raise ValueError(f"subnet {self.subnet} has too few addresses for max_agents {self.max_agents}")
        return self


class Databricks(Section):
    """Medallion prep on Apache Spark in Azure Databricks (stacks/databricks.py): a VNet-injected workspace and a
    job the factory runs after each ingest. Leave the block out and prep runs on the single-node engine only."""

    # The two subnets the workspace is injected into (delegated to Microsoft.Databricks/workspaces); each
    # cluster node takes one address in each, and Azure keeps 5 per subnet ("Deploy Azure Databricks in your
    # Azure virtual network", Microsoft Learn: /26 at least).
    host_subnet: str
    container_subnet: str
    # The Databricks Runtime the job pins: 17.3 LTS is Apache Spark 4.0.0 (the pyspark the tests pin).
    runtime: str = Field(default="17.3.x-scala2.13", pattern=r"^\d+\.\d+\.x-scala2\.1[23]$")
    node_type: str = Field(pattern=r"^Standard_[A-Za-z0-9_]+$")
    min_workers: int = Field(default=1, ge=1)
    max_workers: int = Field(ge=1, le=64)
    # The cluster policies' ceiling for interactive clusters (workers) and their idle shutdown.
    interactive_max_workers: int = Field(default=2, ge=1, le=16)
    autotermination_minutes: int = Field(default=30, ge=10, le=120)
    # This tenant's object id of the AzureDatabricks first-party application (application id
    # 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d): the control plane encrypts notebooks, secrets and queries with the
    # platform's key through it, so it gets wrap/unwrap on the vault. Look it up once:
    # az ad sp show --id 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query id -o tsv
    azure_databricks_object_id: str = Field(pattern=_UUID)

    @field_validator("host_subnet", "container_subnet")
    @classmethod
    def _at_least_26(cls, value: str) -> str:
        if ipaddress.ip_network(value).prefixlen > 26:
            raise ValueError(f"{value} is smaller than /26, the smallest subnet Azure Databricks accepts")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> Databricks:
        if self.min_workers > self.max_workers:
            raise ValueError(f"min_workers {self.min_workers} is above max_workers {self.max_workers}")
        if ipaddress.ip_network(self.host_subnet).overlaps(ipaddress.ip_network(self.container_subnet)):
            raise ValueError("host_subnet and container_subnet overlap")
        return self


class Functions(Section):
    # The Entra ID app registration that represents the pricing API: App Service Authentication admits
    # only tokens issued for it (the `price` function itself is anonymous and has no keys).
    api_client_id: str = Field(pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
    maximum_instance_count: int = Field(default=40, ge=1, le=1000)
    instance_memory_mb: Literal[512, 2048, 4096] = 2048
    scoring_mode: Literal["local", "remote"] = "local"  # ONNX in-process, or the Azure ML online endpoint
