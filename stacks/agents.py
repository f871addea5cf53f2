"""The pipeline agents of an environment whose data planes are private (config `agents:`).

<env>-agents (bootstrap, before the foundation; `make bootstrap ENV=...`): its own resource group with the
Managed DevOps Pool in its own virtual network (stacks/modules/devops_pool.py). The infrastructure pipeline
never plans it, so a run cannot remove the pool it runs on.
The foundation peers the agents' network with the environment's and links its private DNS zones to it
(stacks/modules/agent_network.py).
"""

from __future__ import annotations

from cdktn_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct

from stacks.base import PlatformStack, present
from stacks.config import EnvironmentConfig
from stacks.modules.devops_pool import DevOpsPool


class AgentsStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, "agents", config=config)
        settings = present(config.agents, "the agents stack exists only where the environment configures agents")
        self.agents_group = self.namer.name("resource_group", "agents")
        group = ResourceGroup(
            self, "ResourceGroup", name=self.agents_group, location=config.location, tags=self.tags
        )
        self.pool = DevOpsPool(
            self, "DevOpsPool",
            placement=self.placement(resource_group_name=self.agents_group),
            namer=self.namer, settings=settings, workload=config.workload, environment=config.name,
        )
        self.pool.node.add_dependency(group)
