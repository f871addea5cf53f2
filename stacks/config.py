"""Environment configuration: one YAML file per environment, validated once into typed values.

Everything that differs between environments lives in `stacks/environments/<name>.yaml`;
constructs and stacks receive these typed objects and never read files themselves.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ENVIRONMENTS_DIR = Path(__file__).parent / "environments"
REQUIRED_TAGS = ("environment", "owner", "cost-center", "managed-by")


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


class RegionalNetwork(_Strict):
    """The network of an app region other than the primary one: app integration only, peered to the primary."""

    address_space: str
    app_subnet: str

    @model_validator(mode="after")
    def _subnet_inside(self) -> RegionalNetwork:
        if not ipaddress.ip_network(self.app_subnet).subnet_of(ipaddress.ip_network(self.address_space)):  # type: ignore[arg-type]
            raise ValueError(f"app_subnet {self.app_subnet} is outside address_space {self.address_space}")
        return self


class Network(_Strict):
    address_space: str
    app_subnet: str
    private_endpoint_subnet: str
    aks_subnet: str
    ml_subnet: str
    # Delegated to Microsoft.App/environments: the Flex Consumption function app's outbound integration.
    functions_subnet: str
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
        space = ipaddress.ip_network(self.address_space)
        for name in ("app_subnet", "private_endpoint_subnet", "aks_subnet", "ml_subnet", "functions_subnet"):
            if not ipaddress.ip_network(getattr(self, name)).subnet_of(space):  # type: ignore[arg-type]
                raise ValueError(f"{name} {getattr(self, name)} is outside address_space {self.address_space}")
        return self


class Budget(_Strict):
    amount: float = Field(gt=0)
    contact_emails: tuple[str, ...] = Field(min_length=1)
    thresholds_percent: tuple[int, ...] = (50, 80, 100)
    start_date: str  # first day of a month, e.g. 2026-12-01 (Cost Management requires it)


class AppTier(_Strict):
    sku: str
    worker_count: int = Field(ge=1)
    staging_slot: bool
    zone_redundant: bool = False


class MlTier(_Strict):
    compute_vm_size: str
    compute_max_nodes: int = Field(ge=1)
    container_registry_sku: Literal["Basic", "Standard", "Premium"]


class Aks(_Strict):
    kubernetes_version: str | None = None
    system_vm_size: str
    system_node_min: int = Field(ge=1)
    system_node_max: int = Field(ge=1)
    user_vm_size: str
    user_node_min: int = Field(ge=0)
    user_node_max: int = Field(ge=1)
    sku_tier: Literal["Free", "Standard", "Premium"]


class Cosmos(_Strict):
    serverless: bool
    max_throughput: int = Field(default=1000, ge=1000)  # autoscale RU/s ceiling when provisioned


class Edge(_Strict):
    routing: Literal["Performance", "Priority"]


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


class FactoryGit(_Strict):
    """The repository Data Factory publishes its definitions to (Azure DevOps Repos or GitHub)."""

    kind: Literal["azure_devops", "github"]
    account_name: str = Field(min_length=1)
    repository_name: str = Field(min_length=1)
    branch_name: str = "main"
    root_folder: str = Field(default="/", pattern=r"^/")
    project_name: str | None = None  # Azure DevOps only
    tenant_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")

    @model_validator(mode="after")
    def _devops_needs_project_and_tenant(self) -> FactoryGit:
        if self.kind == "azure_devops" and not (self.project_name and self.tenant_id):
            raise ValueError("kind 'azure_devops' needs project_name and tenant_id")
        return self


class DataFactory(_Strict):
    source: FeedSource
    schedule: FeedSchedule
    git: FactoryGit | None = None
    customer_managed_key: bool = False  # encrypt the factory's definitions with the Key Vault storage key


class Functions(_Strict):
    # The Entra ID app registration that represents the pricing API: App Service Authentication admits
    # only tokens issued for it (the `price` function itself is anonymous and has no keys).
    api_client_id: str = Field(pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
    maximum_instance_count: int = Field(default=40, ge=1, le=1000)
    instance_memory_mb: Literal[512, 2048, 4096] = 2048
    scoring_mode: Literal["local", "remote"] = "local"  # ONNX in-process, or the Azure ML online endpoint


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
        if self.lock_stateful_resources and self.data_factory.git is None:
            raise ValueError(
                "data_factory.git is required when lock_stateful_resources is true (production factories publish "
                "from a repository; policy CKV_CARPRICE_11)"
            )
        missing_tags = [t for t in ("owner", "cost-center") if t not in self.tags]
        if missing_tags:
            raise ValueError(f"tags must include {missing_tags}")
        return self

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
    try:
        config = EnvironmentConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "\n  ".join(_describe(err) for err in exc.errors())  # type: ignore[arg-type]
        raise ConfigError(f"{path}: invalid environment config\n  {problems}") from None
    if config.name != path.stem:
        raise ConfigError(f"{path}: key 'name': '{config.name}' must match the file name '{path.stem}'")
    return config


def environment_names(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_environments(names: list[str] | None = None, directory: Path = ENVIRONMENTS_DIR) -> list[EnvironmentConfig]:
    available = environment_names(directory)
    wanted = names or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ConfigError(f"{directory}: no environment file for {unknown}; available: {available}")
    return [load_environment(directory / f"{name}.yaml") for name in wanted]
