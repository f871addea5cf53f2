"""Constraints the Azure ML workspace relies on at plan and apply time (see docs/deploy-readiness.md)."""

import pytest

pytestmark = pytest.mark.xdist_group("stacks")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_storage_access_type_uses_the_providers_exact_spelling(synth, env):
    # azurerm v4.81.0 machine_learning_workspace_resource.go: StringInSlice([AccessKey, Identity], false).
    workspace = synth.one(f"{env}-ml", "azurerm_machine_learning_workspace")
    assert workspace["storage_account_access_type"] == "Identity"
