"""The optional interfaces every module accepts, in the shape of Azure Verified Modules.

A module receives one `Placement` (where it lands, and its tags) and one `Interfaces` value (what it plugs into): the
network-access setting (public endpoint on or off, and from where), diagnostics to Log Analytics, private
endpoints with their private DNS zones, role assignments keyed by a stable name, a delete lock, and a
customer-managed key for encryption at rest (`customer_managed_key.py`, applied by each module that stores
data, once per resource kind). Identities travel as one `ManagedIdentity` reference (`identity.py`); every taggable
resource takes the placement's tags where it is built. `StandardInterfaces.apply` turns the endpoint,
diagnostics, grant and lock interfaces into resources, so adding one to a new resource is one argument, and
the hardened shape lives in one place. `Grants` declares the role assignments a module holds on resources it
does not build (a subnet it joins, a vault holding its key), and the wait for them to take effect: no role
assignment is declared anywhere else (tests/stacks/test_grants.py).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktn import TerraformResource
from cdktn_provider_azurerm.management_lock import ManagementLock
from cdktn_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktn_provider_azurerm.private_endpoint import (
    PrivateEndpoint,
    PrivateEndpointPrivateDnsZoneGroup,
    PrivateEndpointPrivateServiceConnection,
)
from cdktn_provider_azurerm.role_assignment import RoleAssignment as AzRoleAssignment
from cdktn_provider_time.sleep import Sleep
from constructs import Construct

from stacks.modules.customer_managed_key import CustomerManagedKey
from stacks.modules.propagation import after_grants

# Private DNS zone of each private-link sub-resource ("group id") this blueprint uses.
PRIVATE_DNS_ZONES: dict[str, tuple[str, ...]] = {
    "blob": ("privatelink.blob.core.windows.net",),
    "dfs": ("privatelink.dfs.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "queue": ("privatelink.queue.core.windows.net",),
    "table": ("privatelink.table.core.windows.net",),
    "vault": ("privatelink.vaultcore.azure.net",),
    "Sql": ("privatelink.documents.azure.com",),
    "namespace": ("privatelink.servicebus.windows.net",),
    "registry": ("privatelink.azurecr.io",),
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "sites": ("privatelink.azurewebsites.net",),
    "dataFactory": ("privatelink.datafactory.azure.net",),
    "portal": ("privatelink.adf.azure.com",),
    "sites-staging": ("privatelink.azurewebsites.net",),  # a web app's "staging" slot
    "account": ("privatelink.openai.azure.com",),  # an Azure OpenAI account (kind OpenAI)
    "searchService": ("privatelink.search.windows.net",),
    # Azure Databricks: the workspace's web app and REST API, and (one per region) browser single sign-on.
    "databricks_ui_api": ("privatelink.azuredatabricks.net",),
    "browser_authentication": ("privatelink.azuredatabricks.net",),
}
# What each app region reaches through endpoints of its own, so an outage of one region's network leaves the
# others serving: Cosmos DB, Key Vault (Key Vault references, the gateway's certificate), its web app, and the
# assistant's Azure OpenAI account and search service.
REGIONAL_SUBRESOURCES = ("Sql", "vault", "sites", "sites-staging", "account", "searchService")
# Of those, the ones of a resource shared by every region: one name must resolve to a different endpoint in
# each region, and a zone holds one answer per name, so each extra region keeps its own copy of their zones.
# A web app is regional (its own name), so every region's app records share the primary zone.
SHARED_ACROSS_REGIONS = ("Sql", "vault", "account", "searchService")


def regional_private_dns_zones() -> list[str]:
    """Zones of which every extra app region keeps its own copy (same name, its own endpoints' records)."""
    return sorted({zone for sub in SHARED_ACROSS_REGIONS for zone in PRIVATE_DNS_ZONES[sub]})


def regional_zone_ids(primary: Mapping[str, str], copies: Mapping[str, str]) -> dict[str, str]:
    """The zones an extra region's endpoints register in: its copies, and the primary zones of the other
    regional subresources."""
    shared = {zone for sub in REGIONAL_SUBRESOURCES for zone in PRIVATE_DNS_ZONES[sub]} - set(copies)
    return {**{zone: primary[zone] for zone in sorted(shared)}, **copies}


# A role assignment's key becomes part of its logical id: letters and digits only, starting upper-case.
GRANT_KEY = re.compile(r"[A-Z][A-Za-z0-9]*")
# A grant's construct id: a key, or one with a principal's object id appended ("ClusterAdmin-<object id>").
GRANT_ID = re.compile(r"[A-Z][A-Za-z0-9]*(-[0-9A-Fa-f-]+)?")
# Every role assignment and role-propagation wait declared here, so a test finds any other. Kept on the Python
# side: construct metadata would cost two round trips to Node per grant.
DECLARED: weakref.WeakSet[Construct] = weakref.WeakSet()


def all_private_dns_zones() -> list[str]:
    return sorted({zone for zones in PRIVATE_DNS_ZONES.values() for zone in zones})


@dataclass(frozen=True)
class Placement:
    """Where a module's resources land, and the tags each of them carries (AVM's `location`, `resource_group_name`
    and `tags`): the stacks pass the environment's tags (`EnvironmentConfig.all_tags`) with every placement."""

    resource_group_name: str
    location: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnostics:
    """Send logs and metrics to this Log Analytics workspace."""

    workspace_id: str


@dataclass(frozen=True)
class PrivateLink:
    """Private endpoints go into this subnet and register in these zones (zone name -> zone id).

    `location` is the subnet's region when it differs from the module's own placement.
    """

    subnet_id: str
    dns_zone_ids: Mapping[str, str]
    location: str | None = None

    def serves(self, subresource: str) -> bool:
        return all(zone in self.dns_zone_ids for zone in PRIVATE_DNS_ZONES[subresource])


@dataclass(frozen=True)
class CustomRole:
    """A role definition the stacks create, granted by its resource id (AVM `role_definition_id_or_name`)."""

    name: str
    definition_id: str  # the definition's `role_definition_resource_id`


@dataclass(frozen=True)
class RoleAssignment:
    """Grant a role on the module's resource (or on `scope_suffix` below it): a built-in role by its name, or a
    custom role where no built-in role is narrow enough."""

    principal_id: str
    role: str | CustomRole
    scope_suffix: str = ""  # e.g. "/blobServices/default/containers/gold"
    principal_type: str | None = "ServicePrincipal"  # None when it may be a user or a service principal

    @property
    def role_definition_name(self) -> str | None:
        return None if isinstance(self.role, CustomRole) else self.role

    @property
    def role_definition_id(self) -> str | None:
        return self.role.definition_id if isinstance(self.role, CustomRole) else None


@dataclass(frozen=True)
class NetworkAccess:
    """Whether the resource's public endpoint answers, and from which public IP ranges (AVM:
    `public_network_access_enabled` with `network_acls`). Closed by default: private endpoints only."""

    public: bool = False
    allowed_ip_ranges: tuple[str, ...] = ()

    @property
    def ip_rules(self) -> list[str] | None:
        """The firewall's allowed ranges: none at all while the public endpoint is off."""
        return list(self.allowed_ip_ranges) if self.public else None


@dataclass(frozen=True)
class Interfaces:
    network_access: NetworkAccess = NetworkAccess()
    diagnostics: Diagnostics | None = None
    private_link: PrivateLink | None = None  # None: no private endpoints
    # Endpoints of the other app regions, keyed by region: each gets its own endpoint to the subresources every
    # region shares (`SHARED_ACROSS_REGIONS`; AVM `private_endpoints` is a map for the same reason).
    regional_private_links: Mapping[str, PrivateLink] = field(default_factory=dict)
    # Keyed by a stable name (AVM `role_assignments` is a map): the key is the grant's construct id, so adding,
    # removing or reordering grants never replaces the others.
    role_assignments: Mapping[str, RoleAssignment] = field(default_factory=dict)
    lock: bool = False  # CanNotDelete lock, for stateful resources in production
    # Encrypt data at rest with this Key Vault key; None only where a module has nothing to encrypt.
    customer_managed_key: CustomerManagedKey | None = None


@dataclass(frozen=True)
class DiagnosticTarget:
    """A resource (or sub-resource such as a storage account's blob service) to collect from."""

    resource_id: str
    logs: bool = True
    metrics: bool = True
    label: str = ""


class Grants:
    """Role assignments declared in `scope`, each under its stable key (its construct id, so its logical id):
    adding, removing or reordering grants never replaces the others. `granted` holds every one declared, for
    whatever must wait for them (`propagated`)."""

    def __init__(self, scope: Construct) -> None:
        self._scope = scope
        self.granted: list[AzRoleAssignment] = []

    def on(self, resource_id: str, grants: Mapping[str, RoleAssignment]) -> list[AzRoleAssignment]:
        """Grant each role on `resource_id` (or on its `scope_suffix` below it)."""
        return [self._declare(key, resource_id, grant) for key, grant in grants.items()]

    def one(self, key: str, resource_id: str, grant: RoleAssignment) -> AzRoleAssignment:
        [declared] = self.on(resource_id, {key: grant})
        return declared

    def propagated(self, id_: str, grants: Sequence[TerraformResource] | None = None) -> Sleep:
        """The role-propagation wait (`propagation.after_grants`) on `grants`, or on every grant declared here."""
        wait = after_grants(self._scope, id_, list(self.granted if grants is None else grants))
        DECLARED.add(wait)
        return wait

    def _declare(self, key: str, resource_id: str, grant: RoleAssignment) -> AzRoleAssignment:
        if not GRANT_ID.fullmatch(key):
            raise ValueError(
                f"role assignment key {key!r} must be PascalCase letters and digits, optionally followed by "
                "-<object id> (a construct id)"
            )
        declared = AzRoleAssignment(
            self._scope, key,
            scope=f"{resource_id}{grant.scope_suffix}",
            role_definition_name=grant.role_definition_name,
            role_definition_id=grant.role_definition_id,
            principal_id=grant.principal_id,
            principal_type=grant.principal_type,
        )
        DECLARED.add(declared)
        self.granted.append(declared)
        return declared


class StandardInterfaces:
    """Applies a module's `Interfaces` to one Azure resource."""

    def __init__(self, scope: Construct, placement: Placement, interfaces: Interfaces) -> None:
        self._scope = scope
        self._placement = placement
        self._interfaces = interfaces
        self._grants = Grants(scope)
        self.endpoints: list[PrivateEndpoint] = []  # data-plane writes through the private network wait for these

    @property
    def granted(self) -> list[AzRoleAssignment]:
        """The interface's grants: resources that must wait for them depend on them."""
        return self._grants.granted

    def apply(
        self,
        *,
        resource_id: str,
        resource_name: str,
        private_endpoint_subresources: Sequence[str] = (),
        diagnostic_targets: Sequence[DiagnosticTarget] | None = None,
        stateful: bool = False,
    ) -> None:
        targets = diagnostic_targets if diagnostic_targets is not None else [DiagnosticTarget(resource_id)]
        self.diagnostics(targets)
        self.private_endpoints(resource_id, resource_name, private_endpoint_subresources)
        self.role_assignments(resource_id)
        if stateful:
            self.lock(resource_id, resource_name)

    def diagnostics(self, targets: Sequence[DiagnosticTarget]) -> None:
        diagnostics = self._interfaces.diagnostics
        if diagnostics is None:
            return
        for target in targets:
            suffix = f"-{target.label}" if target.label else ""
            MonitorDiagnosticSetting(
                self._scope, f"Diagnostics{target.label.title().replace('-', '')}",
                name=f"to-log-analytics{suffix}",
                target_resource_id=target.resource_id,
                log_analytics_workspace_id=diagnostics.workspace_id,
                enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group="allLogs")] if target.logs else None,
                enabled_metric=(
                    [MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")] if target.metrics else None
                ),
            )

    def private_endpoints(self, resource_id: str, resource_name: str, subresources: Sequence[str]) -> None:
        link = self._interfaces.private_link
        if link is None:
            return
        for subresource in subresources:
            self._endpoint(resource_id, resource_name, subresource, link, region_key="")
        for region, regional in self._interfaces.regional_private_links.items():
            for subresource in subresources:
                if subresource in SHARED_ACROSS_REGIONS and regional.serves(subresource):
                    self._endpoint(resource_id, resource_name, subresource, regional, region_key=region)

    def _endpoint(
        self, resource_id: str, resource_name: str, subresource: str, link: PrivateLink, region_key: str
    ) -> None:
        zone_ids = [link.dns_zone_ids[zone] for zone in PRIVATE_DNS_ZONES[subresource]]
        qualifier = f"{subresource.lower()}-{region_key}" if region_key else subresource.lower()
        name = f"pe-{resource_name}-{qualifier}"
        self.endpoints.append(PrivateEndpoint(
            self._scope, f"PrivateEndpoint{subresource.title().replace('-', '')}{region_key.title()}",
            name=name,
            location=link.location or self._placement.location,
            resource_group_name=self._placement.resource_group_name,
            tags=self._placement.tags,
            subnet_id=link.subnet_id,
            custom_network_interface_name=f"nic-{name}",
            private_service_connection=PrivateEndpointPrivateServiceConnection(
                name=f"psc-{resource_name}-{qualifier}",
                private_connection_resource_id=resource_id,
                subresource_names=[subresource],
                is_manual_connection=False,
            ),
            private_dns_zone_group=PrivateEndpointPrivateDnsZoneGroup(name="default", private_dns_zone_ids=zone_ids),
        ))

    def role_assignments(self, resource_id: str) -> None:
        for key in self._interfaces.role_assignments:
            if not GRANT_KEY.fullmatch(key):
                raise ValueError(f"role assignment key {key!r} must be PascalCase letters and digits (a construct id)")
        self._grants.on(resource_id, {
            f"RoleAssignment{key}": grant for key, grant in self._interfaces.role_assignments.items()
        })

    def data_plane_ready(self, id_: str) -> list[Sleep | PrivateEndpoint]:
        """What a data-plane write by the deployer must wait for: the private endpoints it travels through,
        and the role grants, given the propagation wait (`propagation.py`) to take effect (one per module)."""
        ready: list[Sleep | PrivateEndpoint] = list(self.endpoints)
        if self.granted:
            ready.append(self._grants.propagated(id_))
        return ready

    def lock(self, resource_id: str, resource_name: str) -> None:
        if not self._interfaces.lock:
            return
        ManagementLock(
            self._scope, "DeleteLock",
            name=f"lock-{resource_name}",
            scope=resource_id,
            lock_level="CanNotDelete",
            notes="Stateful resource: remove this lock deliberately before deleting.",
        )
