"""One host name that resolves to a private address inside the networks linked to it.

The zone is the host name itself, with its answer at the apex (`@`): a zone for the parent domain would answer
for every sibling name too (a private zone is authoritative for all names under it, so the public records of
`carprice.example.com` would stop resolving in the linked networks). A private DNS zone answers only in the
virtual networks linked to it (Learn: private-dns-virtual-network-links), so every network whose callers use
the name gets a link.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktn_provider_azurerm.private_dns_a_record import PrivateDnsARecord
from cdktn_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktn_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
from constructs import Construct

from stacks.modules.interfaces import Placement


class PrivateName(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, host: str, address: str,
        linked_networks: Mapping[str, str], ttl: int = 300,
    ) -> None:
        super().__init__(scope, id_)
        self.host = host
        self.address = address
        self.zone = PrivateDnsZone(
            self, "Zone", name=host, resource_group_name=placement.resource_group_name, tags=placement.tags
        )
        zone_name = self.zone.name  # read once: each read is a round trip to Node
        self.record = PrivateDnsARecord(
            self, "Address", name="@", zone_name=zone_name, resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            ttl=ttl, records=[address],
        )
        self.links = {
            key: PrivateDnsZoneVirtualNetworkLink(
                self, f"Link{key.title().replace('-', '')}",
                name=f"link-{key}",
                resource_group_name=placement.resource_group_name,
                tags=placement.tags,
                private_dns_zone_name=zone_name,
                virtual_network_id=vnet_id,
                registration_enabled=False,
            )
            for key, vnet_id in sorted(linked_networks.items())
        }
