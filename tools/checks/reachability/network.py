"""One environment's network as data, read from the synthesized stacks.

Virtual networks and subnets (with their NAT gateways' public IPs and the inbound rules of their security groups),
peerings as written (one direction each), private DNS zones with the networks each is linked to, A records,
private endpoints (target, group id, subnet, the zones they register in), Data Factory managed private endpoints,
and each resource's public side (`public.py`). Keys are Terraform types plus names, which are literal in the synth;
what only Azure knows (addresses, a NAT gateway's IP) is kept as the resource that will hold it (`pip:<name>`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from tools.checks.reachability.public import PublicSide, public_sides
from tools.checks.reachability.references import EnvironmentSynth, Node


@dataclass(frozen=True)
class Subnet:
    name: str
    vnet: str
    prefixes: tuple[str, ...]
    nat_ips: tuple[str, ...] = ()  # `pip:<public IP name>` of the subnet's NAT gateway
    default_outbound: bool = False
    delegation: str | None = None
    inbound_allows: tuple[tuple[str, str], ...] = ()  # (source prefix or service tag, destination ports)


@dataclass(frozen=True)
class Peering:
    name: str
    local: str
    remote: str
    allow_access: bool
    allow_forwarded: bool


@dataclass(frozen=True)
class Zone:
    name: str
    group: str  # resource group: a zone name exists once per group, so the same name can exist twice
    links: frozenset[str]  # names of the virtual networks linked to it

    @property
    def label(self) -> str:
        return f"{self.name} ({self.group})"


@dataclass(frozen=True)
class Endpoint:
    """A private endpoint: a NIC in `subnet` for `group` of `target`, registered in `zones` (zone keys)."""

    name: str
    target: str
    group: str
    subnet: str
    zones: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ARecord:
    fqdn: str
    ips: tuple[str, ...]
    zone: tuple[str, str]


@dataclass
class Network:
    environment: str
    vnets: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> address space
    subnets: dict[str, Subnet] = field(default_factory=dict)
    peerings: list[Peering] = field(default_factory=list)
    zones: dict[tuple[str, str], Zone] = field(default_factory=dict)
    endpoints: list[Endpoint] = field(default_factory=list)
    managed_endpoints: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # factory -> (target, group)
    records: list[ARecord] = field(default_factory=list)
    public: dict[str, PublicSide] = field(default_factory=dict)  # target key (and key/subresource) -> public side

    def subnet_of_ip(self, ip: str) -> Subnet | None:
        address = ipaddress.ip_address(ip)
        for subnet in self.subnets.values():
            if any(address in ipaddress.ip_network(prefix) for prefix in subnet.prefixes):
                return subnet
        return None

    def peered(self, local: str, remote: str) -> Peering | None:
        """The peering `local` -> `remote`, when both directions exist and allow virtual network access (a
        peering is connected only once its counterpart exists)."""
        out = next((p for p in self.peerings if p.local == local and p.remote == remote and p.allow_access), None)
        back = any(p.local == remote and p.remote == local and p.allow_access for p in self.peerings)
        return out if out and back else None

    def peers_of(self, vnet: str) -> list[str]:
        return sorted(p.remote for p in self.peerings if p.local == vnet and self.peered(vnet, p.remote))


def key(synth: EnvironmentSynth, node: Node) -> str:
    """A resource's key: `<type>:<name>`; azapi resources by their Azure type (`Microsoft.Web/sites:<name>`)."""
    attributes = synth.attributes(node)
    kind = node.tf_type
    if kind == "azapi_resource":
        kind = str(attributes.get("type", "")).split("@")[0]
    return f"{kind}:{synth.name(node)}"


def build_network(environment: str, synth: EnvironmentSynth) -> Network:
    net = Network(environment)
    _virtual_networks(synth, net)
    _zones(synth, net)
    _private_endpoints(synth, net)
    for node in synth.nodes("azurerm_data_factory_managed_private_endpoint"):
        attributes = synth.attributes(node)
        factory, target = (synth.node(node.stack, attributes.get(a)) for a in ("data_factory_id", "target_resource_id"))
        if factory and target:
            net.managed_endpoints.setdefault(key(synth, factory), []).append(
                (key(synth, target), str(attributes.get("subresource_name")))
            )
    net.public = public_sides(synth, key)
    return net


def _vnet_name(synth: EnvironmentSynth, stack: str, value: Any) -> str | None:
    node = synth.node(stack, value)
    if node is not None:
        return synth.name(node)
    literal = synth.literal(stack, value)
    return literal if isinstance(literal, str) and "/" not in literal else None


def _virtual_networks(synth: EnvironmentSynth, net: Network) -> None:
    for node in synth.nodes("azurerm_virtual_network"):
        net.vnets[synth.name(node)] = tuple(synth.attributes(node).get("address_space", ()))
    subnet_nat, inbound = _subnet_nat_ips(synth), _subnet_inbound_allows(synth)
    for node in synth.nodes("azurerm_subnet"):
        attributes = synth.attributes(node)
        vnet = _vnet_name(synth, node.stack, attributes.get("virtual_network_name"))
        delegations = attributes.get("delegation") or []
        net.subnets[synth.name(node)] = Subnet(
            name=synth.name(node), vnet=vnet or "?", prefixes=tuple(attributes.get("address_prefixes", ())),
            nat_ips=tuple(subnet_nat.get(node, ())),
            default_outbound=bool(attributes.get("default_outbound_access_enabled", True)),
            delegation=delegations[0]["service_delegation"]["name"] if delegations else None,
            inbound_allows=tuple(inbound.get(node, ())),
        )
    net.peerings += _peerings(synth)


