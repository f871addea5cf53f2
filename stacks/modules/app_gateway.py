"""A regional Application Gateway WAF_v2: the private web tier's front door in one app region.

The App Service baseline architecture (Microsoft Learn): clients reach a zone-redundant Application Gateway
with a Web Application Firewall (OWASP core rule set, prevention mode) on a public IP with a DNS label; it ends
TLS with a certificate it reads from Key Vault through a user-assigned identity and forwards over HTTPS to the
web app's private endpoint, probing the app's health path. Traffic Manager targets the public IP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktn_provider_azurerm.application_gateway import (
    ApplicationGateway,
    ApplicationGatewayAutoscaleConfiguration,
    ApplicationGatewayBackendAddressPool,
    ApplicationGatewayBackendHttpSettings,
    ApplicationGatewayFrontendIpConfiguration,
    ApplicationGatewayFrontendPort,
    ApplicationGatewayGatewayIpConfiguration,
    ApplicationGatewayHttpListener,
    ApplicationGatewayIdentity,
    ApplicationGatewayProbe,
    ApplicationGatewayProbeMatch,
    ApplicationGatewayRedirectConfiguration,
    ApplicationGatewayRequestRoutingRule,
    ApplicationGatewaySku,
    ApplicationGatewaySslCertificate,
    ApplicationGatewaySslPolicy,
)
from cdktn_provider_azurerm.public_ip import PublicIp
from cdktn_provider_azurerm.web_application_firewall_policy import (
    WebApplicationFirewallPolicy,
    WebApplicationFirewallPolicyManagedRules,
    WebApplicationFirewallPolicyManagedRulesManagedRuleSet,
    WebApplicationFirewallPolicyPolicySettings,
)
from constructs import Construct

from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces

# The newest OWASP core rule set the provider accepts (validate/web_application_firewall_policy.go, v4.81.0).
OWASP_RULE_SET_VERSION = "3.2"
TLS_POLICY = "AppGwSslPolicy20220101S"  # TLS 1.2+ with strong ciphers only
ZONES = ["1", "2", "3"]

# Names of the gateway's sub-resources (referenced by name inside the one resource).
_FRONTEND, _HTTPS_PORT, _LISTENER, _CERTIFICATE = "public", "https", "https", "web-tls"
_POOL, _SETTINGS, _PROBE, _RULE = "web-app", "web-app-https", "web-app-health", "web-app"
_HTTP_PORT, _HTTP_LISTENER, _TO_HTTPS = "http", "http", "http-to-https"


@dataclass(frozen=True)
class GatewaySizing:
    min_capacity: int
    max_capacity: int
    zone_redundant: bool


class RegionalGateway(Construct):
    """`public_ip` is what Traffic Manager targets; `gateway` forwards to `backend_fqdn` over HTTPS."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        policy_name: str, public_ip_name: str, dns_label: str, subnet_id: str, identity: ManagedIdentity,
        certificate_secret_id: str, backend_fqdn: str, health_path: str, sizing: GatewaySizing,
        host_name: str | None = None, depends_on: Sequence[Construct] = (),
    ) -> None:
        """`host_name`: the custom domain the listeners answer for (None: any name, for the self-signed
        certificate of the Traffic Manager name)."""
        super().__init__(scope, id_)
        zones = ZONES if sizing.zone_redundant else None
        self.policy = self._firewall_policy(placement, policy_name)
        self.public_ip = PublicIp(
            self, "PublicIp",
            name=public_ip_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku="Standard",
            allocation_method="Static",
            zones=zones,
            # <label>.<region>.cloudapp.azure.com: Traffic Manager Azure endpoints need a public IP with a DNS name.
            domain_name_label=dns_label,
        )
        self.gateway = ApplicationGateway(
            self, "Gateway",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku=ApplicationGatewaySku(name="WAF_v2", tier="WAF_v2"),
            autoscale_configuration=ApplicationGatewayAutoscaleConfiguration(
                min_capacity=sizing.min_capacity, max_capacity=sizing.max_capacity
            ),
            zones=zones,
            firewall_policy_id=self.policy.id,
            force_firewall_policy_association=True,
            identity=ApplicationGatewayIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
            gateway_ip_configuration=[
                ApplicationGatewayGatewayIpConfiguration(name="gateway", subnet_id=subnet_id)
            ],
            **_frontend(self.public_ip.id, certificate_secret_id, host_name),
            **_backend(backend_fqdn, health_path),
            depends_on=list(depends_on),  # type: ignore[arg-type]
        )
        StandardInterfaces(self, placement, interfaces).apply(resource_id=self.gateway.id, resource_name=name)

    def _firewall_policy(self, placement: Placement, policy_name: str) -> WebApplicationFirewallPolicy:
        return WebApplicationFirewallPolicy(
            self, "FirewallPolicy",
            name=policy_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            policy_settings=WebApplicationFirewallPolicyPolicySettings(
                enabled=True, mode="Prevention", request_body_check=True,
            ),
            managed_rules=WebApplicationFirewallPolicyManagedRules(
                managed_rule_set=[
                    WebApplicationFirewallPolicyManagedRulesManagedRuleSet(
                        type="OWASP", version=OWASP_RULE_SET_VERSION
                    )
                ],
            ),
        )


