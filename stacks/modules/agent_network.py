"""The pipeline agents' way into an environment's network: peering both ways between the agents' virtual network
(created by the bootstrap `<env>-agents` stack) and each of the environment's networks (the primary one and every
extra app region's: peering is not transitive, so a regional app's endpoints are out of reach through the primary
network), and a link from every private DNS zone to the agents' network, so agents resolve and reach the private
endpoints of Key Vault, storage, the ML workspace and every region's web app and deployment site.

Built inside the foundation, so that the foundation's own data-plane writes (its Key Vault keys, secret and
certificate) can wait for it within the very first apply: Terraform creates the peering and the links before the
writes that travel over them.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktn import TerraformResource
from cdktn_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
from cdktn_provider_azurerm.virtual_network_peering import VirtualNetworkPeering
from constructs import Construct

from stacks.modules.network import Network, peering_name


class AgentNetwork(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, agents_group: str, agents_vnet_name: str, agents_vnet_id: str,
        environment_group: str, environment: Network, zone_names: Mapping[str, str],
        regional: Mapping[str, Network] | None = None, tags: Mapping[str, str],
    ) -> None:
        """`zone_names`: each private DNS zone's name reference; `regional`: region -> its network, for each extra
        app region; `tags`: what the zone links carry."""
        super().__init__(scope, id_)
        self.vnet_id = agents_vnet_id
        self.ready: list[TerraformResource] = []
        for direction, (group, vnet_name, remote_id) in {
            "ToEnvironment": (agents_group, agents_vnet_name, environment.vnet_id),
            "ToAgents": (environment_group, environment.vnet_name, agents_vnet_id),
        }.items():
            self.ready.append(VirtualNetworkPeering(
                self, f"Peering{direction}",
                name=f"peer-{direction.removeprefix('To').lower()}",
                resource_group_name=group,
                virtual_network_name=vnet_name,
                remote_virtual_network_id=remote_id,
                allow_virtual_network_access=True,
                allow_forwarded_traffic=False,
            ))
        for region, network in sorted((regional or {}).items()):
            key = region.title()
            for direction, (group, vnet_name, remote_id, name) in {
                "ToEnvironment": (
                    agents_group, agents_vnet_name, network.vnet_id, peering_name(agents_vnet_name, network.name)
                ),
                "ToAgents": (
                    environment_group, network.vnet_name, agents_vnet_id, peering_name(network.name, agents_vnet_name)
                ),
            }.items():
                self.ready.append(VirtualNetworkPeering(
                    self, f"Peering{direction}{key}",
                    name=name,
                    resource_group_name=group,
                    virtual_network_name=vnet_name,
                    remote_virtual_network_id=remote_id,
                    allow_virtual_network_access=True,
                    allow_forwarded_traffic=False,
                ))
        for zone_name, zone_name_reference in sorted(zone_names.items()):
            zone_id = "".join(part.title() for part in zone_name.split(".")[1:3])
            self.ready.append(PrivateDnsZoneVirtualNetworkLink(
                self, f"DnsLink{zone_id}",
                name="link-agents",
                resource_group_name=environment_group,
                private_dns_zone_name=zone_name_reference,
                virtual_network_id=agents_vnet_id,
                registration_enabled=False,
                tags=tags,
            ))
