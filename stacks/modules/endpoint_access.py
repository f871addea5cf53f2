"""Who may call the online endpoint: a custom role holding exactly the endpoint's token action.

The Kubernetes online endpoint admits its own short-lived token (`aml_token`), which a caller gets from the
workspace's token action with its managed identity (Learn concept-endpoints-online-auth, "Control plane
operations": `onlineEndpoints/token/action`, Owner, Contributor or a custom role). No built-in role is that
narrow: AzureML Data Scientist holds it through `workspaces/*/action` together with creating, deleting and
re-keying endpoints and running jobs. The role is assignable in the environment's resource group only and granted
on the workspace (the endpoint itself is created later, by the ML pipeline, so it cannot be the grant's scope).
"""

from __future__ import annotations

from cdktn_provider_azurerm.role_definition import RoleDefinition, RoleDefinitionPermissions
from constructs import Construct

from contract import ML_ENDPOINT_TOKEN_ACTION
from stacks.modules.interfaces import CustomRole


class EndpointTokenRole(Construct):
    def __init__(self, scope: Construct, id_: str, *, name: str, resource_group_id: str) -> None:
        super().__init__(scope, id_)
        self.definition = RoleDefinition(
            self, "Definition",
            name=name,  # a custom role's name is unique in the tenant
            scope=resource_group_id,
            description="Get the online endpoint's scoring token (aml_token), and nothing else.",
            permissions=[RoleDefinitionPermissions(actions=[ML_ENDPOINT_TOKEN_ACTION])],
            assignable_scopes=[resource_group_id],
        )
        self.role = CustomRole(name, self.definition.role_definition_resource_id)
