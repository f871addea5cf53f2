"""Generative-AI stack: the car-buying assistant's Azure OpenAI account and Azure AI Search service.

Its own deployment unit, once per environment (like Cosmos DB, shared by every app region, each of which
reaches both services through private endpoints of its own): model upgrades and search scaling are applied and
rolled back without touching the data or app stacks. Deployed after the foundation and before the function app
and the web apps, which receive its endpoints as settings. Roles only, no keys: the web apps' identity calls
the models and reads the index; the deploying principal creates the index and fills it from gold (index
contributor, service contributor, OpenAI user for embeddings). The function app's grants are made by its own
stack, where its identity lives.
"""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from contract import genai as g
from stacks.base import PlatformStack, present
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import RoleAssignment
from stacks.modules.openai_account import Deployment, OpenAiAccount
from stacks.modules.search_service import ListingSearch

OPENAI_USER = "Cognitive Services OpenAI User"  # inference only: no deployments, no keys
INDEX_READER = "Search Index Data Reader"
INDEX_CONTRIBUTOR = "Search Index Data Contributor"
SEARCH_SERVICE_CONTRIBUTOR = "Search Service Contributor"  # create and update index definitions


class GenAiStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack) -> None:
        super().__init__(scope, "genai", config=config)
        genai = present(config.genai, "the genai stack exists only where the environment has a `genai` section")
        self.settings = genai
        app = foundation.identities["app"].principal_id
        deployer = self.client.object_id  # the principal applying this stack
        self.identity = ManagedIdentity.of(UserAssignedIdentity(
            self, "Identity", name=self.namer.name("user_identity", "genai"), location=config.location,
            resource_group_name=self.resource_group_name,
            tags=self.tags,
        ))
        self.openai = OpenAiAccount(
            self, "OpenAi",
            placement=self.placement(config.genai_location),
            interfaces=foundation.interfaces(role_assignments={
                "AppOpenAiUser": RoleAssignment(app, OPENAI_USER),
                # The batch publish of gold listings embeds them as the deploying principal.
                "DeployerOpenAiUser": RoleAssignment(deployer, OPENAI_USER, principal_type=None),
            }),
            name=self.namer.name("openai_account"),
            identity=self.identity,
            deployments={
                "chat": Deployment(g.OPENAI_CHAT_DEPLOYMENT, genai.chat),
                "embedding": Deployment(g.OPENAI_EMBEDDING_DEPLOYMENT, genai.embedding),
            },
        )
        self.search = ListingSearch(
            self, "Search", placement=self.placement(),
            interfaces=foundation.interfaces(lock=config.lock_stateful_resources, role_assignments={
                "AppIndexReader": RoleAssignment(app, INDEX_READER),
                "DeployerIndexContributor": RoleAssignment(deployer, INDEX_CONTRIBUTOR, principal_type=None),
                "DeployerServiceContributor": RoleAssignment(deployer, SEARCH_SERVICE_CONTRIBUTOR, principal_type=None),
            }),
            name=self.namer.name("search_service"),
            identity=self.identity,
            sizing=genai.search,
        )
        # The pipelines create the index and run the evaluation against these.
        TerraformOutput(self, "openai_endpoint", value=self.openai.endpoint)
        TerraformOutput(self, "openai_account_name", value=self.openai.account.name)
        TerraformOutput(self, "search_endpoint", value=self.search.endpoint)
        TerraformOutput(self, "search_service_name", value=self.search.service.name)

    def app_settings(self, *, chat_history: bool) -> dict[str, str]:
        """What the assistant's runtime reads; `chat_history` for the web app, which stores the chat turns."""
        settings = {
            g.SETTING_OPENAI_ENDPOINT: self.openai.endpoint,
            g.SETTING_OPENAI_API_VERSION: g.OPENAI_API_VERSION,
            g.SETTING_OPENAI_CHAT_DEPLOYMENT: g.OPENAI_CHAT_DEPLOYMENT,
            g.SETTING_OPENAI_EMBEDDING_DEPLOYMENT: g.OPENAI_EMBEDDING_DEPLOYMENT,
            g.SETTING_SEARCH_ENDPOINT: self.search.endpoint,
            g.SETTING_SEARCH_INDEX: g.SEARCH_INDEX,
        }
        if chat_history:
            settings[g.SETTING_CHAT_CONTAINER] = g.CHAT_CONTAINER
        return settings
