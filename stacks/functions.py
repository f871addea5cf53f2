"""Functions stack: the stream-scoring and HTTP pricing function app, once per environment.

One app in the primary region, not one per app region: the Event Hubs namespace lives there, and every
consumer of one consumer group shares its partitions, so a second regional app would either split the stream
or (with its own checkpoints) score every listing twice. Its writes go to Cosmos DB, which replicates to every
app region. Deployed after the data, ML and global-data stacks, whose resources it is granted access to.
"""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_azapi.provider import AzapiProvider
from cdktn_provider_azurerm.cosmosdb_account import CosmosdbAccount
from cdktn_provider_azurerm.cosmosdb_sql_role_assignment import CosmosdbSqlRoleAssignment
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

import contract as c
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.data import DataStack
from stacks.foundation import FUNCTIONS_SUBNET, FoundationStack
from stacks.genai import INDEX_CONTRIBUTOR, OPENAI_USER, GenAiStack
from stacks.global_data import GlobalDataStack
from stacks.ml import MlStack
from stacks.modules.cosmos import DATA_CONTRIBUTOR_ROLE
from stacks.modules.function_app import FlexFunctionApp, identity_connection
from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Grants, RoleAssignment


class FunctionsStack(PlatformStack):
    def __init__(
        self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack, data: DataStack,
        ml: MlStack, global_data: GlobalDataStack, genai: GenAiStack | None = None,
    ) -> None:
        super().__init__(scope, "functions", config=config)
        AzapiProvider(self, "azapi", subscription_id=config.subscription_id)
        identity = UserAssignedIdentity(
            self, "Identity", name=self.namer.name("user_identity", "func"), location=config.location,
            resource_group_name=self.resource_group_name,
            tags=self.tags,
        )
        self.app = FlexFunctionApp(
            self, "FunctionApp", placement=self.placement(),
            interfaces=foundation.interfaces(encryption_key="storage"),
            # A literal id (the group's name is fixed by naming), so readers of cdktf.out/ see where the site lives.
            resource_group_id=f"/subscriptions/{config.subscription_id}/resourceGroups/{self.resource_group_name}",
            name=self.namer.name("function_app"),
            plan_name=self.namer.name("app_service_plan", "func"),
            storage_name=self.namer.name("storage_account", "func"),
            identity=ManagedIdentity.of(identity),
            subnet_id=foundation.subnet_ids[FUNCTIONS_SUBNET],
            python_version=c.FUNCTION_PYTHON_VERSION,
            app_settings=self._app_settings(
                identity.client_id, foundation=foundation, data=data, ml=ml, global_data=global_data, genai=genai
            ),
            maximum_instance_count=config.functions.maximum_instance_count,
            instance_memory_mb=config.functions.instance_memory_mb,
            api_client_id=config.functions.api_client_id,
            tenant_id=self.client.tenant_id,
        )
        self._grant_access(identity.principal_id, foundation=foundation, data=data, ml=ml, genai=genai)
        self._grant_data_access(identity.principal_id, global_data.cosmos.account)
        # The app pipeline deploys to this app: it finds the name and group in the stack's outputs.
        TerraformOutput(self, "function_app_name", value=self.app.site.name)
        TerraformOutput(self, "function_app_resource_group", value=self.resource_group_name)
        TerraformOutput(self, "function_app_id", value=self.app.site.id)

    def _app_settings(
        self, client_id: str, *, foundation: FoundationStack, data: DataStack, ml: MlStack,
        global_data: GlobalDataStack, genai: GenAiStack | None,
    ) -> dict[str, str]:
        config = self.config
        return {
            # The Event Hubs trigger connects by identity (the host reads this prefix, never a secret); the
            # handlers reach Cosmos DB with the SDK and the same identity (AZURE_CLIENT_ID below).
            **identity_connection(
                c.FUNCTION_EVENTHUB_CONNECTION, client_id,
                fullyQualifiedNamespace=f"{data.stream.namespace.name}.servicebus.windows.net",
            ),
            c.SETTING_COSMOS_ENDPOINT: global_data.cosmos.account.endpoint,
            c.SETTING_COSMOS_DATABASE: c.COSMOS_DATABASE,
            c.SETTING_HISTORY_CONTAINER: c.HISTORY_CONTAINER,
            c.SETTING_MARKET_CONTAINER: c.MARKET_CONTAINER,
            c.SETTING_DEAD_LETTER_CONTAINER: c.DEAD_LETTER_CONTAINER,
            c.SETTING_SCORING_MODE: config.functions.scoring_mode,
            c.SETTING_ENDPOINT_URL: ml.scoring_url,
            c.SETTING_ENDPOINT_TOKEN_URL: ml.scoring_token_url,
            c.SETTING_ENDPOINT_SCOPE: c.AML_ENDPOINT_TOKEN_SCOPE,
            c.SETTING_REGION: config.location,
            c.SETTING_MANAGED_IDENTITY_CLIENT_ID: client_id,
            # Telemetry with an Entra ID token (ingestion keys are off): Monitoring Metrics Publisher below.
            c.SETTING_APPINSIGHTS: f"@Microsoft.KeyVault(SecretUri={foundation.appinsights_secret.versionless_id})",
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": f"Authorization=AAD;ClientId={client_id}",
            # The scored market listings also go into the assistant's index, embedded first.
            **(genai.app_settings(chat_history=False) if genai else {}),
        }

    def _grant_access(
        self, principal: str, *, foundation: FoundationStack, data: DataStack, ml: MlStack, genai: GenAiStack | None,
    ) -> None:
        """The app's identity on what it reads and calls, and the deployer on the app's packages."""
        grants = {
            # Read the listings stream (the consumer group and checkpoints live in the host storage).
            "EventHubsReceiver": (data.stream.hub.id, "Azure Event Hubs Data Receiver"),
            "TelemetryPublisher": (foundation.monitoring.insights.id, "Monitoring Metrics Publisher"),
            # Resolve the one Key Vault reference above, and nothing else in the vault.
            "TelemetrySecretReader": (foundation.appinsights_secret.resource_versionless_id, "Key Vault Secrets User"),
        }
        if genai:
            grants["ListingIndexWriter"] = (genai.search.service.id, INDEX_CONTRIBUTOR)
            grants["ListingEmbedder"] = (genai.openai.account.id, OPENAI_USER)
        access = Grants(self)
        for key, (target, role) in grants.items():
            access.one(key, target, RoleAssignment(principal, role))
        if self.config.functions.scoring_mode == "remote":  # the online endpoint's token, nothing else in the workspace
            access.one("OnlineEndpointCaller", ml.workspace.workspace.id,
                       RoleAssignment(principal, ml.endpoint_token_role))
        # Flex Consumption has no slots: before a deploy, the app pipeline (the deployer) downloads the package
        # the app runs from its deployment container, to deploy it again when the new one fails its check.
        access.one("DeployerPackageReader", self.app.storage.account.id, RoleAssignment(
            self.client.object_id, "Storage Blob Data Reader", principal_type=None
        ))

    def _grant_data_access(self, principal: str, cosmos: CosmosdbAccount) -> None:
        """Read and write items in the carprice database only (market, dead letters, prediction history)."""
        CosmosdbSqlRoleAssignment(
            self, "CosmosDataContributor",
            resource_group_name=cosmos.resource_group_name,
            account_name=cosmos.name,
            role_definition_id=f"{cosmos.id}/sqlRoleDefinitions/{DATA_CONTRIBUTOR_ROLE}",
            principal_id=principal,
            scope=f"{cosmos.id}/dbs/{c.COSMOS_DATABASE}",
        )
