"""The pipeline agents of an environment whose data planes are private (config `agents:`).

<env>-agents (bootstrap, before the foundation; `make bootstrap ENV=...`): its own resource group with the
Managed DevOps Pool in its own virtual network (stacks/modules/devops_pool.py). The infrastructure pipeline
never plans it, so a run cannot remove the pool it runs on.
<env>-agent-network (after the foundation, in the pipeline's normal order): peers the agents' network with
the environment's network both ways and links every private DNS zone to it, so agents resolve and reach
the private endpoints of Key Vault, storage, the ML workspace and the web apps' deployment endpoints.
"""

from __future__ import annotations

from cdktn_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
from cdktn_provider_azurerm.resource_group import ResourceGroup
from cdktn_provider_azurerm.virtual_network_peering import VirtualNetworkPeering
from constructs import Construct

from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.devops_pool import DevOpsPool
from stacks.modules.interfaces import Placement


class AgentsStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, "agents", config=config)
        assert config.agents is not None
        self.agents_group = self.namer.name("resource_group", "agents")
        group = ResourceGroup(self, "ResourceGroup", name=self.agents_group, location=config.location)
        self.pool = DevOpsPool(
            self, "DevOpsPool",
            placement=Placement(resource_group_name=self.agents_group, location=config.location),
            namer=self.namer, settings=config.agents, workload=config.workload, environment=config.name,
        )
        self.pool.node.add_dependency(group)


class AgentNetworkStack(PlatformStack):
    """Peering and private DNS links between the agents' network (names from config) and the foundation's."""

    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack) -> None:
        super().__init__(scope, "agent-network", config=config)
        agents_group = self.namer.name("resource_group", "agents")
        agents_vnet = self.namer.name("virtual_network", "agents", config.location)
        agents_vnet_id = (f"/subscriptions/{config.subscription_id}/resourceGroups/{agents_group}"
                          f"/providers/Microsoft.Network/virtualNetworks/{agents_vnet}")
        environment_vnet = foundation.network.vnet
        for direction, (group, vnet_name, remote_id) in {
            "ToEnvironment": (agents_group, agents_vnet, environment_vnet.id),
            "ToAgents": (foundation.resource_group_name, environment_vnet.name, agents_vnet_id),
        }.items():
            VirtualNetworkPeering(
                self, f"Peering{direction}",
                name=f"peer-{direction.removeprefix('To').lower()}",
                resource_group_name=group,
                virtual_network_name=vnet_name,
                remote_virtual_network_id=remote_id,
                allow_virtual_network_access=True,
                allow_forwarded_traffic=False,
            )
        assert foundation.private_link is not None
        for zone_name in sorted(foundation.private_link.dns_zone_ids):
            zone_id = "".join(part.title() for part in zone_name.split(".")[1:3])
            PrivateDnsZoneVirtualNetworkLink(
                self, f"DnsLink{zone_id}",
                name="link-agents",
                resource_group_name=foundation.resource_group_name,
                private_dns_zone_name=zone_name,
                virtual_network_id=agents_vnet_id,
                registration_enabled=False,
            )
