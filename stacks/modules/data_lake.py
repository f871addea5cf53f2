"""The Data Lake: ADLS Gen2 with one filesystem per medallion layer and lifecycle rules for raw data."""

from __future__ import annotations

from collections.abc import Sequence

from cdktn import TerraformResource
from cdktn_provider_azurerm.storage_container import StorageContainer
from cdktn_provider_azurerm.storage_management_policy import (
    StorageManagementPolicy,
    StorageManagementPolicyRule,
    StorageManagementPolicyRuleActions,
    StorageManagementPolicyRuleActionsBaseBlob,
    StorageManagementPolicyRuleFilters,
)
from constructs import Construct

from contract import LAKE_LAYERS
from stacks.modules.interfaces import Grants, Interfaces, Placement, RoleAssignment
from stacks.modules.storage import SecureStorageAccount


class DataLake(Construct):
    """`filesystems[layer]` for bronze, silver and gold; `account` is the storage account."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        bronze_cool_after_days: int = 30,
        bronze_cold_after_days: int = 180, extra_filesystems: Sequence[str] = (),
        resource_access_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        storage = SecureStorageAccount(
            self, "Storage", placement=placement, interfaces=interfaces, name=name,
            hierarchical_namespace=True, private_endpoint_subresources=("blob", "dfs"),
            resource_access_ids=resource_access_ids,
        )
        self.account = storage.account
        self.account_id = self.account.id  # read once: each read is a round trip to Node
        self._grants = Grants(self)
        # Created through Azure Resource Manager (storage_account_id), so deploying needs no data-plane access.
        self.filesystems = {
            layer: StorageContainer(
                self, f"Filesystem{layer.title()}", name=layer, storage_account_id=self.account_id,
                container_access_type="private",
            )
            for layer in (*LAKE_LAYERS, *extra_filesystems)
        }
        self.filesystem_ids = {layer: filesystem.id for layer, filesystem in self.filesystems.items()}
        # Raw data is kept but ages out to cheaper online tiers; silver and gold stay hot for training and serving.
        # Not archive: the archive tier supports only LRS, GRS and RA-GRS accounts ("Access tiers for blob data",
        # Microsoft Learn), and the lake is GZRS. Cold keeps the data online at a lower price.
        StorageManagementPolicy(
            self, "Lifecycle",
            storage_account_id=self.account_id,
            rule=[
                StorageManagementPolicyRule(
                    name="bronze-tiering",
                    enabled=True,
                    filters=StorageManagementPolicyRuleFilters(blob_types=["blockBlob"], prefix_match=["bronze/"]),
                    actions=StorageManagementPolicyRuleActions(
                        base_blob=StorageManagementPolicyRuleActionsBaseBlob(
                            tier_to_cool_after_days_since_modification_greater_than=bronze_cool_after_days,
                            tier_to_cold_after_days_since_modification_greater_than=bronze_cold_after_days,
                        )
                    ),
                )
            ],
        )

    def grant(self, name: str, *, layer: str, grant: RoleAssignment) -> TerraformResource:
        """Grant a role on one filesystem, scoped to the container resource itself (so the grant waits for it).

        `name` is the grant's stable key (its logical ID): reordering grants never replaces one.
        """
        return self._grants.one(f"Grant{name}", self.filesystem_ids[layer], grant)
