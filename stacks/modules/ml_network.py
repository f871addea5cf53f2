"""Outbound path of the Azure ML training subnet: a NAT gateway with one static public IP.

The workspace uses our virtual network (no managed network: Kubernetes compute and compute in our own subnet
are not supported with one), so its compute cluster runs in the ML subnet without public IPs. Subnets here
have default outbound access off, and a no-public-IP cluster needs an explicit outbound path to the Azure ML
control plane (Learn: how-to-secure-training-vnet). Storage, registry, vaults and the workspace itself resolve
to their private endpoints through the linked private DNS zones, so only service traffic leaves through here.
"""

from __future__ import annotations

from cdktn_provider_azurerm.nat_gateway import NatGateway
from cdktn_provider_azurerm.nat_gateway_public_ip_association import NatGatewayPublicIpAssociation
from cdktn_provider_azurerm.public_ip import PublicIp
from cdktn_provider_azurerm.subnet_nat_gateway_association import SubnetNatGatewayAssociation
from constructs import Construct

from stacks.modules.interfaces import Placement


class MlSubnetEgress(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, name: str, subnet_id: str
    ) -> None:
        super().__init__(scope, id_)
        self.public_ip = PublicIp(
            self, "PublicIp",
            name=f"pip-{name}",
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            allocation_method="Static",
            sku="Standard",
        )
        self.nat_gateway = NatGateway(
            self, "NatGateway",
            name=f"ng-{name}",
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku_name="Standard",
            idle_timeout_in_minutes=10,
        )
        NatGatewayPublicIpAssociation(
            self, "PublicIpAssociation", nat_gateway_id=self.nat_gateway.id, public_ip_address_id=self.public_ip.id
        )
        self.association = SubnetNatGatewayAssociation(
            self, "SubnetAssociation", subnet_id=subnet_id, nat_gateway_id=self.nat_gateway.id
        )
