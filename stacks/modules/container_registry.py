"""Container registry for Azure ML environments: Entra ID pulls only, no admin user, no anonymous pulls.

No quarantine: a quarantined image stays unpullable until a scanner marks it Passed, and nothing here does, so
the images Azure ML builds could never run. No Docker Content Trust: it is deprecated and removed on
2028-03-31 (`az acr config content-trust`, aka.ms/acr/dctdeprecation); signing moves to the Notary Project.
"""

from __future__ import annotations

from cdktn_provider_azurerm.container_registry import (
    ContainerRegistry as AzContainerRegistry,
)
from cdktn_provider_azurerm.container_registry import (
    ContainerRegistryNetworkRuleSet,
    ContainerRegistryNetworkRuleSetIpRule,
)
from constructs import Construct

from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces


class ContainerRegistry(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str, sku: str,
        zone_redundant: bool = True,
    ) -> None:
        super().__init__(scope, id_)
        network = interfaces.network_access
        premium = sku == "Premium"  # network rules, retention and zone redundancy need Premium
        self.registry = AzContainerRegistry(
            self, "Registry",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku=sku,
            admin_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access_enabled=network.public,
            network_rule_bypass_option="AzureServices",
            network_rule_set=[ContainerRegistryNetworkRuleSet(
                default_action="Deny",
                ip_rule=[
                    ContainerRegistryNetworkRuleSetIpRule(action="Allow", ip_range=r) for r in network.allowed_ip_ranges
                ],
            )] if premium and network.public else None,
            retention_policy_in_days=7 if premium else None,
            quarantine_policy_enabled=False,
            trust_policy_enabled=False,
            export_policy_enabled=network.public or not premium,
            data_endpoint_enabled=premium or None,
            zone_redundancy_enabled=zone_redundant if premium else None,
        )
        self.standard = StandardInterfaces(self, placement, interfaces)
        self.standard.apply(
            resource_id=self.registry.id, resource_name=name, private_endpoint_subresources=["registry"]
        )
