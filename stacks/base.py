"""What every stack of the blueprint shares: provider, state backend, naming, placement and required tags."""

from __future__ import annotations

from functools import cached_property
from typing import TypeVar

from cdktn import AzurermBackend, LocalBackend, TerraformStack
from cdktn_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktn_provider_azurerm.provider import (
    AzurermProvider,
    AzurermProviderFeatures,
    AzurermProviderFeaturesStorage,
)
from constructs import Construct

from stacks.config import EnvironmentConfig
from stacks.modules.interfaces import Placement
from stacks.naming import Namer

# Relative to the stack's working directory (cdktf.out/stacks/<stack>/), so the synthesized JSON is
# the same on every machine and state survives a fresh synth: <repo>/.terraform-state/<stack>.tfstate.
LOCAL_STATE_DIR = "../../../.terraform-state"

T = TypeVar("T")


def present(value: T | None, why: str) -> T:
    """A value the stack graph guarantees, or an error saying why it should be there (the synth runs under
    `python -O`, which drops asserts)."""
    if value is None:
        raise ValueError(why)
    return value


class PlatformStack(TerraformStack):
    """A deployment unit of one environment: `<env>-<unit>` with its own state."""

    def __init__(self, scope: Construct, unit: str, *, config: EnvironmentConfig) -> None:
        self.stack_name = f"{config.name}-{unit}"
        super().__init__(scope, self.stack_name)
        self.config = config
        # Every taggable resource is built with these (AVM's `tags` interface, through Placement), so they ride
        # along with its creation instead of costing a round trip to Node of their own.
        self.tags = config.all_tags
        self.namer = Namer(config.workload, config.name, config.subscription_id)
        AzurermProvider(
            self, "azurerm",
            # No storage data-plane calls while creating or reading accounts (storage_account_resource.go at
            # v4.81.0 polls blob/queue endpoints after create and reads queue properties on every refresh): those
            # endpoints are closed to a deployer outside the network, so a 403 would end the apply. Settings that
            # need the data plane are not used (queue logging goes to Log Analytics through diagnostic settings).
            features=[AzurermProviderFeatures(storage=[AzurermProviderFeaturesStorage(data_plane_available=False)])],
            subscription_id=config.subscription_id,
            # Storage data-plane calls use Entra ID: shared keys are disabled on every account.
            storage_use_azuread=True,
        )
        self._backend(config)

    def _backend(self, config: EnvironmentConfig) -> None:
        state = config.state_backend
        if state.kind == "azurerm":
            AzurermBackend(
                self,
                resource_group_name=state.resource_group,
                storage_account_name=state.storage_account,  # type: ignore[arg-type]
                container_name=state.container,
                key=f"{self.stack_name}.tfstate",
                subscription_id=config.subscription_id,
                use_azuread_auth=True,  # Entra ID (workload identity in pipelines), never access keys
            )
        else:
            LocalBackend(self, path=f"{LOCAL_STATE_DIR}/{self.stack_name}.tfstate")

    @cached_property
    def client(self) -> DataAzurermClientConfig:
        """The principal applying this stack, read by the stack itself: a grant to "the deployer" goes to whoever
        deploys this unit, not to whoever applied the foundation (a cross-stack reference would freeze that)."""
        return DataAzurermClientConfig(self, "Client")

    @property
    def resource_group_name(self) -> str:
        """The environment's resource group: one per environment, so one budget and one lock policy cover it."""
        return self.namer.name("resource_group")

    def placement(self, region: str | None = None, resource_group_name: str | None = None) -> Placement:
        return Placement(
            resource_group_name=resource_group_name or self.resource_group_name,
            location=region or self.config.location,
            tags=self.tags,
        )
