#!/usr/bin/env bash
# Run a command (usually `make <target> ENV=...`) inside AzureCLI@2 with credentials that RENEW themselves.
# A federated token (idToken) is valid for minutes, so nothing here passes one on. Instead:
# - Terraform (azurerm provider and azurerm backend) asks Azure DevOps for a fresh token whenever it needs
#   one: ARM_USE_OIDC + the service connection id + SYSTEM_ACCESSTOKEN / SYSTEM_OIDCREQUESTURI;
# - the Python tools build AzurePipelinesCredential from the same variables (tools/deploy/credential.py);
# - the databricks provider (the prep stack) uses unified auth's `azure-cli`: Entra ID tokens for the
#   AzureDatabricks resource from the `az` session AzureCLI@2 signed in (and re-signs: keepAzSessionActive on the
#   plan and apply steps), plus the Resource Manager token that makes the service connection, Contributor on
#   the workspace, its admin. Not `azure-devops-oidc`: that trades the job's token for a Databricks OAuth token,
#   which needs the principal registered in the Databricks account with a federation policy per pipeline and
#   assigned to each new workspace by an account admin (docs/deploy-readiness.md, Spark prep).
# AzureCLI@2 exports AZURESUBSCRIPTION_{CLIENT_ID,TENANT_ID,SERVICE_CONNECTION_ID}; the step maps
# SYSTEM_ACCESSTOKEN: $(System.AccessToken) (pipelines/templates/azure-make.yml).
# Only workload identity federation connections can hand out these tokens: a secret-based connection fails here.
set -euo pipefail

: "${AZURESUBSCRIPTION_CLIENT_ID:?run inside AzureCLI@2 with a workload identity federation service connection}"
: "${AZURESUBSCRIPTION_TENANT_ID:?run inside AzureCLI@2 with a workload identity federation service connection}"
: "${AZURESUBSCRIPTION_SERVICE_CONNECTION_ID:?run inside AzureCLI@2 with a workload identity federation service connection}"
: "${SYSTEM_ACCESSTOKEN:?map SYSTEM_ACCESSTOKEN: \$(System.AccessToken) into the step so tokens can be renewed}"
: "${SYSTEM_OIDCREQUESTURI:?not an Azure Pipelines agent (SYSTEM_OIDCREQUESTURI is missing)}"

export ARM_USE_OIDC=true
export ARM_CLIENT_ID="$AZURESUBSCRIPTION_CLIENT_ID"
export ARM_TENANT_ID="$AZURESUBSCRIPTION_TENANT_ID"
export ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID="$AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"
export ARM_OIDC_AZURE_SERVICE_CONNECTION_ID="$AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"  # azapi's name for it
export ARM_OIDC_REQUEST_TOKEN="$SYSTEM_ACCESSTOKEN"
export ARM_OIDC_REQUEST_URL="$SYSTEM_OIDCREQUESTURI"
# Explicit, so the default chain cannot pick another method the job's variables also allow (its OIDC exchange
# is tried before azure-cli). The tenant comes from ARM_TENANT_ID, which unified auth reads as azure_tenant_id.
export DATABRICKS_AUTH_TYPE=azure-cli
# The state account has no shared keys: the azurerm backend must use Entra ID for blobs too.
export ARM_USE_AZUREAD=true
unset ARM_OIDC_TOKEN ARM_OIDC_TOKEN_FILE_PATH idToken
exec "$@"
