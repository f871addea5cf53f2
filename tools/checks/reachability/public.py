"""Each resource's public side as written in the synth: whether its public endpoint answers, its default action,
the IP ranges, service tags and resource instances it admits, and whether trusted Azure services pass.

Keys are `<type>:<name>` (see network.key); a web app's other faces get their own entry, `<key>/scm` (the
deployment site), `<key>/sites-staging` and `<key>/scm-staging` (the staging slot), because App Service keeps
separate access restrictions for each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.checks.reachability.references import EnvironmentSynth, Node


@dataclass(frozen=True)
class PublicSide:
    enabled: bool
    default_allow: bool
    ip_rules: tuple[str, ...] = ()  # CIDRs, or `pip:<name>` for a public IP known only after apply
    service_tags: tuple[str, ...] = ()
    resource_instances: tuple[str, ...] = ()  # keys of resources admitted by identity (resource-instance rules)
    trusted_services: bool = False
    what: str = ""  # the setting that decides, for explanations

    def describe(self) -> str:
        if not self.enabled:
            return f"public network access disabled ({self.what})"
        if self.default_allow:
            return f"public endpoint open to all networks ({self.what})"
        admitted = [*self.ip_rules, *(f"tag {t}" for t in self.service_tags)]
        return f"public endpoint denies by default, admits [{', '.join(admitted) or 'nothing'}] ({self.what})"


def block(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _flag(attributes: dict[str, Any], name: str, default: bool = True) -> bool:
    value = attributes.get(name)
    return default if value is None else bool(value)


KeyOf = Callable[[EnvironmentSynth, Node], str]


def _ip(synth: EnvironmentSynth, stack: str, value: Any) -> str:
    """A literal range, or the public IP an `ip_address` reference names (`pip:<name>`)."""
    followed = synth.follow(stack, value)
    if followed and followed[0].tf_type in ("azurerm_public_ip", "data.azurerm_public_ip"):
        return f"pip:{synth.name(followed[0])}"
    literal = synth.literal(stack, value)
    return str(literal) if literal is not None else "?"


def _storage(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any], key_of: KeyOf) -> PublicSide:
    rules = block(attributes.get("network_rules"))
    instances = []
    for access in rules.get("private_link_access") or []:
        target = synth.node(node.stack, access.get("endpoint_resource_id"))
        instances.append(key_of(synth, target) if target else str(access.get("endpoint_resource_id")))
    return PublicSide(
        enabled=_flag(attributes, "public_network_access_enabled"),
        default_allow=rules.get("default_action", "Allow") == "Allow",
        ip_rules=tuple(_ip(synth, node.stack, r) for r in rules.get("ip_rules") or ()),
        resource_instances=tuple(instances),
        trusted_services="AzureServices" in (rules.get("bypass") or ()),
        what="storage firewall",
    )


def _network_acls(what: str) -> Callable[[EnvironmentSynth, Node, dict[str, Any]], PublicSide]:
    """A `network_acls` block (Key Vault, Azure AI services): default action, IP rules, trusted-services bypass."""
    def read(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
        acls = block(attributes.get("network_acls"))
        return PublicSide(
            enabled=_flag(attributes, "public_network_access_enabled"),
            default_allow=acls.get("default_action", "Allow") == "Allow",
            ip_rules=tuple(_ip(synth, node.stack, r) for r in acls.get("ip_rules") or ()),
            trusted_services=acls.get("bypass") == "AzureServices", what=what,
        )
    return read


_key_vault = _network_acls("Key Vault firewall")


def _cosmos(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    ranges = attributes.get("ip_range_filter") or []
    if isinstance(ranges, str):
        ranges = [r.strip() for r in ranges.split(",") if r.strip()]
    vnet_rules = attributes.get("virtual_network_rule") or []
    return PublicSide(
        enabled=_flag(attributes, "public_network_access_enabled"),
        default_allow=not ranges and not vnet_rules,
        ip_rules=tuple(_ip(synth, node.stack, r) for r in ranges),
        trusted_services=_flag(attributes, "network_acl_bypass_for_azure_services", False),
        what="Cosmos DB IP firewall",
    )


def _event_hubs(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    rules = block(attributes.get("network_rulesets"))
    return PublicSide(
        enabled=_flag(attributes, "public_network_access_enabled"),
        default_allow=rules.get("default_action", "Allow") == "Allow",
        ip_rules=tuple(_ip(synth, node.stack, r.get("ip_mask")) for r in rules.get("ip_rule") or ()),
        trusted_services=_flag(rules, "trusted_service_access_enabled", False), what="Event Hubs network rules",
    )


def _registry(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    rules = block(attributes.get("network_rule_set"))
    return PublicSide(
        enabled=_flag(attributes, "public_network_access_enabled"),
        default_allow=rules.get("default_action", "Allow") == "Allow",
        ip_rules=tuple(_ip(synth, node.stack, r.get("ip_range")) for r in rules.get("ip_rule") or ()),
        trusted_services=attributes.get("network_rule_bypass_option", "AzureServices") == "AzureServices",
        what="registry network rules",
    )


def _restrictions(
    synth: EnvironmentSynth, node: Node, enabled: bool, rules: list[dict[str, Any]], default: str | None, what: str
) -> PublicSide:
    """App Service access restrictions: with rules and no default action, unmatched traffic is denied."""
    allows = [r for r in rules if r.get("action", "Allow") == "Allow"]
    default_action = default or ("Deny" if rules else "Allow")
    return PublicSide(
        enabled=enabled, default_allow=default_action == "Allow",
        ip_rules=tuple(_ip(synth, node.stack, r["ip_address"]) for r in allows if r.get("ip_address")),
        service_tags=tuple(str(r["service_tag"]) for r in allows if r.get("service_tag")), what=what,
    )


def _web_app(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any], face: str) -> dict[str, PublicSide]:
    site = block(attributes.get("site_config"))
    enabled = _flag(attributes, "public_network_access_enabled")
    main = _restrictions(
        synth, node, enabled, site.get("ip_restriction") or [], site.get("ip_restriction_default_action"),
        f"{face} access restrictions",
    )
    scm_rules = site.get("scm_ip_restriction") or []
    scm = main if site.get("scm_use_main_ip_restriction") else _restrictions(
        synth, node, enabled, scm_rules, site.get("scm_ip_restriction_default_action"),
        f"{face} deployment-site (scm) access restrictions",
    )
    return {face: main, f"scm{face.removeprefix('sites')}": scm}


def _function_site(attributes: dict[str, Any]) -> PublicSide:
    properties = block(attributes.get("body")).get("properties", {})
    rules = properties.get("siteConfig", {}).get("ipSecurityRestrictions") or []
    return PublicSide(
        enabled=properties.get("publicNetworkAccess", "Enabled") == "Enabled", default_allow=not rules,
        what="function app publicNetworkAccess",
    )


_cognitive = _network_acls("Azure AI services network rules")


def _search(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    allowed = attributes.get("allowed_ips") or []
    return PublicSide(
        enabled=_flag(attributes, "public_network_access_enabled"), default_allow=not allowed,
        ip_rules=tuple(_ip(synth, node.stack, r) for r in allowed),
        trusted_services=attributes.get("network_rule_bypass_option") == "AzureServices", what="AI Search IP firewall",
    )


def _workspace(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    return PublicSide(_flag(attributes, "public_network_access_enabled"), True, what="workspace public network access")


def _app_insights(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    return PublicSide(
        _flag(attributes, "internet_ingestion_enabled"), True, what="Application Insights internet ingestion"
    )


def _data_factory(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    return PublicSide(_flag(attributes, "public_network_enabled"), True, what="Data Factory public network access")


def _kubernetes(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any]) -> PublicSide:
    ranges = block(attributes.get("api_server_access_profile")).get("authorized_ip_ranges") or []
    return PublicSide(
        not _flag(attributes, "private_cluster_enabled", False), not ranges, tuple(ranges),
        what="AKS API server (private cluster / authorized ranges)",
    )


# The reader of each resource type with one public side.
_SIDES: dict[str, Callable[[EnvironmentSynth, Node, dict[str, Any]], PublicSide]] = {
    "azurerm_key_vault": _key_vault,
    "azurerm_cosmosdb_account": _cosmos,
    "azurerm_eventhub_namespace": _event_hubs,
    "azurerm_container_registry": _registry,
    "azurerm_cognitive_account": _cognitive,
    "azurerm_search_service": _search,
    "azurerm_machine_learning_workspace": _workspace,
    "azurerm_application_insights": _app_insights,
    "azurerm_data_factory": _data_factory,
    "azurerm_kubernetes_cluster": _kubernetes,
}


def public_sides(synth: EnvironmentSynth, key_of: KeyOf) -> dict[str, PublicSide]:
    sides: dict[str, PublicSide] = {}
    for node in synth.nodes():
        attributes = synth.attributes(node)
        kind, node_key = node.tf_type, key_of(synth, node)
        if kind in _SIDES:
            sides[node_key] = _SIDES[kind](synth, node, attributes)
        elif kind == "azurerm_storage_account":
            sides[node_key] = _storage(synth, node, attributes, key_of)
        else:
            sides |= _site_sides(synth, node, attributes, node_key, key_of)
    return sides


def _site_sides(synth: EnvironmentSynth, node: Node, attributes: dict[str, Any], node_key: str,
                key_of: KeyOf) -> dict[str, PublicSide]:
    """The faces of an App Service site: the app and its SCM site; a slot's, under its app's key."""
    kind = node.tf_type
    if kind == "azurerm_linux_web_app":
        faces = _web_app(synth, node, attributes, "sites")
        return {node_key if face == "sites" else f"{node_key}/{face}": side for face, side in faces.items()}
    if kind == "azurerm_linux_web_app_slot":
        parent = synth.node(node.stack, attributes.get("app_service_id"))
        if parent is None:
            return {}
        faces = _web_app(synth, node, attributes, "sites-staging")
        return {f"{key_of(synth, parent)}/{face}": side for face, side in faces.items()}
    if kind == "azapi_resource" and node_key.startswith("Microsoft.Web/sites:"):
        return {node_key: _function_site(attributes)}
    return {}
