"""Azure OpenAI for the car-buying assistant: one account, a content filter that blocks prompt attacks, and the
chat and embedding deployments pinned to one model version each.

Secure defaults: Entra ID only (local keys off), the public endpoint closed or limited to the environment's
allowed ranges, no outbound calls from the service, a user-assigned identity, a private endpoint (`account`) per
app region, request and usage logs to Log Analytics. Settings verified at azurerm v4.81.0
(docs/deploy-readiness.md, "Generative AI").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cdktn_provider_azurerm.cognitive_account import (
    CognitiveAccount,
    CognitiveAccountIdentity,
    CognitiveAccountNetworkAcls,
)
from cdktn_provider_azurerm.cognitive_account_rai_policy import (
    CognitiveAccountRaiPolicy,
    CognitiveAccountRaiPolicyContentFilter,
)
from cdktn_provider_azurerm.cognitive_deployment import (
    CognitiveDeployment,
    CognitiveDeploymentModel,
    CognitiveDeploymentSku,
)
from constructs import Construct

from stacks.genai_config import ModelDeployment
from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces

# The filters a deployment's policy blocks. Listing text is untrusted input the app puts into the prompt, so
# both prompt shields block: "Jailbreak" (direct attacks in the user's message) and "Indirect Attack" (attacks
# hidden in documents). The harm categories block from medium severity on both prompts and completions.
PROMPT_SHIELDS = ("Jailbreak", "Indirect Attack")
HARM_CATEGORIES = ("Hate", "Sexual", "Violence", "Selfharm")
# The newest default policy as the base: what the filters above do not name keeps Microsoft's defaults.
BASE_POLICY = "Microsoft.DefaultV2"
# Never move a deployment to another model version by itself: a new version changes answers, so it is a
# config change that passes the evaluation gate (the provider's default is OnceNewDefaultVersionAvailable).
NO_AUTO_UPGRADE = "NoAutoUpgrade"


def content_filters() -> list[CognitiveAccountRaiPolicyContentFilter]:
    filters = [
        # severity_threshold is required by the provider but has no effect on the binary prompt shields
        # (hashicorp/terraform-provider-azurerm#28653).
        CognitiveAccountRaiPolicyContentFilter(
            name=shield, filter_enabled=True, block_enabled=True, severity_threshold="Medium", source="Prompt"
        )
        for shield in PROMPT_SHIELDS
    ]
    filters += [
        CognitiveAccountRaiPolicyContentFilter(
            name=category, filter_enabled=True, block_enabled=True, severity_threshold="Medium", source=source
        )
        for source in ("Prompt", "Completion")
        for category in HARM_CATEGORIES
    ]
    return filters


@dataclass(frozen=True)
class Deployment:
    """A deployment the runtime calls by `name` (contract), with the environment's model settings."""

    name: str
    settings: ModelDeployment


class OpenAiAccount(Construct):
    """`account`, `content_filter` and `deployments[name]`; grants arrive through `interfaces.role_assignments`."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        identity: ManagedIdentity, deployments: dict[str, Deployment],
    ) -> None:
        super().__init__(scope, id_)
        network = interfaces.network_access
        self.account = CognitiveAccount(
            self, "Account",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            kind="OpenAI",
            sku_name="S0",
            # Entra ID tokens need the custom subdomain (<name>.openai.azure.com); it is also what the private
            # endpoint's DNS record resolves. network_acls requires it (RequiredWith, cognitive_account_resource.go).
            custom_subdomain_name=name,
            local_auth_enabled=False,
            public_network_access_enabled=network.public,
            network_acls=CognitiveAccountNetworkAcls(
                default_action="Deny",
                ip_rules=network.ip_rules,
                bypass="None",  # no trusted Azure service calls the account; the app runs retrieval itself
            ),
            # The service makes no outbound calls (no "on your data", no connections): an empty allow-list.
            outbound_network_access_restricted=True,
            fqdns=[],
            identity=CognitiveAccountIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
        )
        account_id = self.account.id  # read once: each read is a round trip to Node
        self.content_filter = CognitiveAccountRaiPolicy(
            self, "ContentFilter",
            name="block-prompt-attacks",
            cognitive_account_id=account_id,
            base_policy_name=BASE_POLICY,
            tags=placement.tags,
            # Streamed answers are checked before each chunk is returned ("Asynchronous_filter" would return
            # text first and flag it afterwards), so a blocked answer is never partly shown.
            mode="Default",
            content_filter=content_filters(),
        )
        self.deployments: dict[str, CognitiveDeployment] = {}
        for deployment in deployments.values():
            model = deployment.settings
            self.deployments[deployment.name] = CognitiveDeployment(
                self, f"Deployment{deployment.name.title()}",
                name=deployment.name,
                cognitive_account_id=account_id,
                model=CognitiveDeploymentModel(format="OpenAI", name=model.model, version=model.version),
                sku=CognitiveDeploymentSku(name=model.sku, capacity=model.capacity),
                rai_policy_name=self.content_filter.name,
                version_upgrade_option=NO_AUTO_UPGRADE,
                # The provider locks the account per deployment call; the order keeps plans readable.
                depends_on=[self.content_filter, *self.deployments.values()],
            )
        # No delete lock even in production: a lock on the account covers its deployments, and a model version
        # change replaces a deployment (model is ForceNew in cognitive_deployment_resource.go).
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=account_id, resource_name=name, private_endpoint_subresources=["account"],
        )

    @cached_property
    def endpoint(self) -> str:
        return self.account.endpoint
