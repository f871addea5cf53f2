"""Azure AI Search for the assistant's retrieval: the service that holds the `listings` index.

Secure defaults: Entra ID only (API keys off), the public endpoint closed or limited to the environment's
allowed ranges with no trusted-service bypass, a user-assigned identity, a private endpoint (`searchService`)
per app region, operation logs to Log Analytics. The index itself has no Resource Manager resource: a deploy
step creates it from its schema (contract). Settings verified at azurerm v4.81.0 (docs/deploy-readiness.md).
"""

from __future__ import annotations

from functools import cached_property

from cdktn_provider_azurerm.search_service import SearchService as AzSearchService
from cdktn_provider_azurerm.search_service import SearchServiceIdentity
from constructs import Construct

from stacks.genai_config import SearchService as SearchSizing
from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces


class ListingSearch(Construct):
    """`service`; grants arrive through `interfaces.role_assignments`."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        identity: ManagedIdentity, sizing: SearchSizing,
    ) -> None:
        super().__init__(scope, id_)
        network = interfaces.network_access
        self.service = AzSearchService(
            self, "Service",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku=sizing.sku,
            replica_count=sizing.replica_count,
            partition_count=sizing.partition_count,
            # RBAC only: with local authentication off the provider sends no API-key auth options
            # (search_service_resource.go create: authenticationOptions = nil, disableLocalAuth = true).
            local_authentication_enabled=False,
            public_network_access_enabled=network.public,
            allowed_ips=network.ip_rules,
            network_rule_bypass_option="None",
            # The index is encrypted with Microsoft-managed keys: customer-managed keys are set per index (data
            # plane), and enforcement would refuse an index created without one (docs/deploy-readiness.md).
            customer_managed_key_enforcement_enabled=False,
            identity=SearchServiceIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
        )
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.service.id, resource_name=name, private_endpoint_subresources=["searchService"],
            stateful=True,  # the index takes a full re-index to rebuild: locked where the environment locks
        )

    @cached_property
    def endpoint(self) -> str:
        return self.service.endpoint  # https://<name>.search.windows.net, as the service reports it
