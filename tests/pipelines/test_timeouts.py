"""Every deploy job has an explicit timeout, and the apply job outlives the provider's own timeouts.

A job killed by its timeout mid-apply leaves the state lease held and the resources created since the last
state write unrecorded; the provider ending a stuck create leaves neither. So an apply job's timeout must be
longer than the longest create timeout azurerm gives any resource type the stacks hold, plus the state-lock
wait (plan.LOCK_TIMEOUT). Provider create timeouts at v4.81.0 (the pinned azurerm), for the types we use
that wait longer than an hour; every other type we use waits an hour or less:
"""

from __future__ import annotations

import re

import pytest

from tools.checks.pipelines import expand
from tools.deploy.infra.plan import LOCK_TIMEOUT

PROVIDER_CREATE_MINUTES = {
    "azurerm_cosmosdb_account": 180,  # internal/services/cosmos/cosmosdb_account_resource.go:191
    "azurerm_kubernetes_cluster": 90,  # internal/services/containers/kubernetes_cluster_resource.go:214
    "azurerm_application_gateway": 90,  # internal/services/network/application_gateway_resource.go:126
    "azurerm_resource_group": 90,  # internal/services/resource/resource_group_resource.go:42
}
# e.g. private_endpoint_resource.go:60, storage_account_resource.go:89, service_plan_resource.go:169
AT_MOST_AN_HOUR = 60
DEPLOY_PIPELINES = ("infrastructure", "ml", "app")
PIPELINES = {name: expand.expand(expand.PIPELINES / f"{name}.yml") for name in DEPLOY_PIPELINES}


@pytest.mark.parametrize("name", DEPLOY_PIPELINES)
def test_every_deploy_job_sets_its_timeout(name: str) -> None:
    for stage in PIPELINES[name].stages:
        for job in stage.jobs:
            minutes = job.definition.get("timeoutInMinutes")
            assert minutes and 0 < int(minutes) <= 360, f"{stage.name}.{job.name}"  # 360: hosted agents' cap


def test_the_apply_job_outlives_the_longest_provider_create_timeout_of_the_stacks(synth) -> None:
    types = {t for name in synth.stack_names() for t in synth.stack(name).get("resource", {})}
    longest = max(PROVIDER_CREATE_MINUTES.get(t, AT_MOST_AN_HOUR) for t in types)
    assert longest == 180  # Cosmos DB: the stacks hold one
    lock_wait = int(re.fullmatch(r"-lock-timeout=(\d+)m", LOCK_TIMEOUT).group(1))  # type: ignore[union-attr]
    applies = [job for stage in PIPELINES["infrastructure"].stages for job in stage.jobs if job.name == "apply"]
    assert applies
    for job in applies:
        assert int(job.definition["timeoutInMinutes"]) >= longest + lock_wait
        assert int(job.definition["cancelTimeoutInMinutes"]) >= 10  # room for Terraform to write state on cancel