def _frontend(public_ip_id: str, certificate_secret_id: str, host_name: str | None) -> dict[str, Any]:
    """The gateway's side facing clients: HTTPS with the Key Vault certificate, and HTTP that only redirects."""
    return {
        "frontend_ip_configuration": [
            ApplicationGatewayFrontendIpConfiguration(name=_FRONTEND, public_ip_address_id=public_ip_id)
        ],
        "frontend_port": [
            ApplicationGatewayFrontendPort(name=_HTTPS_PORT, port=443),
            ApplicationGatewayFrontendPort(name=_HTTP_PORT, port=80),
        ],
        "ssl_policy": ApplicationGatewaySslPolicy(policy_type="Predefined", policy_name=TLS_POLICY),
        "ssl_certificate": [
            ApplicationGatewaySslCertificate(name=_CERTIFICATE, key_vault_secret_id=certificate_secret_id)
        ],
        "http_listener": [
            ApplicationGatewayHttpListener(
                name=_LISTENER, frontend_ip_configuration_name=_FRONTEND, frontend_port_name=_HTTPS_PORT,
                protocol="Https", ssl_certificate_name=_CERTIFICATE, host_name=host_name,
            ),
            ApplicationGatewayHttpListener(
                name=_HTTP_LISTENER, frontend_ip_configuration_name=_FRONTEND, frontend_port_name=_HTTP_PORT,
                protocol="Http", host_name=host_name,
            ),
        ],
        # Plain HTTP only ever answers with a permanent redirect to the same URL over HTTPS.
        "redirect_configuration": [
            ApplicationGatewayRedirectConfiguration(
                name=_TO_HTTPS, redirect_type="Permanent", target_listener_name=_LISTENER,
                include_path=True, include_query_string=True,
            )
        ],
    }


def _backend(backend_fqdn: str, health_path: str) -> dict[str, Any]:
    """The gateway's side facing the web app: HTTPS to its private endpoint, probed on its health path."""
    return {
        "backend_address_pool": [ApplicationGatewayBackendAddressPool(name=_POOL, fqdns=[backend_fqdn])],
        # The app's own host name: App Service routes by it, and its certificate (*.azurewebsites.net)
        # is trusted by the gateway without uploading a root.
        "backend_http_settings": [
            ApplicationGatewayBackendHttpSettings(
                name=_SETTINGS, port=443, protocol="Https", cookie_based_affinity="Disabled",
                pick_host_name_from_backend_address=True, request_timeout=30, probe_name=_PROBE,
            )
        ],
        "probe": [
            ApplicationGatewayProbe(
                name=_PROBE, protocol="Https", path=health_path, interval=30, timeout=30, unhealthy_threshold=3,
                pick_host_name_from_backend_http_settings=True,
                match=ApplicationGatewayProbeMatch(status_code=["200-399"]),
            )
        ],
        "request_routing_rule": [
            ApplicationGatewayRequestRoutingRule(
                name=_RULE, rule_type="Basic", priority=100, http_listener_name=_LISTENER,
                backend_address_pool_name=_POOL, backend_http_settings_name=_SETTINGS,
            ),
            ApplicationGatewayRequestRoutingRule(
                name=_TO_HTTPS, rule_type="Basic", priority=200, http_listener_name=_HTTP_LISTENER,
                redirect_configuration_name=_TO_HTTPS,
            ),
        ],
    }
