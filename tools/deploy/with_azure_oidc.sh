#!/usr/bin/env bash
# Run a command (usually `make <target> ENV=...`) with Terraform's azurerm settings for workload identity
# federation, taken from the variables AzureCLI@2 exports when addSpnToEnvironment is true.
# Refuses secret-based service connections: this project uses federated credentials only.
set -euo pipefail

if [[ -n "${servicePrincipalKey:-}" ]]; then
  echo "The service connection uses a client secret; create it with workload identity federation instead." >&2
  exit 2
fi
: "${servicePrincipalId:?run inside AzureCLI@2 with addSpnToEnvironment: true}"
: "${tenantId:?run inside AzureCLI@2 with addSpnToEnvironment: true}"
: "${idToken:?no federated token: the service connection must use workload identity federation}"

export ARM_USE_OIDC=true
export ARM_OIDC_TOKEN="$idToken"
export ARM_CLIENT_ID="$servicePrincipalId"
export ARM_TENANT_ID="$tenantId"
export ARM_SUBSCRIPTION_ID="${ARM_SUBSCRIPTION_ID:-$(az account show --query id --output tsv)}"
# The state account has no shared keys: the azurerm backend must use Entra ID for blobs too.
export ARM_USE_AZUREAD=true
# Azure SDK (DefaultAzureCredential) in the Python tools uses the Azure CLI login AzureCLI@2 made.
exec "$@"