def _subnet_nat_ips(synth: EnvironmentSynth) -> dict[Node, list[str]]:
    """Each subnet's egress addresses: the public IPs of the NAT gateway associated with it."""
    nat_ips: dict[Node, list[str]] = {}
    for node in synth.nodes("azurerm_nat_gateway_public_ip_association"):
        attributes = synth.attributes(node)
        nat, ip = (synth.node(node.stack, attributes.get(a)) for a in ("nat_gateway_id", "public_ip_address_id"))
        if nat and ip:
            nat_ips.setdefault(nat, []).append(f"pip:{synth.name(ip)}")
    subnet_nat: dict[Node, list[str]] = {}
    for node in synth.nodes("azurerm_subnet_nat_gateway_association"):
        attributes = synth.attributes(node)
        subnet, nat = (synth.node(node.stack, attributes.get(a)) for a in ("subnet_id", "nat_gateway_id"))
        if subnet and nat:
            subnet_nat.setdefault(subnet, []).extend(nat_ips.get(nat, []))
    return subnet_nat


def _subnet_inbound_allows(synth: EnvironmentSynth) -> dict[Node, list[tuple[str, str]]]:
    """Each subnet's inbound allow rules, from the network security group associated with it."""
    inbound: dict[Node, list[tuple[str, str]]] = {}
    for node in synth.nodes("azurerm_subnet_network_security_group_association"):
        attributes = synth.attributes(node)
        subnet, nsg = (synth.node(node.stack, attributes.get(a)) for a in ("subnet_id", "network_security_group_id"))
        if subnet and nsg:
            inbound[subnet] = _inbound_allows(synth.attributes(nsg))
    return inbound


def _peerings(synth: EnvironmentSynth) -> list[Peering]:
    peerings = []
    for node in synth.nodes("azurerm_virtual_network_peering"):
        attributes = synth.attributes(node)
        local = _vnet_name(synth, node.stack, attributes.get("virtual_network_name"))
        remote = _vnet_name(synth, node.stack, attributes.get("remote_virtual_network_id"))
        if local and remote:
            peerings.append(Peering(
                name=synth.name(node), local=local, remote=remote,
                allow_access=bool(attributes.get("allow_virtual_network_access", True)),
                allow_forwarded=bool(attributes.get("allow_forwarded_traffic", False)),
            ))
    return peerings


def _inbound_allows(nsg: dict[str, Any]) -> list[tuple[str, str]]:
    """Inbound allow rules beyond the defaults; a deny rule would need ordering by priority, which nothing here
    writes, so one is refused rather than misread."""
    allows = []
    for rule in nsg.get("security_rule") or []:
        if rule.get("direction") != "Inbound":
            continue
        if rule.get("access") != "Allow":
            raise ValueError(f"network security group {nsg.get('name')}: deny rule {rule.get('name')} is not modelled")
        allows.append((str(rule.get("source_address_prefix")), str(rule.get("destination_port_range"))))
    return allows


def _zone_key(synth: EnvironmentSynth, node: Node) -> tuple[str, str]:
    attributes = synth.attributes(node)
    return synth.name(node), str(synth.literal(node.stack, attributes.get("resource_group_name")))


def _zones(synth: EnvironmentSynth, net: Network) -> None:
    links: dict[tuple[str, str], set[str]] = {}
    for node in synth.nodes("azurerm_private_dns_zone"):
        links.setdefault(_zone_key(synth, node), set())
    for node in synth.nodes("azurerm_private_dns_zone_virtual_network_link"):
        attributes = synth.attributes(node)
        zone = synth.node(node.stack, attributes.get("private_dns_zone_name"))
        vnet = _vnet_name(synth, node.stack, attributes.get("virtual_network_id"))
        if zone is not None and vnet is not None:
            links.setdefault(_zone_key(synth, zone), set()).add(vnet)
    net.zones = {zone: Zone(zone[0], zone[1], frozenset(vnets)) for zone, vnets in links.items()}
    for node in synth.nodes("azurerm_private_dns_a_record"):
        attributes = synth.attributes(node)
        zone = synth.node(node.stack, attributes.get("zone_name"))
        if zone is None:
            continue
        zone_key = _zone_key(synth, zone)
        addresses = (synth.literal(node.stack, ip) for ip in attributes.get("records", ()))
        ips = tuple(str(ip) for ip in addresses if isinstance(ip, str))
        name = synth.name(node)
        # "@" is the zone apex: a zone named after one host answers for that host only.
        fqdn = zone_key[0] if name == "@" else f"{name}.{zone_key[0]}"
        net.records.append(ARecord(fqdn.lower(), ips, zone_key))


def _private_endpoints(synth: EnvironmentSynth, net: Network) -> None:
    for node in synth.nodes("azurerm_private_endpoint"):
        attributes = synth.attributes(node)
        connection = attributes.get("private_service_connection") or {}
        if isinstance(connection, list):
            connection = connection[0]
        target = synth.node(node.stack, connection.get("private_connection_resource_id"))
        subnet = synth.node(node.stack, attributes.get("subnet_id"))
        group = attributes.get("private_dns_zone_group") or {}
        if isinstance(group, list):
            group = group[0] if group else {}
        zones = tuple(
            _zone_key(synth, zone) for zone in
            (synth.node(node.stack, zone_id) for zone_id in group.get("private_dns_zone_ids", ()))
            if zone is not None
        )
        for subresource in connection.get("subresource_names", ()):
            net.endpoints.append(Endpoint(
                name=synth.name(node), target=key(synth, target) if target else "?", group=subresource,
                subnet=synth.name(subnet) if subnet else "?", zones=zones,
            ))
