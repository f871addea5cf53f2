"""How a call from a source reaches a target's subresource: name resolution, routing, then the target's door.

Each rule cites where Azure documents it (Microsoft Learn). The evaluation follows one packet's story:
1. Name resolution. A private endpoint puts a `privatelink` CNAME into the target's public name (PE_DNS). A network
   linked to a private zone of that name answers from the zone: the endpoint's address when the zone holds its
   record, no answer (NXDOMAIN) when it does not. A network with no such zone linked (DNS_LINKS) resolves
   through public DNS to the public endpoint. Without any private endpoint for that group id there is no
   CNAME: the public endpoint. Each storage service (blob, dfs, file, queue, table) needs its own endpoint
   (STORAGE_ENDPOINTS).
2. Routing to a private address: same virtual network, or a peering in both directions (a peering is connected
   only when both exist) between the two networks; peering is not transitive (PEERING).
3. The public endpoint: the caller needs a way to the internet (a NAT gateway's IP, a platform's outbound
   addresses; none from a subnet without either, DEFAULT_OUTBOUND), then the target's public side must admit it:
   disabled public access admits nothing but private endpoints (STORAGE_FIREWALL, KEY_VAULT_NETWORK, ...), a
   firewall admits its IP rules, service tags (APP_SERVICE_RESTRICTIONS) and, for Azure services with their own
   identity, resource instances and trusted services (STORAGE_TRUSTED).
Data Factory's managed virtual network reaches only what it has managed private endpoints to (ADF_MANAGED_VNET).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from stacks.modules.interfaces import PRIVATE_DNS_ZONES
from tools.checks.reachability.network import Endpoint, Network, Zone
from tools.checks.reachability.public import PublicSide
from tools.checks.reachability.sources import Source

LEARN = "https://learn.microsoft.com/azure"
PE_DNS = f"{LEARN}/private-link/private-endpoint-dns"
DNS_LINKS = f"{LEARN}/dns/private-dns-virtual-network-links"
PEERING = f"{LEARN}/virtual-network/virtual-network-peering-overview"
PEERING_STATUS = f"{LEARN}/virtual-network/virtual-network-manage-peering"
STORAGE_ENDPOINTS = f"{LEARN}/storage/common/storage-private-endpoints"
STORAGE_FIREWALL = f"{LEARN}/storage/common/storage-network-security"
STORAGE_TRUSTED = f"{LEARN}/storage/common/storage-network-security#grant-access-to-trusted-azure-services"
KEY_VAULT_NETWORK = f"{LEARN}/key-vault/general/network-security"
APP_SERVICE_RESTRICTIONS = f"{LEARN}/app-service/app-service-ip-restrictions"
APP_SERVICE_PRIVATE_ENDPOINT = f"{LEARN}/app-service/overview-private-endpoint"
DEFAULT_OUTBOUND = f"{LEARN}/virtual-network/ip-services/default-outbound-access"
NAT_GATEWAY = f"{LEARN}/nat-gateway/nat-overview"
ADF_MANAGED_VNET = f"{LEARN}/data-factory/managed-virtual-network-private-endpoint"
GATEWAY_NSG = f"{LEARN}/application-gateway/configuration-infrastructure"

# The deployment (scm) site is served by the site's own endpoint (APP_SERVICE_PRIVATE_ENDPOINT); `https` is the
# site a browser, a gateway or a probe calls.
GROUP_OF = {"scm": "sites", "scm-staging": "sites-staging", "https": "sites"}


@dataclass(frozen=True)
class Outcome:
    reachable: bool
    path: str
    source: str  # the Learn page of the rule that decided


def reachable(path: str, source: str) -> Outcome:
    return Outcome(True, path, source)


def unreachable(reason: str, source: str) -> Outcome:
    return Outcome(False, reason, source)


def _covers(rule: str, address: str) -> bool:
    """An IP rule admits an egress address: a range within it, or the same public IP resource."""
    if rule == address:
        return True
    try:
        return ipaddress.ip_network(address, strict=False).subnet_of(ipaddress.ip_network(rule, strict=False))  # type: ignore[arg-type]
    except ValueError:
        return False


class Evaluator:
    def __init__(self, net: Network) -> None:
        self.net = net

    def evaluate(self, source: Source, target: str, subresource: str) -> Outcome:
        if source.kind == "managed-vnet":
            return self._managed(source, target, subresource)
        if source.kind in ("service", "internet"):
            return self._public(source, target, subresource, f"{source.key} calls from outside our networks")
        subnet = self.net.subnets.get(source.subnet or "")
        if subnet is None:
            return unreachable(f"{source.key} runs in subnet {source.subnet}, undeclared in the synth", PEERING)
        return self._private(source, subnet.vnet, target, subresource)

    def public_service(self, source: Source, target: str) -> Outcome:
        """A public Azure service no endpoint of ours fronts (Resource Manager): the caller's egress decides."""
        if source.kind != "vnet":
            return self._public(source, target, "https", f"{source.key} calls from outside our networks")
        return self._public(source, target, "https", f"{target} is reached on its public endpoint")

    def resolve_name(self, source: Source, host: str) -> Outcome:
        """A name from an app setting: a private A record in a zone linked to the caller's network, or nothing."""
        subnet = self.net.subnets.get(source.subnet or "")
        vnet = subnet.vnet if subnet else None
        host = host.lower()
        linked = [z for z in self.net.zones.values()
                  if vnet in z.links and (host == z.name or host.endswith(f".{z.name}"))]
        for zone in linked:
            record = next((r for r in self.net.records if r.fqdn == host and r.zone == (zone.name, zone.group)), None)
            if record is None:
                return unreachable(f"{zone.label} is linked to {vnet} but holds no A record for {host}", PE_DNS)
            if not record.ips:
                return unreachable(f"the A record for {host} has an address known only after apply", PE_DNS)
            where = self.net.subnet_of_ip(record.ips[0])
            if where is None:
                return unreachable(f"{host} -> {record.ips[0]} is in no subnet of the synth", PE_DNS)
            route = self._route(str(vnet), where.vnet)
            if isinstance(route, Outcome):
                return route
            return reachable(f"{source.key} ({vnet}){route} A {host} -> {record.ips[0]} in {where.name} "
                             f"({where.prefixes[0]}), {zone.name} linked", PE_DNS)
        return unreachable(
            f"no private A record for {host} in a zone linked to {vnet or source.key}; it resolves through public DNS "
            "to an endpoint the synth does not declare", PE_DNS,
        )

    def _managed(self, source: Source, target: str, subresource: str) -> Outcome:
        group = GROUP_OF.get(subresource, subresource)
        for managed_target, managed_group in self.net.managed_endpoints.get(source.key, []):
            if (managed_target, managed_group) == (target, group):
                return reachable(f"{source.key} managed virtual network -> managed private endpoint `{group}` of "
                                 f"{target} (approved by `make approve-private-endpoints`)", ADF_MANAGED_VNET)
        return unreachable(f"{source.key}'s managed virtual network has no managed private endpoint to `{group}` "
                           f"of {target}", ADF_MANAGED_VNET)

    def _private(self, source: Source, vnet: str, target: str, subresource: str) -> Outcome:
        group = GROUP_OF.get(subresource, subresource)
        endpoints = [e for e in self.net.endpoints if e.target == target and e.group == group]
        if not endpoints:
            why = f"no private endpoint for `{group}` of {target}, so its name resolves to the public endpoint"
            return self._public(source, target, subresource, why, STORAGE_ENDPOINTS)
        names = {zone for e in endpoints for zone, _ in e.zones} or set(PRIVATE_DNS_ZONES.get(group, ()))
        linked = [z for z in self.net.zones.values() if z.name in names and vnet in z.links]
        if not linked:
            why = f"no {'/'.join(sorted(names))} zone is linked to {vnet}, so the name resolves to the public endpoint"
            return self._public(source, target, subresource, why, DNS_LINKS)
        for zone in linked:
            hits = [e for e in endpoints if (zone.name, zone.group) in e.zones]
            if hits:
                return self._to_endpoint(source, vnet, hits[0], zone)
        registered = sorted({f"{z[0]} ({z[1]})" for e in endpoints for z in e.zones})
        return unreachable(f"{linked[0].label} is linked to {vnet} but holds no record for `{group}` of {target} "
                           f"(its endpoints registered in {', '.join(registered)}): the name does not resolve", PE_DNS)

    def _route(self, vnet: str, remote: str) -> str | Outcome:
        if vnet == remote:
            return " ->"
        if self.net.peered(vnet, remote):
            return f" -peering-> {remote} ->"
        peers = self.net.peers_of(vnet)
        return unreachable(f"the address is in {remote}; {vnet} is peered with {', '.join(peers) or 'nothing'} "
                           "only, and peering is not transitive", PEERING)

    def _to_endpoint(self, source: Source, vnet: str, endpoint: Endpoint, zone: Zone) -> Outcome:
        subnet = self.net.subnets.get(endpoint.subnet)
        if subnet is None:
            return unreachable(f"endpoint {endpoint.name} is in a subnet the synth does not declare", PEERING)
        route = self._route(vnet, subnet.vnet)
        if isinstance(route, Outcome):
            return unreachable(f"private endpoint `{endpoint.group}` of {endpoint.target}: {route.path}", route.source)
        return reachable(f"{source.key} ({vnet}){route} PE `{endpoint.group}` {endpoint.name} in "
                         f"{subnet.prefixes[0]}, {zone.name} linked", PE_DNS)

    def _public(self, source: Source, target: str, subresource: str, why: str, rule: str = PE_DNS) -> Outcome:
        side = self.net.public.get(f"{target}/{subresource}") or self.net.public.get(target)
        if side is None:
            return unreachable(f"{why}; {target} has no public endpoint in the synth", rule)
        if not side.enabled:
            return unreachable(f"{why}; {side.describe()}", _door(side))
        if source.kind == "service":
            return self._as_service(source, target, side, why)
        if not source.egress_note:
            return unreachable(f"{why}; subnet {source.subnet} has no way to the internet (no NAT gateway, default "
                               "outbound access off)", DEFAULT_OUTBOUND)
        leaving = f"leaves from {source.egress_note}"
        if side.default_allow:
            return reachable(f"{why}: {source.key} {leaving} -> {side.describe()}", _door(side))
        admitted = [r for r in side.ip_rules for a in source.egress if _covers(r, a)]
        tags = sorted(set(source.service_tags) & set(side.service_tags)) or (
            ["Internet"] if "Internet" in side.service_tags and source.kind == "internet" else [])
        if admitted or tags:
            return reachable(f"{why}: {source.key} {leaving}, admitted by {', '.join([*admitted, *tags])} "
                             f"({side.what})", _door(side))
        return unreachable(f"{why}; {source.key} {leaving}, which the {side.describe()} does not admit", _door(side))

    def _as_service(self, source: Source, target: str, side: PublicSide, why: str) -> Outcome:
        if source.key in side.resource_instances:
            return reachable(f"{source.key} -> {target} public endpoint as a resource instance ({side.what})",
                             STORAGE_TRUSTED)
        if side.trusted_services or side.default_allow:
            return reachable(f"{source.key} -> {target} public endpoint as a trusted Azure service ({side.what})",
                             STORAGE_TRUSTED)
        return unreachable(f"{why}; {target} admits neither trusted services nor {source.key} as a resource "
                           "instance", STORAGE_TRUSTED)


def _door(side: PublicSide) -> str:
    what = side.what.lower()
    if "storage" in what:
        return STORAGE_FIREWALL
    if "key vault" in what:
        return KEY_VAULT_NETWORK
    if "access restrictions" in what or "function app" in what:
        return APP_SERVICE_RESTRICTIONS
    if "gateway" in what:
        return GATEWAY_NSG
    return PE_DNS
