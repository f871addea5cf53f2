"""The detail picture of one stack: every resource with its Azure icon, boxed by resource group, VNet, subnet
and component, with an arrow for each reference between resources (followed across stacks).

Arrows point the way a reader follows them: identity -> role assignment -> scope, resource -> diagnostic
setting -> Log Analytics, Traffic Manager profile -> endpoint -> web app, private endpoint -> target.
Subnet references (`virtual_network_subnet_id`, `vnet_subnet_id`, a private endpoint's `subnet_id`, ...) are
drawn as the subnet box the resource sits in, not as arrows.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from contract import ML_BATCH_ENDPOINT, ML_ONLINE_ENDPOINT
from tools.local.diagram.catalog import kind_of
from tools.local.diagram.picture import Arrow, Box, Node, Picture
from tools.local.diagram.synth_graph import Reference, Resource, SynthOutput

# Attribute paths that say "this resource lives in that subnet" (or, for a subnet, "in that VNet").
_PLACEMENT = {"virtual_network_subnet_id", "vnet_subnet_id", "default_node_pool.vnet_subnet_id", "subnet_resource_id"}
_PLACED_BY_SUBNET_ID = {"azurerm_private_endpoint", "azurerm_subnet_network_security_group_association"}
# Plumbing left out as arrows: every private endpoint names its DNS zone (see the foundation picture), and
# a DNS zone's VNet links are drawn inside the zone's box.
_NOT_DRAWN = ("private_dns_zone_group.",)
_LIGHT = {"azurerm_private_dns_zone_virtual_network_link", "azurerm_virtual_network_peering"}
# Arrow labels for the references a reader cares about; unlisted attribute paths get an unlabelled arrow.
_LABELS = {
    "private_service_connection.private_connection_resource_id": "private link",
    "log_analytics_workspace_id": "logs to",
    "oms_agent.log_analytics_workspace_id": "logs to",
    "application_insights_id": "telemetry",
    "principal_id": "grants",
    "target_resource_id": "routes to",  # Traffic Manager endpoints; diagnostic settings are unlabelled below
}
_UNLABELLED_TYPES = {"azurerm_monitor_diagnostic_setting", "azurerm_management_lock"}
_ML_ENDPOINT_URL = re.compile(r"https://([a-z0-9-]+)\.[a-z0-9]+\.inference\.ml\.azure\.com")
_ML_ENDPOINTS = {ML_ONLINE_ENDPOINT, ML_BATCH_ENDPOINT}

_RG_FILL, _NET_FILL, _SUBNET_FILL, _COMPONENT_FILL = "#f5f7fa", "#e8f1fb", "#d6e8fa", "#ffffff"


def display_name(resource: Resource) -> str:
    """The Azure name when it is a literal; a role's name for role assignments; else the construct's name."""
    if resource.tf_type.endswith("role_assignment"):
        role = resource.literal("role_definition_name")
        if role:
            return role
    name = resource.literal("name")
    if name and not resource.tf_type.endswith(("diagnostic_setting", "management_lock")):
        return name
    return resource.construct_path.rsplit("/", 1)[-1]


def detail_picture(synth: SynthOutput, stack: str) -> Picture:
    picture = Picture(name=stack, title=f"Stack {stack}: every resource and reference")
    resources = synth.resources(stack)
    local = {r.key for r in resources}
    references = [ref for r in resources for ref in synth.references(r)]
    placement = _placement(synth, references)

    group = _resource_groups(resources, references)
    components = Counter(_component(r) for r in resources)
    zones = set(map(_key, placement.zone_of.values()))
    for resource in resources:
        box = _box_for(picture, resource, placement.subnet_of, placement.vnet_of, group, components, local)
        zone = resource if resource.key in zones else placement.zone_of.get(resource.key)
        if zone is not None:
            box = _zone_box(picture, zone, box)
        _add_resource(picture, resource, box, external=False)
    _draw_arrows(picture, placement.arrows, local)
    _draw_endpoint_calls(picture, synth, resources)
    return picture


@dataclass
class _Placement:
    """What the references say about where resources sit, and the references left to draw as arrows."""

    subnet_of: dict[str, Resource] = field(default_factory=dict)  # resource key -> the subnet it sits in
    vnet_of: dict[str, Resource] = field(default_factory=dict)  # subnet key -> its VNet
    zone_of: dict[str, Resource] = field(default_factory=dict)  # DNS zone link key -> its zone
    arrows: list[Reference] = field(default_factory=list)


def _placement(synth: SynthOutput, references: list[Reference]) -> _Placement:
    placement = _Placement()
    for ref in references:
        if ref.target.tf_type == "azurerm_subnet" and _places(ref):
            placement.subnet_of[ref.source.key] = ref.target
        elif ref.source.tf_type == "azurerm_subnet" and ref.target.tf_type == "azurerm_virtual_network":
            placement.vnet_of[ref.source.key] = ref.target
        elif not ref.path.startswith(_NOT_DRAWN):
            placement.arrows.append(ref)
        if ref.target.tf_type == "azurerm_private_dns_zone" and ref.path == "private_dns_zone_name":
            placement.zone_of[ref.source.key] = ref.target
    for subnet in list(placement.subnet_of.values()):  # subnets from another stack still sit in their VNet
        for ref in synth.references(subnet):
            if ref.target.tf_type == "azurerm_virtual_network":
                placement.vnet_of[subnet.key] = ref.target
    return placement


def _draw_arrows(picture: Picture, arrows: list[Reference], local: set[str]) -> None:
    """One arrow per reference; an end from another stack is drawn too, dashed."""
    for ref in arrows:
        for end in (ref.source, ref.target):
            if end.key not in local and end.key not in picture.nodes:
                _add_resource(picture, end, None, external=True)
        label = "" if ref.source.tf_type in _UNLABELLED_TYPES and ref.path != "log_analytics_workspace_id" else (
            _LABELS.get(ref.path) or _label_for_path(ref))
        external = ref.target.key not in local
        color = "#aab4be" if ref.source.tf_type in _LIGHT else "#52606d"
        picture.add_arrow(Arrow(ref.source.key, ref.target.key, label, style="dashed" if external else "solid",
                                color=color))


def _draw_endpoint_calls(picture: Picture, synth: SynthOutput, resources: list[Resource]) -> None:
    for resource in resources:
        for endpoint_name, workspace in _ml_endpoint_calls(synth, resource):
            if workspace.key not in picture.nodes:
                _add_resource(picture, workspace, None, external=True)
            picture.add_arrow(Arrow(resource.key, workspace.key, f"scores via {endpoint_name}", style="dashed"))


def _places(ref: Reference) -> bool:
    return ref.path in _PLACEMENT or (ref.path == "subnet_id" and ref.source.tf_type in _PLACED_BY_SUBNET_ID)


def _label_for_path(ref: Reference) -> str:
    path = ref.path
    if path.startswith("app_settings."):
        return "Key Vault reference" if ref.target.tf_type == "azurerm_key_vault_secret" else "app setting"
    if path.startswith("identity.") or path in {"key_vault_reference_identity_id", "primary_user_assigned_identity"}:
        return "runs as"
    return ""


def _component(resource: Resource) -> str:
    parts = resource.construct_path.split("/")
    return parts[1] if len(parts) > 2 else ""


def _resource_groups(resources: list[Resource], references: list[Reference]) -> dict[str, str]:
    """Each resource's group: its own `resource_group_name`, else its parent's (first local reference)."""
    groups: dict[str, str] = {}
    for resource in resources:
        if resource.tf_type == "azurerm_resource_group" and resource.literal("name"):
            groups[resource.key] = resource.literal("name") or ""
        elif resource.literal("resource_group_name"):
            groups[resource.key] = resource.literal("resource_group_name") or ""
    fallback = Counter(groups.values()).most_common(1)[0][0] if groups else ""
    for ref in references:
        if ref.source.key not in groups and ref.target.key in groups:
            groups[ref.source.key] = groups[ref.target.key]
    return {r.key: groups.get(r.key, fallback) for r in resources}


def _box_for(
    picture: Picture, resource: Resource, subnet_of: dict[str, Resource], vnet_of: dict[str, Resource],
    group: dict[str, str], components: Counter[str], local: set[str],
) -> str | None:
    rg = group[resource.key]
    parent = None
    if rg:
        parent = f"rg:{rg}"
        picture.add_box(Box(parent, f"Resource group {rg}", fill=_RG_FILL, font_size=14))
    subnet = resource if resource.tf_type == "azurerm_subnet" else subnet_of.get(resource.key)
    if resource.tf_type == "azurerm_virtual_network":
        return _vnet_box(picture, resource, parent, external=False)
    if subnet is not None:
        vnet = vnet_of.get(subnet.key)
        owner = parent
        if vnet is not None:
            owner = _vnet_box(picture, vnet, parent, external=vnet.key not in local)
        box_id = f"subnet:{subnet.key}"
        external = subnet.key not in local
        suffix = f" (from {subnet.stack})" if external else ""
        picture.add_box(Box(box_id, f"Subnet {display_name(subnet)}{suffix}", owner, "dashed" if external else "solid",
                            fill=_SUBNET_FILL, pen="#4a90d9", font_size=11))
        return box_id
    component = _component(resource)
    if component and components[component] > 1 and len(components) > 1:
        box_id = f"component:{component}"
        picture.add_box(Box(box_id, component, parent, fill=_COMPONENT_FILL, pen="#cbd2d9", font_size=11))
        return box_id
    return parent


def _vnet_box(picture: Picture, vnet: Resource, parent: str | None, external: bool) -> str:
    box_id = f"vnet:{vnet.key}"
    suffix = f" (from {vnet.stack})" if external else ""
    picture.add_box(Box(box_id, f"VNet {display_name(vnet)}{suffix}", parent, "dashed" if external else "solid",
                        fill=_NET_FILL, pen="#4a90d9", font_size=12))
    return box_id


def _zone_box(picture: Picture, zone: Resource, parent: str | None) -> str:
    box_id = f"zone:{zone.key}"
    picture.add_box(Box(box_id, f"DNS {display_name(zone)}", parent, fill=_NET_FILL, pen="#cbd2d9", font_size=10))
    return box_id


def _key(resource: Resource) -> str:
    return resource.key


def _add_resource(picture: Picture, resource: Resource, box: str | None, external: bool) -> None:
    kind = kind_of(resource.tf_type, resource.attributes)
    subtitle = f"{kind.label} · from {resource.stack}" if external else kind.label
    picture.add_node(Node(resource.key, display_name(resource), subtitle, kind.icon, box,
                          icon_size=26 if external else 32))


def _ml_endpoint_calls(synth: SynthOutput, resource: Resource) -> list[tuple[str, Resource]]:
    """App settings holding an Azure ML endpoint URL: the endpoint is created by the ML rollout, not by a
    stack, so the arrow goes to the environment's ML workspace that hosts it."""
    settings = resource.attributes.get("app_settings", {})
    names = {m.group(1) for v in settings.values() if isinstance(v, str) for m in _ML_ENDPOINT_URL.finditer(v)}
    names &= _ML_ENDPOINTS
    if not names:
        return []
    env = resource.stack.split("-", 1)[0]
    workspaces = [
        r for stack in synth.stack_names(env) for r in synth.resources(stack)
        if r.tf_type == "azurerm_machine_learning_workspace"
    ]
    return [(name, ws) for name in sorted(names) for ws in workspaces[:1]]
