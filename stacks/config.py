"""Environment configuration: one YAML file per environment, validated once into typed values.

Everything that differs between environments lives in `stacks/environments/<name>.yaml`;
constructs and stacks receive these typed objects and never read files themselves.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from stacks.compute_config import AgentPool, Aks, Databricks, Functions, MlTier
from stacks.config_section import Section
from stacks.genai_config import GenAi

ENVIRONMENTS_DIR = Path(__file__).parent / "environments"
REQUIRED_TAGS = ("environment", "owner", "cost-center", "managed-by")


ZERO_GUID = "00000000-0000-0000-0000-000000000000"


class ConfigError(Exception):
    """A config file is missing, unreadable or invalid; the message names the file and the key."""


class StateBackend(Section):
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


class RegionalNetwork(Section):
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


class Network(Section):
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


class Budget(Section):
    amount: float = Field(gt=0)
    contact_emails: tuple[str, ...] = Field(min_length=1)
    thresholds_percent: tuple[int, ...] = (50, 80, 100)
    # First day of a month (Cost Management requires it), no earlier than the month of the first deploy.
    # Leave it out to start in the month of the first deploy (derived when applied).
    start_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-01$")


class AppTier(Section):
    sku: str
    worker_count: int = Field(ge=1)
    staging_slot: bool
    zone_redundant: bool = False


class Cosmos(Section):
    serverless: bool
    max_throughput: int = Field(default=1000, ge=1000)  # autoscale RU/s ceiling when provisioned


class Edge(Section):
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


class FeedSource(Section):
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


class FeedSchedule(Section):
    frequency: Literal["Minute", "Hour", "Day", "Week", "Month"]
    interval: int = Field(ge=1)
    start_time: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class DataFactory(Section):
    source: FeedSource
    schedule: FeedSchedule
    customer_managed_key: bool = False  # encrypt the factory's definitions with the Key Vault storage key


# Key Vault secrets and certificates take at most 15 tags (azurerm `TagsWithMaximumElements(15)`,
# key_vault_secret_resource.go at v4.81.0), the tightest limit of any resource the stacks tag.
MAX_TAGS = 15


class EnvironmentConfig(Section):
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
