"""Networking: a virtual network with one network security group per subnet, and private DNS zones."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktn_provider_azurerm.network_security_group import NetworkSecurityGroup, NetworkSecurityGroupSecurityRule
from cdktn_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktn_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
from cdktn_provider_azurerm.subnet import Subnet, SubnetDelegation, SubnetDelegationServiceDelegation
from cdktn_provider_azurerm.subnet_network_security_group_association import (
    SubnetNetworkSecurityGroupAssociation,
)
from cdktn_provider_azurerm.virtual_network import VirtualNetwork
from cdktn_provider_azurerm.virtual_network_peering import VirtualNetworkPeering
from constructs import Construct

from stacks.modules.interfaces import Placement
from stacks.naming import Namer


@dataclass(frozen=True)
class InboundRule:
    """Allow TCP from a source (address prefix or service tag) to destination ports of the subnet."""

    name: str
    priority: int
    source: str
    ports: str


@dataclass(frozen=True)
class SubnetSpec:
    key: str  # e.g. "app", "private-endpoints"
    prefix: str
    delegation: str | None = None  # service the subnet is delegated to, e.g. Microsoft.Web/serverFarms
    service_endpoints: Sequence[str] = ()
    inbound: Sequence[InboundRule] = ()  # beyond the NSG's defaults (VNet and Azure Load Balancer in, rest denied)
    # Off for every subnet whose resources need no implicit internet egress; the Application Gateway v2
    # subnet keeps it (the gateway's own management traffic).
    default_outbound_access: bool = False


# An Application Gateway v2 subnet ("Application Gateway infrastructure configuration", Microsoft Learn):
# the gateway manager's health traffic on 65200-65535 must be allowed in, and clients on HTTPS (and HTTP,
# which is redirected).
GATEWAY_INBOUND = (
    InboundRule("AllowGatewayManager", 100, "GatewayManager", "65200-65535"),
    InboundRule("AllowHttpsFromInternet", 110, "Internet", "443"),
    # The HTTP listener answers only with a permanent redirect to HTTPS (app_gateway.py).
    InboundRule("AllowHttpRedirectFromInternet", 120, "Internet", "80"),
)


PEERING_NAME_MAX = 80  # "Naming rules and restrictions for Azure resources": virtualNetworkPeerings 1-80

_DELEGATION_ACTIONS = {
    "Microsoft.Web/serverFarms": ["Microsoft.Network/virtualNetworks/subnets/action"],
    "Microsoft.DevOpsInfrastructure/pools": ["Microsoft.Network/virtualNetworks/subnets/join/action"],
    "Microsoft.App/environments": ["Microsoft.Network/virtualNetworks/subnets/join/action"],
    # What Azure Databricks' delegation grants (the workspace manages the subnets' network intent policies).
    "Microsoft.Databricks/workspaces": [
        "Microsoft.Network/virtualNetworks/subnets/join/action",
        "Microsoft.Network/virtualNetworks/subnets/prepareNetworkPolicies/action",
        "Microsoft.Network/virtualNetworks/subnets/unprepareNetworkPolicies/action",
    ],
}


class Network(Construct):
    """A virtual network; `subnets[key]` are its subnets, each behind its own network security group.
    `vnet_id`, `vnet_name` and `subnet_ids[key]` are their references, for everything built on them."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, namer: Namer, address_space: str,
        subnets: Sequence[SubnetSpec], qualifier: str = "",
    ) -> None:
        super().__init__(scope, id_)
        region = placement.location
        self.name = namer.name("virtual_network", qualifier, region)
        self.vnet = VirtualNetwork(
            self, "VirtualNetwork",
            name=self.name,
            location=region,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            address_space=[address_space],
        )
        # Outputs read once: each read of a resource's attribute is a round trip to Node.
        self.vnet_id, self.vnet_name = self.vnet.id, self.vnet.name
        self.subnet_ids: dict[str, str] = {}
        self.subnets: dict[str, Subnet] = {}
        # A VNet-injected Databricks workspace is told which NSG association belongs to each of its subnets.
        self.security_group_associations: dict[str, SubnetNetworkSecurityGroupAssociation] = {}
        for spec in subnets:
            construct_id = spec.key.title().replace("-", "")
            subnet = Subnet(
                self, f"Subnet{construct_id}",
                name=namer.name("subnet", spec.key, region),
                resource_group_name=placement.resource_group_name,
                virtual_network_name=self.vnet_name,
                address_prefixes=[spec.prefix],
                # No default outbound internet address unless the spec needs one (Azure retires it).
                default_outbound_access_enabled=spec.default_outbound_access,
                private_endpoint_network_policies="Enabled",
                service_endpoints=list(spec.service_endpoints) or None,
                delegation=[
                    SubnetDelegation(
                        name=spec.delegation.split("/")[-1],
                        service_delegation=SubnetDelegationServiceDelegation(
                            name=spec.delegation, actions=_DELEGATION_ACTIONS.get(spec.delegation)
                        ),
                    )
                ] if spec.delegation else None,
            )
            subnet_id = self.subnet_ids[spec.key] = subnet.id
            nsg = NetworkSecurityGroup(
                self, f"SecurityGroup{construct_id}",
                name=namer.name("network_security_group", spec.key, region),
                location=region,
                resource_group_name=placement.resource_group_name,
                tags=placement.tags,
                security_rule=[
                    NetworkSecurityGroupSecurityRule(
                        name=rule.name, priority=rule.priority, direction="Inbound", access="Allow", protocol="Tcp",
                        source_address_prefix=rule.source, source_port_range="*",
                        destination_address_prefix="*", destination_port_range=rule.ports,
                    )
                    for rule in spec.inbound
                ] or None,
            )
            self.security_group_associations[spec.key] = SubnetNetworkSecurityGroupAssociation(
                self, f"SecurityGroupAssociation{construct_id}", subnet_id=subnet_id, network_security_group_id=nsg.id
            )
            self.subnets[spec.key] = subnet

    def peer_with(self, other: Network, id_: str, resource_group_name: str) -> None:
        """Peer both ways, so regional app subnets reach private endpoints in the primary network."""
        for direction, (source, target) in {"Out": (self, other), "In": (other, self)}.items():
            VirtualNetworkPeering(
                self, f"Peering{id_}{direction}",
                name=peering_name(source.name, target.name),
                resource_group_name=resource_group_name,
                virtual_network_name=source.vnet_name,
                remote_virtual_network_id=target.vnet_id,
                allow_forwarded_traffic=False,
                allow_virtual_network_access=True,
            )


