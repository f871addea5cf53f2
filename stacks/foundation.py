"""Foundation stack: what every other stack of an environment plugs into.

Resource group, monitoring, networks (primary + one per extra app region, each with its own private
endpoints and, where the web tier is private, its gateway subnet), private DNS zones (a regional copy of
the zones each extra region resolves to its own endpoints), the managed identities of the app, the ML
workspace, AKS, encryption and the gateways, the Key Vault with the customer-managed keys for encryption at
rest and the gateways' TLS certificate, and the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from cdktn_provider_azurerm.resource_group import ResourceGroup
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from contract import SETTING_APPINSIGHTS
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.modules.agent_network import AgentNetwork
from stacks.modules.budget import CostBudget
from stacks.modules.customer_managed_key import CustomerManagedKey
from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import (
    Interfaces,
    NetworkAccess,
    PrivateLink,
    RoleAssignment,
    all_private_dns_zones,
    regional_private_dns_zones,
    regional_zone_ids,
)
from stacks.modules.key_vault import KeyVault
from stacks.modules.monitoring import Monitoring
from stacks.modules.network import GATEWAY_INBOUND, Network, PrivateDnsZones, SubnetSpec

APP_SUBNET = "app"
PRIVATE_ENDPOINT_SUBNET = "private-endpoints"
AKS_SUBNET = "aks"
ML_SUBNET = "ml"
FUNCTIONS_SUBNET = "functions"
GATEWAY_SUBNET = "gateway"
DATABRICKS_HOST_SUBNET = "databricks-host"
DATABRICKS_CONTAINER_SUBNET = "databricks-container"
GATEWAY_CERTIFICATE = "web-tls"  # the self-signed certificate's name when the environment brings none
APPINSIGHTS_SECRET = SETTING_APPINSIGHTS.lower().replace("_", "-")
# One customer-managed key per kind of data at rest, so each can be rotated or revoked on its own.
EncryptionKey = Literal["storage", "cosmos", "disks"]
ENCRYPTION_KEYS: tuple[EncryptionKey, ...] = get_args(EncryptionKey)


class FoundationStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, "foundation", config=config)
        self.resource_group = ResourceGroup(
            self, "ResourceGroup", name=self.resource_group_name, location=config.location, tags=self.tags
        )
        self._monitoring(config)
        networks, linked = self._networks(config)
        self._private_dns(config, networks, linked)
        self._identities(config)
        self._key_vault(config)
        self.gateway_certificate_secret_id = self._gateway_certificate()
        self._budget(config)

    def _monitoring(self, config: EnvironmentConfig) -> None:
        self.monitoring = Monitoring(
            self, "Monitoring", placement=self.placement(),
            workspace_name=self.namer.name("log_analytics"),
            insights_name=self.namer.name("application_insights"),
            retention_days=config.log_retention_days,
        )
        self.monitoring.node.add_dependency(self.resource_group)
        self.diagnostics = self.monitoring.diagnostics

    def _networks(self, config: EnvironmentConfig) -> tuple[dict[str, Network], dict[str, str]]:
        """The primary network and one per extra app region (peered to it), by region; and their virtual
        network ids, keyed "primary" and by extra region."""
        net = config.network
        # The environment's one network-access setting, applied by every module through its interfaces.
        self.network_access = NetworkAccess(
            public=not config.private_networking, allowed_ip_ranges=tuple(net.allowed_ip_ranges)
        )
        self.network = Network(
            self, "Network", placement=self.placement(), namer=self.namer, address_space=net.address_space,
            subnets=[
                SubnetSpec(APP_SUBNET, net.app_subnet, delegation="Microsoft.Web/serverFarms"),
                SubnetSpec(PRIVATE_ENDPOINT_SUBNET, net.private_endpoint_subnet),
                SubnetSpec(AKS_SUBNET, net.aks_subnet),
                SubnetSpec(ML_SUBNET, net.ml_subnet),
                # Flex Consumption integrates through a subnet delegated to Container Apps environments.
                SubnetSpec(FUNCTIONS_SUBNET, net.functions_subnet, delegation="Microsoft.App/environments"),
                *self._gateway_subnet(net.gateway_subnet),
                *self._databricks_subnets(config),
            ],
        )
        self.network.node.add_dependency(self.resource_group)
        # Each app region's subnets; extra regions get their own network, peered to the primary one.
        networks = {config.location: self.network}
        linked = {"primary": self.network.vnet_id}
        for region, regional in net.regions.items():
            key = region.title()
            regional_net = Network(
                self, f"Network{key}", placement=self.placement(region), namer=self.namer,
                address_space=regional.address_space,
                subnets=[
                    SubnetSpec(APP_SUBNET, regional.app_subnet, delegation="Microsoft.Web/serverFarms"),
                    SubnetSpec(PRIVATE_ENDPOINT_SUBNET, regional.private_endpoint_subnet),
                    *self._gateway_subnet(regional.gateway_subnet),
                ],
            )
            regional_net.node.add_dependency(self.resource_group)
            self.network.peer_with(regional_net, key, self.resource_group_name)
            networks[region] = regional_net
            linked[region] = regional_net.vnet_id
        self.app_subnet_ids = {region: network.subnet_ids[APP_SUBNET] for region, network in networks.items()}
        self.vnet_ids = dict(linked)  # "primary" and each extra app region: where the platform's callers run
        self.gateway_subnet_ids = {
            region: network.subnet_ids[GATEWAY_SUBNET] for region, network in networks.items()
            if GATEWAY_SUBNET in network.subnet_ids
        }
        return networks, linked

    def _private_dns(self, config: EnvironmentConfig, networks: dict[str, Network], linked: dict[str, str]) -> None:
        net = config.network
        # Private endpoints in every environment: apps reach data stores privately even in dev, where the
        # public endpoints stay open only to `allowed_ip_ranges` for developers' laptops.
        zones = PrivateDnsZones(
            self, "PrivateDns", placement=self.placement(), zones=all_private_dns_zones(), linked_networks=linked,
            own_copy_zones=regional_private_dns_zones(), own_copy_networks=list(net.regions),
        )
        zones.node.add_dependency(self.resource_group)
        self.private_link = PrivateLink(
            subnet_id=self.network.subnet_ids[PRIVATE_ENDPOINT_SUBNET], dns_zone_ids=zones.zone_ids,
            location=config.location,
        )
        self.private_links: dict[str, PrivateLink] = {config.location: self.private_link}
        for region in net.regions:
            self.private_links[region] = self._regional_private_link(
                region, networks[region], linked[region], zones.zone_ids
            )
        self.subnet_ids = dict(self.network.subnet_ids)
        self.agent_network = self._agent_network(config, zones, networks) if config.agents else None

    def _identities(self, config: EnvironmentConfig) -> None:
        self.identities = {
            role: ManagedIdentity.of(UserAssignedIdentity(
                self, f"Identity{role.title()}",
                name=self.namer.name("user_identity", role),
                location=config.location,
                resource_group_name=self.resource_group_name,
                tags=self.tags,
                depends_on=[self.resource_group],
            ))
            # "encryption": the identity storage, Cosmos DB and disk encryption sets reach the keys with;
            # "gateway": the Application Gateways read their TLS certificate with it.
            for role in ("app", "ml", "aks", "encryption", *(("gateway",) if self.gateway_subnet_ids else ()))
        }

        # The web apps (every region shares the app identity) send their telemetry with it.
        self.monitoring.allow_telemetry_from("App", self.identities["app"].principal_id)

    def _key_vault(self, config: EnvironmentConfig) -> None:
        """The vault of the platform's secrets, customer-managed keys and the gateways' certificate."""
        self.key_vault = KeyVault(
            self, "KeyVault", placement=self.placement(),
            interfaces=self.interfaces(
                lock=config.lock_stateful_resources,
                role_assignments={
                    # The deploying principal writes the secrets below; the app only reads them.
                    "DeployerSecretsOfficer": RoleAssignment(
                        self.client.object_id, "Key Vault Secrets Officer", principal_type=None
                    ),
                    "AppSecretsUser": RoleAssignment(self.identities["app"].principal_id, "Key Vault Secrets User"),
                    # The deployer creates the keys and their rotation policies; services only wrap and unwrap.
                    "DeployerCryptoOfficer": RoleAssignment(
                        self.client.object_id, "Key Vault Crypto Officer", principal_type=None
                    ),
                    "EncryptionCryptoUser": RoleAssignment(
                        self.identities["encryption"].principal_id, "Key Vault Crypto Service Encryption User"
                    ),
                    **self._gateway_certificate_grants(),
                },
            ),
            name=self.namer.name("key_vault"),
            sku=config.key_vault_sku,
            tenant_id=self.client.tenant_id,
            deployer_route=self.agent_network.ready if self.agent_network else (),
        )
        self.key_vault.node.add_dependency(self.resource_group)
        # The app reads its telemetry connection string through a Key Vault reference, not a plain setting.
        self.appinsights_secret = self.key_vault.add_secret(
            "AppInsightsConnectionString",
            name=APPINSIGHTS_SECRET,
            value=self.monitoring.insights.connection_string,
            expires_on=config.secrets_expire_on,
            content_type="text/plain; application insights connection string",
        )

        self.encryption_keys = {
            purpose: self.key_vault.add_key(f"Key{purpose.title()}", name=f"cmk-{purpose}")
            for purpose in ENCRYPTION_KEYS
        }
        # Built once per purpose: each read of a key's references is a round trip to Node.
        self._customer_managed_keys = {
            purpose: CustomerManagedKey(
                key_vault_resource_id=self.key_vault.resource_id, key_name=key.name,
                key_versionless_id=key.versionless_id, user_assigned_identity=self.identities["encryption"],
            )
            for purpose, key in self.encryption_keys.items()
        }

    def _budget(self, config: EnvironmentConfig) -> None:
        CostBudget(
            self, "Budget",
            name=self.namer.name("budget"),
            resource_group_id=self.resource_group.id,
            amount=config.budget.amount,
            thresholds_percent=config.budget.thresholds_percent,
            contact_emails=config.budget.contact_emails,
            start_date=config.budget.start_date,
        )

    def _gateway_subnet(self, prefix: str | None) -> list[SubnetSpec]:
        if prefix is None:
            return []
        return [SubnetSpec(GATEWAY_SUBNET, prefix, inbound=GATEWAY_INBOUND, default_outbound_access=True)]

    def _databricks_subnets(self, config: EnvironmentConfig) -> list[SubnetSpec]:
        """The Databricks workspace's host and container subnets (VNet injection), when the environment has one."""
        if config.databricks is None:
            return []
        delegation = "Microsoft.Databricks/workspaces"
        return [SubnetSpec(DATABRICKS_HOST_SUBNET, config.databricks.host_subnet, delegation=delegation),
                SubnetSpec(DATABRICKS_CONTAINER_SUBNET, config.databricks.container_subnet, delegation=delegation)]

    def _agent_network(
        self, config: EnvironmentConfig, zones: PrivateDnsZones, networks: Mapping[str, Network]
    ) -> AgentNetwork:
        """The bootstrap pool's network (named by config, created before this stack) peered with every network of
        the environment and DNS-linked."""
        agents_group = self.namer.name("resource_group", "agents")
        agents_vnet = self.namer.name("virtual_network", "agents", config.location)
        return AgentNetwork(
            self, "AgentNetwork",
            agents_group=agents_group, agents_vnet_name=agents_vnet,
            agents_vnet_id=(f"/subscriptions/{config.subscription_id}/resourceGroups/{agents_group}"
                            f"/providers/Microsoft.Network/virtualNetworks/{agents_vnet}"),
            environment_group=self.resource_group_name, environment=self.network, zone_names=zones.zone_names,
            regional={region: network for region, network in networks.items() if region != config.location},
            tags=self.tags,
        )

    def _regional_private_link(
        self, region: str, network: Network, vnet_id: str, primary_zone_ids: dict[str, str]
    ) -> PrivateLink:
        """The region's own copy of the zones it resolves to its own endpoints. A zone name exists once per
        resource group, so the copies live in a small DNS-only resource group of the region."""
        key = region.title()
        group = ResourceGroup(
            self, f"DnsResourceGroup{key}",
            name=self.namer.name("resource_group", "dns", region), location=region,
            tags=self.tags,
        )
        zones = PrivateDnsZones(
            self, f"PrivateDns{key}",
            placement=self.placement(region, resource_group_name=group.name),
            zones=regional_private_dns_zones(), linked_networks={region: vnet_id},
        )
        return PrivateLink(
            subnet_id=network.subnet_ids[PRIVATE_ENDPOINT_SUBNET],
            dns_zone_ids=regional_zone_ids(primary_zone_ids, zones.zone_ids), location=region,
        )

    def _gateway_certificate_grants(self) -> dict[str, RoleAssignment]:
        if "gateway" not in self.identities:
            return {}
        return {
            # The deployer issues the self-signed certificate; the gateways read certificates as secrets.
            "DeployerCertificatesOfficer": RoleAssignment(
                self.client.object_id, "Key Vault Certificates Officer", principal_type=None
            ),
            "GatewaySecretsUser": RoleAssignment(self.identities["gateway"].principal_id, "Key Vault Secrets User"),
        }

    def _gateway_certificate(self) -> str | None:
        """The Key Vault secret id (versionless: renewals roll out) of the gateways' TLS certificate."""
        if not self.gateway_subnet_ids:
            return None
        edge = self.config.edge
        if edge.certificate_secret_id:
            return edge.certificate_secret_id
        traffic_manager = f"{self.namer.name('traffic_manager')}.trafficmanager.net"
        certificate = self.key_vault.add_self_signed_certificate(
            "GatewayCertificate", name=GATEWAY_CERTIFICATE, common_name=traffic_manager, dns_names=()
        )
        return certificate.versionless_secret_id

    def customer_managed_key(self, purpose: EncryptionKey) -> CustomerManagedKey:
        """The key for one kind of data at rest (`ENCRYPTION_KEYS`), with the identity that may use it."""
        return self._customer_managed_keys[purpose]

    def interfaces(
        self, *, lock: bool = False, role_assignments: Mapping[str, RoleAssignment] | None = None,
        encryption_key: EncryptionKey | None = None, region: str | None = None,
    ) -> Interfaces:
        """The standard interfaces for a module of this environment: diagnostics, private link, lock, and the
        customer-managed key `encryption_key` (one of `ENCRYPTION_KEYS`) for modules that store data.

        A shared module (no `region`) gets endpoints in the primary network plus, for what the app regions
        use, one in each extra region; a regional module (`region`) gets endpoints in its region only.
        """
        regional: dict[str, PrivateLink] = {}
        if region is not None:
            link = self.private_links[region]
        else:
            link = self.private_link
            regional = {r: pl for r, pl in self.private_links.items() if r != self.config.location}
        return Interfaces(
            diagnostics=self.diagnostics, private_link=link, regional_private_links=regional,
            network_access=self.network_access,
            role_assignments=dict(role_assignments or {}), lock=lock,
            customer_managed_key=self.customer_managed_key(encryption_key) if encryption_key else None,
        )
