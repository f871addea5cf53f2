"""The Azure credential every deploy tool uses: one that renews itself for as long as the tool runs.

In a pipeline step (tools/deploy/with_azure_oidc.sh inside AzureCLI@2) that is AzurePipelinesCredential:
it asks Azure DevOps for a fresh federated token each time Entra ID needs one, so an hour-long ML job
stream or rollout does not outlive a token fixed at the step's start. Elsewhere (a laptop after
`az login`) it is DefaultAzureCredential.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from azure.core.credentials import TokenCredential

PIPELINE_VARIABLES = ("ARM_TENANT_ID", "ARM_CLIENT_ID", "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", "SYSTEM_ACCESSTOKEN")


def azure_credential(env: Mapping[str, str] | None = None) -> TokenCredential:
    env = os.environ if env is None else env
    from azure.identity import AzurePipelinesCredential, DefaultAzureCredential

    if env.get("TF_BUILD") and all(env.get(name) for name in PIPELINE_VARIABLES):
        return AzurePipelinesCredential(
            tenant_id=env["ARM_TENANT_ID"],
            client_id=env["ARM_CLIENT_ID"],
            service_connection_id=env["ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID"],
            system_access_token=env["SYSTEM_ACCESSTOKEN"],
        )
    if env.get("TF_BUILD"):
        missing = [name for name in PIPELINE_VARIABLES if not env.get(name)]
        raise RuntimeError(f"pipeline step without {', '.join(missing)}: run it via tools/deploy/with_azure_oidc.sh")
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)
