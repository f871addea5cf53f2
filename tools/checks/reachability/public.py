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


def public_sides(synth: EnvironmentSynth, key_of: KeyOf) -> dict[str, PublicSide]:
    sides: dict[str, PublicSide] = {}
    for node in synth.nodes():
        attributes = synth.attributes(node)
        kind, node_key = node.tf_type, key_of(synth, node)
        if kind == "azurerm_storage_account":
            sides[node_key] = _storage(synth, node, attributes, key_of)
        elif kind == "azurerm_key_vault":
            sides[node_key] = _key_vault(synth, node, attributes)
        elif kind == "azurerm_cosmosdb_account":
            sides[node_key] = _cosmos(synth, node, attributes)
        elif kind == "azurerm_eventhub_namespace":
            sides[node_key] = _event_hubs(synth, node, attributes)
        elif kind == "azurerm_container_registry":
            sides[node_key] = _registry(synth, node, attributes)
        elif kind == "azurerm_cognitive_account":
            sides[node_key] = _cognitive(synth, node, attributes)
        elif kind == "azurerm_search_service":
            sides[node_key] = _search(synth, node, attributes)
        elif kind == "azurerm_machine_learning_workspace":
            sides[node_key] = PublicSide(
                _flag(attributes, "public_network_access_enabled"), True, what="workspace public network access"
            )
        elif kind == "azurerm_application_insights":
            sides[node_key] = PublicSide(
                _flag(attributes, "internet_ingestion_enabled"), True, what="Application Insights internet ingestion"
            )
        elif kind == "azurerm_data_factory":
            sides[node_key] = PublicSide(
                _flag(attributes, "public_network_enabled"), True, what="Data Factory public network access"
            )
        elif kind == "azurerm_kubernetes_cluster":
            ranges = block(attributes.get("api_server_access_profile")).get("authorized_ip_ranges") or []
            sides[node_key] = PublicSide(
                not _flag(attributes, "private_cluster_enabled", False), not ranges, tuple(ranges),
                what="AKS API server (private cluster / authorized ranges)",
            )
        elif kind == "azurerm_linux_web_app":
            for face, side in _web_app(synth, node, attributes, "sites").items():
                sides[node_key if face == "sites" else f"{node_key}/{face}"] = side
        elif kind == "azurerm_linux_web_app_slot":
            parent = synth.node(node.stack, attributes.get("app_service_id"))
            if parent is not None:
                for face, side in _web_app(synth, node, attributes, "sites-staging").items():
                    sides[f"{key_of(synth, parent)}/{face}"] = side
        elif kind == "azapi_resource" and node_key.startswith("Microsoft.Web/sites:"):
            sides[node_key] = _function_site(attributes)
    return sides
