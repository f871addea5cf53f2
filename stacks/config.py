"""Environment configuration: one YAML file per environment, validated once into typed values.

Everything that differs between environments lives in `stacks/environments/<name>.yaml`;
constructs and stacks receive these typed objects and never read files themselves.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stacks.genai_config import GenAi

ENVIRONMENTS_DIR = Path(__file__).parent / "environments"
REQUIRED_TAGS = ("environment", "owner", "cost-center", "managed-by")


ZERO_GUID = "00000000-0000-0000-0000-000000000000"


class ConfigError(Exception):
    """A config file is missing, unreadable or invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class StateBackend(_Strict):
    """Where Terraform keeps state: a local folder offline, or an Azure storage container (Entra ID auth)."""

    kind: Literal["local", "azurerm"]
    resource_group: str | None = None
    storage_account: str | None = None
    container: str = "tfstate"
    location: str | None = None

    @model_validator(mode="after")
    def _azurerm_needs_account(self) -> StateBackend:
        if self.kind == "azurerm" and not (self.resource_group and self.storage_account):
            raise ValueError("kind 'azurerm' needs resource_group and storage_account")
        return self


def _check_inside(model: BaseModel, address_space: str, names: tuple[str, ...]) -> None:
    space = ipaddress.ip_network(address_space)
    for name in names:
        prefix = getattr(model, name)
        if prefix is not None and not ipaddress.ip_network(prefix).subnet_of(space):  # type: ignore[arg-type]
            raise ValueError(f"{name} {prefix} is outside address_space {address_space}")


class RegionalNetwork(_Strict):
    """The network of an app region other than the primary one, peered to the primary: the app's integration
    subnet, the region's own private endpoints (what the region's app uses: Cosmos DB, Key Vault, its web app),
    and, where the web tier is private, the region's Application Gateway."""

    address_space: str
    app_subnet: str
    private_endpoint_subnet: str
    gateway_subnet: str | None = None  # required when private_networking is on

    @model_validator(mode="after")
    def _subnet_inside(self) -> RegionalNetwork:
        _check_inside(self, self.address_space, ("app_subnet", "private_endpoint_subnet", "gateway_subnet"))
        return self


class Network(_Strict):
    address_space: str
    app_subnet: str
    private_endpoint_subnet: str
    aks_subnet: str
    ml_subnet: str
    # Delegated to Microsoft.App/environments: the Flex Consumption function app's outbound integration.
    functions_subnet: str
    # The Application Gateway (WAF) of the primary region; required when private_networking is on.
    # Microsoft recommends a /24 for v2 gateways (up to 125 instances), at least a /26.
    gateway_subnet: str | None = None
    # Public IP ranges allowed through resource firewalls when private_networking is off (dev laptops).
    allowed_ip_ranges: tuple[str, ...] = ()
    # One entry per app region other than the primary `location`.
    regions: dict[str, RegionalNetwork] = Field(default_factory=dict)

    @field_validator(
        "address_space", "app_subnet", "private_endpoint_subnet", "aks_subnet", "ml_subnet", "functions_subnet"
    )
    @classmethod
    def _cidr(cls, value: str) -> str:
        ipaddress.ip_network(value)
        return value

    @model_validator(mode="after")
    def _subnets_inside(self) -> Network:
        _check_inside(
            self, self.address_space,
            ("app_subnet", "private_endpoint_subnet", "aks_subnet", "ml_subnet", "gateway_subnet", "functions_subnet"),
        )
        return self


class Budget(_Strict):
    amount: float = Field(gt=0)
    contact_emails: tuple[str, ...] = Field(min_length=1)
    thresholds_percent: tuple[int, ...] = (50, 80, 100)
    # First day of a month (Cost Management requires it), no earlier than the month of the first deploy.
    # Leave it out to start in the month of the first deploy (derived when applied).
    start_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-01$")


