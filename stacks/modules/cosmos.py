"""Cosmos DB (SQL API) for the app's history: Entra ID only, continuous backup, one location per app region,
encrypted with the customer-managed key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktn_provider_azurerm.cosmosdb_account import (
    CosmosdbAccount,
    CosmosdbAccountBackup,
    CosmosdbAccountCapabilities,
    CosmosdbAccountConsistencyPolicy,
    CosmosdbAccountGeoLocation,
    CosmosdbAccountIdentity,
)
from cdktn_provider_azurerm.cosmosdb_sql_container import (
    CosmosdbSqlContainer,
    CosmosdbSqlContainerAutoscaleSettings,
)
from cdktn_provider_azurerm.cosmosdb_sql_database import CosmosdbSqlDatabase
from cdktn_provider_azurerm.cosmosdb_sql_role_assignment import CosmosdbSqlRoleAssignment
from constructs import Construct

from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces

# Built-in data-plane role "Cosmos DB Built-in Data Contributor" (read and write items, no account management).
DATA_CONTRIBUTOR_ROLE = "00000000-0000-0000-0000-000000000002"


class CosmosDatabase(Construct):
    """`containers[name]` for each container; `grant_data_access` for app identities."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        database: str, containers: Mapping[str, str], regions: Sequence[str], serverless: bool,
        max_throughput: int, ttl_seconds: Mapping[str, int] | None = None,
    ) -> None:
        """`ttl_seconds[container]`: items of that container expire this long after their last write."""
        super().__init__(scope, id_)
        self.account = self._account(placement, interfaces, name, regions=regions, serverless=serverless)
        # References read once: each read is a round trip to Node.
        self.account_id, self.account_name = self.account.id, self.account.name
        self.database = CosmosdbSqlDatabase(
            self, "Database", name=database, account_name=self.account_name,
            resource_group_name=placement.resource_group_name,
        )
        self.database_name = self.database.name
        self.containers = {
            container: CosmosdbSqlContainer(
                self, f"Container{container.title().replace('-', '')}",
                name=container,
                account_name=self.account_name,
                database_name=self.database_name,
                resource_group_name=placement.resource_group_name,
                partition_key_paths=[partition_key],
                partition_key_version=2,
                default_ttl=(ttl_seconds or {}).get(container),
                autoscale_settings=None if serverless else CosmosdbSqlContainerAutoscaleSettings(
                    max_throughput=max_throughput
                ),
            )
            for container, partition_key in containers.items()
        }
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.account_id, resource_name=name, private_endpoint_subresources=["Sql"], stateful=True
        )

    def _account(
        self, placement: Placement, interfaces: Interfaces, name: str, *, regions: Sequence[str], serverless: bool,
    ) -> CosmosdbAccount:
        multi_region = len(regions) > 1
        cmk = interfaces.customer_managed_key
        return CosmosdbAccount(
            self, "Account",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            offer_type="Standard",
            kind="GlobalDocumentDB",
            consistency_policy=CosmosdbAccountConsistencyPolicy(consistency_level="Session"),
            geo_location=[
                CosmosdbAccountGeoLocation(location=region, failover_priority=priority, zone_redundant=multi_region)
                for priority, region in enumerate(regions)
            ],
            automatic_failover_enabled=multi_region,
            capabilities=[CosmosdbAccountCapabilities(name="EnableServerless")] if serverless else None,
            # Only Entra ID tokens work: account keys and resource tokens are refused.
            local_authentication_enabled=False,  # `local_authentication_disabled` is deprecated in 4.x
            access_key_metadata_writes_enabled=False,
            minimal_tls_version="Tls12",
            backup=CosmosdbAccountBackup(type="Continuous", tier="Continuous7Days"),
            public_network_access_enabled=interfaces.network_access.public,
            ip_range_filter=interfaces.network_access.ip_rules,
            # Service-endpoint traffic is refused too: apps come in through the private endpoint.
            is_virtual_network_filter_enabled=True,
            network_acl_bypass_for_azure_services=False,
            # Cosmos DB reaches the key with the encryption identity, named as its default identity.
            identity=CosmosdbAccountIdentity(
                type="UserAssigned", identity_ids=[cmk.user_assigned_identity.resource_id]
            ) if cmk else None,
            default_identity_type=cmk.cosmos_default_identity if cmk else None,
            key_vault_key_id=cmk.key_id if cmk else None,
        )

    def grant_data_access(self, id_: str, principal_id: str, *, database_only: bool = False) -> None:
        """Data Contributor on the whole account, or on this database only (scope .../dbs/<db>). Not narrower:
        a container-scoped grant cannot read the database's metadata the SDKs read first (Learn how-to-setup-rbac
        lists the three scopes; azure-cosmos-dotnet-v3#3638 shows the 403 on readMetadata)."""
        scope = f"{self.account_id}/dbs/{self.database_name}" if database_only else self.account_id
        CosmosdbSqlRoleAssignment(
            self, id_,
            resource_group_name=self.account.resource_group_name,
            account_name=self.account_name,
            role_definition_id=f"{self.account_id}/sqlRoleDefinitions/{DATA_CONTRIBUTOR_ROLE}",
            principal_id=principal_id,
            scope=scope,
        )
