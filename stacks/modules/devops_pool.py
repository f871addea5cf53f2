"""Pipeline agents inside the network: a Managed DevOps Pool injected into its own virtual network.

The subnet is delegated to Microsoft.DevOpsInfrastructure/pools and sits behind its own network security
group; agents leave through a NAT gateway (subnets get no default outbound address) to reach Azure DevOps,
Azure Resource Manager and the package registries. The DevOpsInfrastructure service principal needs Reader
and Network Contributor on the virtual network to place agents in it. Stateless agents: every job gets a
fresh machine, as Microsoft-hosted agents do.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktn import TerraformResource, TerraformVariable, TerraformVariableValidationConfig
from cdktn_provider_azurerm.dev_center import DevCenter
from cdktn_provider_azurerm.dev_center_project import DevCenterProject
from cdktn_provider_azurerm.managed_devops_pool import (
    ManagedDevopsPool,
    ManagedDevopsPoolAzureDevopsOrganization,
    ManagedDevopsPoolAzureDevopsOrganizationOrganization,
    ManagedDevopsPoolStatelessAgent,
    ManagedDevopsPoolVirtualMachineScaleSetFabric,
    ManagedDevopsPoolVirtualMachineScaleSetFabricImage,
)
from cdktn_provider_azurerm.nat_gateway import NatGateway
from cdktn_provider_azurerm.nat_gateway_public_ip_association import NatGatewayPublicIpAssociation
from cdktn_provider_azurerm.public_ip import PublicIp
from cdktn_provider_azurerm.subnet_nat_gateway_association import SubnetNatGatewayAssociation
from constructs import Construct

from stacks.compute_config import AgentPool
from stacks.modules.interfaces import Grants, Placement, RoleAssignment
from stacks.modules.network import Network, SubnetSpec
from stacks.naming import Namer

POOL_DELEGATION = "Microsoft.DevOpsInfrastructure/pools"
AGENT_SUBNET = "agents"
# What the DevOpsInfrastructure service principal needs on the virtual network (Managed DevOps Pools docs).
POOL_SERVICE_ROLES = ("Reader", "Network Contributor")


def pool_name(workload: str, environment: str) -> str:
    """The pool's name, also the Azure DevOps agent pool name pipelines/templates/variables/<env>.yml names."""
    return f"mdp-{workload}-{environment}"


class DevOpsPool(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, namer: Namer, settings: AgentPool,
        workload: str, environment: str,
    ) -> None:
        super().__init__(scope, id_)
        self._placement, self._settings = placement, settings
        self._workload, self._environment = workload, environment
        self.network = Network(
            self, "Network", placement=placement, namer=namer, address_space=settings.address_space,
            subnets=[SubnetSpec(AGENT_SUBNET, settings.subnet, delegation=POOL_DELEGATION)], qualifier="agents",
        )
        self._egress()
        # The pool service places agents in the subnet with these roles: they must exist before the pool.
        principal = self._service_principal().string_value
        roles = Grants(self).on(self.network.vnet_id, {
            f"PoolService{role.replace(' ', '')}": RoleAssignment(principal, role) for role in POOL_SERVICE_ROLES
        })
        self.pool = self._pool(depends_on=roles)

    def _egress(self) -> None:
        """Agents leave through a NAT gateway with a zone-redundant static address."""
        region, group = self._placement.location, self._placement.resource_group_name
        qualifier = f"{self._workload}-{self._environment}-agents"
        egress_ip = PublicIp(
            self, "EgressIp", name=f"pip-{qualifier}", location=region, resource_group_name=group,
            tags=self._placement.tags,
            allocation_method="Static", sku="Standard", zones=["1", "2", "3"],
        )
        nat = NatGateway(
            self, "Egress", name=f"ng-{qualifier}", location=region, resource_group_name=group,
            tags=self._placement.tags,
            sku_name="Standard",
        )
        NatGatewayPublicIpAssociation(
            self, "EgressIpAssociation", nat_gateway_id=nat.id, public_ip_address_id=egress_ip.id
        )
        SubnetNatGatewayAssociation(
            self, "EgressSubnet", subnet_id=self.network.subnet_ids[AGENT_SUBNET], nat_gateway_id=nat.id
        )

    def _service_principal(self) -> TerraformVariable:
        """The pool service's principal exists only once Microsoft.DevOpsInfrastructure is registered:
        `make bootstrap` looks it up and passes it in (TF_VAR_devops_infrastructure_principal_id); the
        environment file may pin it instead."""
        principal = TerraformVariable(
            self, "devops_infrastructure_principal_id", type="string",
            default=self._settings.devops_infrastructure_principal_id,
            description="Object id of the DevOpsInfrastructure service principal (looked up by make bootstrap)",
            validation=[TerraformVariableValidationConfig(
                condition='can(regex("^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", '
                          'var.devops_infrastructure_principal_id)) '
                          '&& var.devops_infrastructure_principal_id != "00000000-0000-0000-0000-000000000000"',
                error_message="devops_infrastructure_principal_id must be the DevOpsInfrastructure principal's "
                              "object id (run make bootstrap, which looks it up)",
            )],
        )
        principal.override_logical_id("devops_infrastructure_principal_id")
        return principal

    def _pool(self, depends_on: Sequence[TerraformResource]) -> ManagedDevopsPool:
        region, group = self._placement.location, self._placement.resource_group_name
        workload, environment, settings = self._workload, self._environment, self._settings
        dev_center = DevCenter(
            self, "DevCenter", name=f"dc-{workload}-{environment}", location=region, resource_group_name=group,
            tags=self._placement.tags,
        )
        project = DevCenterProject(
            self, "DevCenterProject", name=f"dcp-{workload}-{environment}", location=region,
            resource_group_name=group, dev_center_id=dev_center.id,
            tags=self._placement.tags,
        )
        return ManagedDevopsPool(
            self, "Pool",
            name=pool_name(workload, environment),
            location=region,
            resource_group_name=group,
            tags=self._placement.tags,
            dev_center_project_id=project.id,
            maximum_concurrency=settings.max_agents,
            azure_devops_organization=ManagedDevopsPoolAzureDevopsOrganization(
                organization=[ManagedDevopsPoolAzureDevopsOrganizationOrganization(
                    url=settings.organization_url, projects=list(settings.projects), parallelism=settings.max_agents,
                )],
            ),
            stateless_agent=ManagedDevopsPoolStatelessAgent(),
            virtual_machine_scale_set_fabric=ManagedDevopsPoolVirtualMachineScaleSetFabric(
                sku_name=settings.vm_size,
                image=[ManagedDevopsPoolVirtualMachineScaleSetFabricImage(well_known_image_name=f"{settings.image}/latest")],
                subnet_id=self.network.subnet_ids[AGENT_SUBNET],
            ),
            depends_on=list(depends_on),
        )