def peering_name(source: str, target: str) -> str:
    """`peer-<source>-to-<target>` from the networks' names as written (never their unresolved references),
    shortened with a stable hash when it exceeds the 80 characters Azure allows."""
    name = f"peer-{source}-to-{target}"
    if len(name) <= PEERING_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:PEERING_NAME_MAX - 9].rstrip('-')}-{digest}"


class PrivateDnsZones(Construct):
    """One private DNS zone per private-link service in use, linked to every network that resolves it.

    A network links to at most one zone of a given name, so the networks in `own_copy_networks` skip the zones
    in `own_copy_zones`: they link to their region's copy of those instead.
    """

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, zones: Sequence[str],
        linked_networks: Mapping[str, str], own_copy_zones: Sequence[str] = (),
        own_copy_networks: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.zone_ids: dict[str, str] = {}
        self.zone_names: dict[str, str] = {}  # a reference: a link made elsewhere waits for its zone
        for zone_name in zones:
            zone_id = "".join(part.title() for part in zone_name.split(".")[1:3])
            zone = PrivateDnsZone(
                self, f"Zone{zone_id}",
                name=zone_name,
                resource_group_name=placement.resource_group_name,
                tags=placement.tags,
            )
            # One read of the reference (a round trip to Node), not one per link.
            linked_zone_name = self.zone_names[zone_name] = zone.name
            for network_key, vnet_id in linked_networks.items():
                if zone_name in own_copy_zones and network_key in own_copy_networks:
                    continue
                PrivateDnsZoneVirtualNetworkLink(
                    self, f"Link{zone_id}{network_key.title()}",
                    name=f"link-{network_key}",
                    resource_group_name=placement.resource_group_name,
                    tags=placement.tags,
                    private_dns_zone_name=linked_zone_name,
                    virtual_network_id=vnet_id,
                    registration_enabled=False,
                )
            self.zone_ids[zone_name] = zone.id
