"""Where each caller runs, read from the synth: the subnet its traffic leaves from, its way to the internet, and
the app settings it reads its targets' names from.

Kinds: `vnet` (compute in one of our subnets), `managed-vnet` (Data Factory's managed network, which reaches
only its managed private endpoints), `service` (an Azure service writing with its own identity, e.g. Event Hubs
Capture), `internet` (Traffic Manager's probes, a developer's laptop in `network.allowed_ip_ranges`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.checks.reachability.network import Network, key
from tools.checks.reachability.public import block
from tools.checks.reachability.references import EnvironmentSynth, Node

# Learn "Integrate your app with an Azure virtual network" (App Service): with route-all, outbound traffic enters
# the integration subnet; without a NAT gateway on it, internet-bound calls leave from the app's shared outbound
# addresses. Flex Consumption integrates the same way through its Microsoft.App/environments subnet.
PLATFORM_EGRESS = {
    "Microsoft.Web/serverFarms": "App Service shared outbound addresses",
    "Microsoft.App/environments": "Flex Consumption shared outbound addresses",
}


@dataclass(frozen=True)
class Source:
    key: str
    kind: str
    subnet: str | None = None
    egress: tuple[str, ...] = ()  # addresses the internet sees: CIDRs or `pip:<name>`
    egress_note: str = ""  # how it reaches the internet; "" when it cannot
    service_tags: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)


def _subnet_source(net: Network, source_key: str, subnet: str | None, fallback: str = "",
                   settings: dict[str, str] | None = None) -> Source:
    found = net.subnets.get(subnet or "")
    if found is None:
        return Source(source_key, "vnet", subnet, settings=settings or {})
    if found.nat_ips:
        note = f"NAT gateway ({', '.join(found.nat_ips)})"
        return Source(source_key, "vnet", subnet, found.nat_ips, note, settings=settings or {})
    note = PLATFORM_EGRESS.get(found.delegation or "") or fallback
    if not note and found.default_outbound:
        note = "default outbound access (an address Azure picks)"
    return Source(source_key, "vnet", subnet, (), note, settings=settings or {})


def _setting(synth: EnvironmentSynth, stack: str, value: Any) -> str:
    """An app setting's literal value; one built around a reference (a URL with a resource id) as written."""
    literal = synth.literal(stack, value)
    return str(value if literal is None else literal)


def _subnet(synth: EnvironmentSynth, stack: str, value: Any) -> str | None:
    node = synth.node(stack, value)
    return synth.name(node) if node else None


def source_of(synth: EnvironmentSynth, net: Network, node: Node) -> Source:
    attributes, source_key = synth.attributes(node), key(synth, node)
    kind = node.tf_type
    if kind == "azurerm_linux_web_app" or source_key.startswith("Microsoft.Web/sites:"):
        return _site_source(synth, net, node, attributes, source_key)
    if kind == "azurerm_machine_learning_compute_cluster":
        return _subnet_source(net, source_key, _subnet(synth, node.stack, attributes.get("subnet_resource_id")))
    if kind == "azurerm_kubernetes_cluster":
        pool = block(attributes.get("default_node_pool"))
        # Learn "Customize cluster egress with outbound types in AKS": the default outbound type is loadBalancer.
        outbound = block(attributes.get("network_profile")).get("outbound_type", "loadBalancer")
        fallback = "AKS load balancer outbound IP" if outbound == "loadBalancer" else ""
        return _subnet_source(net, source_key, _subnet(synth, node.stack, pool.get("vnet_subnet_id")), fallback)
    if kind == "azurerm_application_gateway":
        configs = attributes.get("gateway_ip_configuration") or [{}]
        return _subnet_source(net, source_key, _subnet(synth, node.stack, configs[0].get("subnet_id")))
    if kind == "azurerm_managed_devops_pool":
        fabric = block(attributes.get("virtual_machine_scale_set_fabric"))
        return _subnet_source(net, source_key, _subnet(synth, node.stack, fabric.get("subnet_id")))
    if kind == "azurerm_databricks_workspace":
        # VNet injection: clusters run in the workspace's private (container) subnet, named, not referenced by id.
        parameters = block(attributes.get("custom_parameters"))
        name = synth.literal(node.stack, parameters.get("private_subnet_name"))
        return _subnet_source(net, source_key, name if isinstance(name, str) else None)
    return _outside_source(kind, source_key)


def _site_source(synth: EnvironmentSynth, net: Network, node: Node, attributes: dict[str, Any],
                 source_key: str) -> Source:
    """A web app (azurerm) or a function app (azapi): its integration subnet, with its app settings."""
    if node.tf_type == "azurerm_linux_web_app":
        settings = {k: _setting(synth, node.stack, v) for k, v in (attributes.get("app_settings") or {}).items()}
        subnet = _subnet(synth, node.stack, attributes.get("virtual_network_subnet_id"))
        return _subnet_source(net, source_key, subnet, settings=settings)
    properties = block(attributes.get("body")).get("properties", {})
    settings = {s["name"]: _setting(synth, node.stack, s["value"])
                for s in properties.get("siteConfig", {}).get("appSettings", [])}
    return _subnet_source(net, source_key, _subnet(synth, node.stack, properties.get("virtualNetworkSubnetId")),
                          settings=settings)


def _outside_source(kind: str, source_key: str) -> Source:
    """A source that runs outside the blueprint's virtual networks."""
    if kind == "azurerm_data_factory":
        return Source(source_key, "managed-vnet")
    if kind == "azurerm_eventhub_namespace":
        return Source(source_key, "service", egress_note="Azure backbone (trusted service with its own identity)")
    if kind == "azurerm_traffic_manager_profile":
        return Source(source_key, "internet", egress_note="Traffic Manager probe addresses",
                      service_tags=("AzureTrafficManager",))
    raise ValueError(f"{source_key}: no rule says where a {kind} runs")


def laptop(allowed_ip_ranges: tuple[str, ...]) -> Source:
    """A developer's machine: outside every virtual network, leaving from `network.allowed_ip_ranges`."""
    note = f"the team's ranges ({', '.join(allowed_ip_ranges)})" if allowed_ip_ranges else ""
    return Source("laptop", "internet", egress=allowed_ip_ranges, egress_note=note)