class AppTier(_Strict):
    sku: str
    worker_count: int = Field(ge=1)
    staging_slot: bool
    zone_redundant: bool = False


class MlTier(_Strict):
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


class InferenceTls(_Strict):
    """HTTPS for the Azure ML inference router: the name clients call, and the certificate that proves it."""

    cname: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
    # A certificate (PEM, with its private key) the platform team imported into the environment's Key Vault.
    key_vault_certificate: str = Field(pattern=r"^[0-9a-zA-Z-]{1,127}$")


class Aks(_Strict):
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


class Cosmos(_Strict):
    serverless: bool
    max_throughput: int = Field(default=1000, ge=1000)  # autoscale RU/s ceiling when provisioned


class Edge(_Strict):
    routing: Literal["Performance", "Priority"]
    # Private web tier only: the name users type (a CNAME to the Traffic Manager profile) and the Key Vault
    # secret id of its PFX certificate (versionless, so renewals roll out). Without them, each gateway
    # serves a self-signed certificate for the Traffic Manager name (README: "Custom domain").
    custom_domain: str | None = Field(default=None, pattern=r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
    certificate_secret_id: str | None = Field(
        default=None, pattern=r"^https://[a-z0-9-]+\.vault\.azure\.net/(secrets|certificates)/[A-Za-z0-9-]+/?$"
    )
    # A private web tier without a domain of its own serves Key Vault's self-signed certificate for the Traffic
    # Manager name, and every browser warns: only with this explicit opt-out (first deploys, test environments).
    self_signed_certificate: bool = False
    gateway_min_capacity: int = Field(default=1, ge=0, le=100)  # application_gateway autoscale ranges
    gateway_max_capacity: int = Field(default=10, ge=2, le=125)

    @model_validator(mode="after")
    def _domain_with_certificate(self) -> Edge:
        if (self.custom_domain is None) != (self.certificate_secret_id is None):
            raise ValueError("custom_domain and certificate_secret_id go together: set both or neither")
        return self


class AgentPool(_Strict):
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


class FeedSource(_Strict):
    """Where dealer feed files come from. Only a landing filesystem in the lake is provisioned: an HTTP or
    SFTP feed needs a credential per dealer kept in Key Vault and an egress path from the managed network,
    which this blueprint does not build, so those types are refused instead of half-working."""

    type: Literal["landing_container", "http", "sftp"]
    folder: str = Field(default="dealer-feeds", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")

    @model_validator(mode="after")
    def _provisioned_types_only(self) -> FeedSource:
        if self.type != "landing_container":
            raise ValueError(
                f"feed source type '{self.type}' is not provisioned by this blueprint; use 'landing_container' "
                "(dealers upload into the lake's landing filesystem) or extend stacks/modules/data_factory.py"
            )
        return self


class FeedSchedule(_Strict):
    frequency: Literal["Minute", "Hour", "Day", "Week", "Month"]
    interval: int = Field(ge=1)
    start_time: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class DataFactory(_Strict):
    source: FeedSource
    schedule: FeedSchedule
    customer_managed_key: bool = False  # encrypt the factory's definitions with the Key Vault storage key


class Databricks(_Strict):
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


class Functions(_Strict):
    # The Entra ID app registration that represents the pricing API: App Service Authentication admits
    # only tokens issued for it (the `price` function itself is anonymous and has no keys).
    api_client_id: str = Field(pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
    maximum_instance_count: int = Field(default=40, ge=1, le=1000)
    instance_memory_mb: Literal[512, 2048, 4096] = 2048
    scoring_mode: Literal["local", "remote"] = "local"  # ONNX in-process, or the Azure ML online endpoint


# Key Vault secrets and certificates take at most 15 tags (azurerm `TagsWithMaximumElements(15)`,
# key_vault_secret_resource.go at v4.81.0), the tightest limit of any resource the stacks tag.
MAX_TAGS = 15


class EnvironmentConfig(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9]{1,7}$")
    workload: str = Field(pattern=r"^[a-z][a-z0-9]{1,9}$")
    subscription_id: str = Field(pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
    location: str
    app_regions: tuple[str, ...] = Field(min_length=1)
    allowed_regions: tuple[str, ...] = Field(min_length=1)
    private_networking: bool
    lock_stateful_resources: bool
    log_retention_days: int = Field(ge=30, le=730)
    network: Network
    budget: Budget
    app: AppTier
    ml: MlTier
    aks: Aks
    cosmos: Cosmos
    edge: Edge
    data_factory: DataFactory
    functions: Functions
    state_backend: StateBackend
    secrets_expire_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    # premium: the customer-managed keys for encryption at rest are HSM-protected (RSA-HSM).
    key_vault_sku: Literal["standard", "premium"] = "premium"
    tags: dict[str, str]
    agents: AgentPool | None = None  # None: the pipelines use Microsoft-hosted agents for this environment
    genai: GenAi | None = None  # None: no generative-AI tier (no `<env>-genai` stack, no assistant settings)
    databricks: Databricks | None = None  # None: prep runs on the single-node engine only (no Databricks tier)

    @model_validator(mode="after")
    def _regions_allowed(self) -> EnvironmentConfig:
        for region in (self.location, *self.app_regions):
            if region not in self.allowed_regions:
                raise ValueError(f"region '{region}' is not in allowed_regions {list(self.allowed_regions)}")
        if len(set(self.app_regions)) != len(self.app_regions):
            raise ValueError("app_regions lists a region twice")
        missing = [r for r in self.app_regions if r != self.location and r not in self.network.regions]
        if missing:
            raise ValueError(f"network.regions needs an entry for app region(s) {missing}")
        return self

    @model_validator(mode="after")
    def _private_web_tier_reachable(self) -> EnvironmentConfig:
        if not self.private_networking:
            return self
        # A private web tier is reached through one Application Gateway per app region.
        lacking = ["network.gateway_subnet"] if self.network.gateway_subnet is None else []
        lacking += [
            f"network.regions.{region}.gateway_subnet"
            for region, regional in self.network.regions.items() if regional.gateway_subnet is None
        ]
        if lacking:
            raise ValueError(f"private_networking needs {', '.join(lacking)} (the WAF gateways' subnets)")
        if self.edge.custom_domain is None and not self.edge.self_signed_certificate:
            raise ValueError(
                "edge.custom_domain and edge.certificate_secret_id are required for a private web tier (the "
                "gateways serve that name and certificate); to serve a self-signed certificate for the Traffic "
                "Manager name instead (browsers warn), set edge.self_signed_certificate: true"
            )
        return self

    @model_validator(mode="after")
    def _address_spaces_fit(self) -> EnvironmentConfig:
        if self.agents and ipaddress.ip_network(self.agents.address_space).overlaps(
            ipaddress.ip_network(self.network.address_space)
        ):
            raise ValueError("agents.address_space overlaps network.address_space (they are peered)")
        if self.databricks:
            _check_inside(self.databricks, self.network.address_space, ("host_subnet", "container_subnet"))
        return self

    @model_validator(mode="after")
    def _required_tags(self) -> EnvironmentConfig:
        missing_tags = [t for t in ("owner", "cost-center") if t not in self.tags]
        if missing_tags:
            raise ValueError(f"tags must include {missing_tags}")
        if len(self.all_tags) > MAX_TAGS:
            raise ValueError(
                f"tags: at most {MAX_TAGS - (len(self.all_tags) - len(self.tags))} entries (every resource also gets "
                f"'environment' and 'managed-by', and Key Vault secrets take at most {MAX_TAGS} tags)"
            )
        return self

    @model_validator(mode="after")
    def _genai_region_allowed(self) -> EnvironmentConfig:
        if self.genai and self.genai.location and self.genai.location not in self.allowed_regions:
            raise ValueError(
                f"genai.location '{self.genai.location}' is not in allowed_regions {list(self.allowed_regions)}"
            )
        return self

    @model_validator(mode="after")
    def _router_ip_in_aks_subnet(self) -> EnvironmentConfig:
        subnet = ipaddress.ip_network(self.network.aks_subnet)
        ip = self.aks.inference_router_ip
        # Azure reserves the first four addresses and the last one of every subnet.
        if ip is not None and (ipaddress.ip_address(ip) not in subnet or not (
            int(subnet.network_address) + 4 <= int(ipaddress.ip_address(ip)) < int(subnet.broadcast_address)
        )):
            raise ValueError(
                f"aks.inference_router_ip {ip} must be a usable address of network.aks_subnet {subnet} "
                "(Azure reserves the first four and the last)"
            )
        return self

    @property
    def genai_location(self) -> str:
        """The Azure OpenAI account's region: `genai.location`, else the environment's primary region."""
        return (self.genai.location if self.genai else None) or self.location

    @property
    def inference_router_ip(self) -> str:
        """The inference router's internal load-balancer address (`aks.inference_router_ip`)."""
        subnet = ipaddress.ip_network(self.network.aks_subnet)
        return self.aks.inference_router_ip or str(subnet.broadcast_address - 1)

    @property
    def scoring_host(self) -> str:
        """The name callers use for real-time scoring: the router's TLS name, or one under `.internal` (a
        top-level domain reserved for private use) when the router speaks HTTP inside the network."""
        tls = self.aks.inference_tls
        return tls.cname if tls else f"scoring.{self.name}.{self.workload}.internal"

    @property
    def all_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries: the file's tags plus the required ones."""
        return {**self.tags, "environment": self.name, "managed-by": "cdktn"}

    @property
    def primary_region(self) -> str:
        return self.location

    def with_local_state(self) -> EnvironmentConfig:
        """The same environment with state kept on this machine (.terraform-state/), for offline use."""
        return self.model_copy(update={"state_backend": StateBackend(kind="local")})


def _describe(error: dict) -> str:  # type: ignore[type-arg]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"key '{key}': unknown key (not part of the environment schema)"
    if kind == "missing":
        return f"key '{key}': required value is missing"
    return f"key '{key}': {error['msg']}"


def load_environment(path: Path) -> EnvironmentConfig:
    """Read and validate one environment file; raise ConfigError naming the file and each bad key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read environment file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    placeholders = _all_zero_guids(raw)
    if placeholders:
        raise ConfigError(f"{path}: placeholder GUID (all zeros) in " + ", ".join(f"key '{k}'" for k in placeholders)
                          + ": put the real id there, or leave devops_infrastructure_principal_id out "
                          "(make bootstrap looks it up)")
    try:
        config = EnvironmentConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "\n  ".join(_describe(err) for err in exc.errors())  # type: ignore[arg-type]
        raise ConfigError(f"{path}: invalid environment config\n  {problems}") from None
    if config.name != path.stem:
        raise ConfigError(f"{path}: key 'name': '{config.name}' must match the file name '{path.stem}'")
    return config


def _all_zero_guids(node: Any, where: str = "") -> list[str]:
    """Dotted keys whose value is the all-zero GUID, a placeholder that passes every GUID pattern."""
    if isinstance(node, dict):
        return [k for key, value in node.items()
                for k in _all_zero_guids(value, f"{where}.{key}" if where else str(key))]
    if isinstance(node, list):
        return [k for i, value in enumerate(node) for k in _all_zero_guids(value, f"{where}[{i}]")]
    return [where] if isinstance(node, str) and node.strip().lower() == ZERO_GUID else []


def environment_names(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_environments(names: list[str] | None = None, directory: Path = ENVIRONMENTS_DIR) -> list[EnvironmentConfig]:
    available = environment_names(directory)
    wanted = names or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ConfigError(f"{directory}: no environment file for {unknown}; available: {available}")
    return [load_environment(directory / f"{name}.yaml") for name in wanted]
