"""The ML pipeline's Azure steps against a fake Azure ML workspace that refuses what Azure ML documents it
refuses (tools/deploy/ml/fake_azureml.py): the first rollout from nothing, batch scoring from nothing, how many
probes catch a broken candidate at the 10% step, and the inference router's fixed address."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import contract as c
from tests.conftest import SynthOutput
from tools.deploy.ml.fake_azureml import (
    RULE_BATCH_DEFAULT,
    RULE_DEPLOYMENT_PARENT,
    RULE_KUBERNETES_AUTH,
    RULE_MODEL_EXISTS,
    RULE_TRAFFIC_SUM,
    RULE_TRAFFIC_TARGETS,
    FakeAzureMLRefusal,
    FakeAzureMLWorkspace,
)
from tools.deploy.ml.jobs import AZUREML_DIR, BatchSetupFailed, batch_score, build_rollout, scoring_uri_mismatch
from tools.deploy.ml.rollout import RolloutFailed, RolloutSettings
from tools.deploy.ml.router import IPV4_ANNOTATION, RouterAddress, RouterAddressError, router_of
from tools.deploy.ml.scenarios import PROMOTED, run_scenarios

ENDPOINT = c.ml_endpoint_name(c.ML_ONLINE_ENDPOINT, "dev")


def _workspace(**versions: str) -> FakeAzureMLWorkspace:
    return FakeAzureMLWorkspace(models_by_version=versions or {"1": "pj-1"}, model_name=c.ML_MODEL_NAME)


def test_every_ml_scenario_passes_with_a_fake_azure_ml() -> None:
    outcomes = run_scenarios()
    assert [o.name for o in outcomes] == ["first ML rollout with no live deployment",
                                          "batch scoring on an environment with no batch endpoint"]
    assert all(o.passed for o in outcomes), "\n".join(o.line() for o in outcomes)


def test_fake_azure_ml_refuses_what_azure_ml_refuses() -> None:
    workspace = _workspace()
    with pytest.raises(FakeAzureMLRefusal, match=re.escape(RULE_DEPLOYMENT_PARENT)):
        workspace.online_deployments.begin_create_or_update(
            SimpleNamespace(name="green", endpoint_name=ENDPOINT, model="azureml:carprice:1"))
    workspace.online_endpoints.begin_create_or_update(SimpleNamespace(name=ENDPOINT, traffic={}, auth_mode="key"))
    with pytest.raises(FakeAzureMLRefusal, match=re.escape(RULE_MODEL_EXISTS)):
        workspace.online_deployments.begin_create_or_update(
            SimpleNamespace(name="green", endpoint_name=ENDPOINT, model="azureml:carprice:9"))
    with pytest.raises(FakeAzureMLRefusal, match=re.escape(RULE_TRAFFIC_TARGETS)):
        workspace.online_endpoints.begin_create_or_update(SimpleNamespace(name=ENDPOINT, traffic={"green": 100}))
    workspace.online_deployments.begin_create_or_update(
        SimpleNamespace(name="green", endpoint_name=ENDPOINT, model="azureml:carprice:1"))
    with pytest.raises(FakeAzureMLRefusal, match=re.escape(RULE_TRAFFIC_SUM)):
        workspace.online_endpoints.begin_create_or_update(SimpleNamespace(name=ENDPOINT, traffic={"green": 10}))
    with pytest.raises(FakeAzureMLRefusal, match=re.escape(RULE_KUBERNETES_AUTH)):
        workspace.online_endpoints.begin_create_or_update(
            SimpleNamespace(name="k8s", traffic={}, compute="aks-inference", auth_mode="aad_token"))
    workspace.batch_endpoints.begin_create_or_update(SimpleNamespace(name="carprice-batch-dev", defaults=None))
    with pytest.raises(FakeAzureMLRefusal, match=re.escape(RULE_BATCH_DEFAULT)):
        workspace.batch_endpoints.invoke(endpoint_name="carprice-batch-dev")


def test_a_broken_first_candidate_with_a_fake_azure_ml_is_taken_off_and_routes_nowhere() -> None:
    workspace = _workspace()
    workspace.broken_deployments = {f"{ENDPOINT}/green"}
    rollout = build_rollout(workspace, AZUREML_DIR / "endpoints", RolloutSettings(), ENDPOINT)
    rollout.log = lambda line: None
    with pytest.raises(RolloutFailed, match="smoke test of green failed"):
        rollout.run(PROMOTED, "pj-1")
    assert workspace.online[ENDPOINT].traffic == {} and not workspace.refusals


def test_the_ten_percent_step_sends_enough_probes_to_catch_a_broken_candidate() -> None:
    settings = RolloutSettings()
    assert settings.traffic_steps == (10, 100)
    assert settings.probes_at(10) == 44 and settings.tolerated_failures(10) == 0
    assert 0.9 ** 44 < 1 - settings.detection_confidence < 0.9 ** 43  # the fewest probes that reach 99%
    assert settings.probes_at(100) == 10 and settings.tolerated_failures(100) == 1
    assert math.isclose(1 - 0.9 ** settings.probes_at(10), 0.9903, abs_tol=1e-4)


def test_a_candidate_broken_under_traffic_with_a_fake_azure_ml_is_rolled_back_at_ten_percent() -> None:
    workspace = _workspace(**{"1": "pj-1", "2": "pj-2"})
    rollout = build_rollout(workspace, AZUREML_DIR / "endpoints", RolloutSettings(), ENDPOINT)
    rollout.log = lambda line: None
    rollout.run(PROMOTED, "pj-1")  # green serves version 1
    real_invoke = workspace.online_endpoints.invoke

    def blue_fails_through_the_split(endpoint_name: str, request_file: str, deployment_name: str | None = None):
        if deployment_name is None and workspace._route(endpoint_name) == "blue":
            raise RuntimeError("HTTP 500 from blue")
        return real_invoke(endpoint_name=endpoint_name, request_file=request_file, deployment_name=deployment_name)

    workspace.online_endpoints.invoke = blue_fails_through_the_split
    with pytest.raises(RolloutFailed, match=r"blue at 10% failed \d+ of 44 probes"):
        rollout.run(PROMOTED, "pj-2")
    assert workspace.online[ENDPOINT].traffic == {"blue": 0, "green": 100}


def test_batch_setup_failure_with_a_fake_azure_ml_names_the_step() -> None:
    workspace = _workspace()
    with pytest.raises(BatchSetupFailed, match="batch deployment of azureml:carprice:9 under carprice-batch-dev"):
        batch_score(workspace, "carprice-batch-dev", Path("unused"), model="azureml:carprice:9")
    with pytest.raises(BatchSetupFailed, match="nothing to batch-score with"):
        batch_score(workspace, "carprice-batch-dev", Path("unused"))  # nothing served yet
    with pytest.raises(ValueError, match="not an environment's carprice-batch endpoint"):
        batch_score(workspace, "carprice-batch", Path("unused"))


def test_scoring_uri_mismatch_accepts_the_routers_address_over_http_only() -> None:
    expected = c.online_scoring_url("dev", "scoring.dev.carprice.internal", https=False)
    path = f"/api/v1/endpoint/{ENDPOINT}/score"
    assert scoring_uri_mismatch(f"http://10.20.31.254{path}", expected, "10.20.31.254") is None
    assert scoring_uri_mismatch(f"http://10.20.31.7{path}", expected, "10.20.31.254")
    secure = c.online_scoring_url("prod", "scoring.carprice.example.com", https=True)
    prod_path = path.replace("-dev/", "-prod/")
    assert scoring_uri_mismatch(f"https://scoring.carprice.example.com{prod_path}", secure, "x") is None
    assert scoring_uri_mismatch(f"https://10.40.31.254{prod_path}", secure, "10.40.31.254")


class FakeAksCommandInvoke:
    """`az aks command invoke` as Azure answers it (JSON with exitCode and logs), over one internal load
    balancer whose address follows the ipv4 annotation after `moves_after` polls."""

    def __init__(self, address: str, moves_after: int = 2, free: bool = True) -> None:
        self.address, self.moves_after, self.free, self.calls = address, moves_after, free, []
        self.wanted: str | None = None

    def __call__(self, args: list[str]) -> str:
        command = args[args.index("--command") + 1]
        self.calls.append(command)
        if command.startswith("kubectl annotate"):
            self.wanted = command.split(f"{IPV4_ANNOTATION}=")[1].split()[0]
        elif self.wanted and self.free:
            self.moves_after -= 1
            if self.moves_after <= 0:
                self.address = self.wanted
        return json.dumps({"exitCode": 0, "logs": self.address})


def test_router_address_with_fake_aks_command_invoke_moves_to_the_configured_address() -> None:
    az = FakeAksCommandInvoke("10.20.16.40")
    router = RouterAddress("rg", "aks", "10.20.31.254", run_az=az, sleep=lambda s: None, log=lambda line: None)
    router.hold()
    assert az.address == "10.20.31.254"
    assert any(f"{IPV4_ANNOTATION}=10.20.31.254" in call for call in az.calls)
    again = FakeAksCommandInvoke("10.20.31.254")
    RouterAddress("rg", "aks", "10.20.31.254", run_az=again, sleep=lambda s: None, log=lambda line: None).hold()
    assert not any(call.startswith("kubectl annotate") for call in again.calls)  # already there: no change


def test_router_address_with_fake_aks_command_invoke_fails_clearly_when_the_address_is_taken() -> None:
    az = FakeAksCommandInvoke("10.20.16.40", free=False)
    router = RouterAddress("rg", "aks", "10.20.31.254", run_az=az, sleep=lambda s: None, log=lambda line: None,
                           timeout_s=60, poll_s=15)
    with pytest.raises(RouterAddressError, match=r"aks.inference_router_ip"):
        router.hold()


def test_the_router_step_reads_the_cluster_and_the_scoring_record_from_the_synth(synth_out: Path) -> None:
    synth = SynthOutput(synth_out)
    for env in ("dev", "prod"):
        router = router_of(env, synth_out)
        assert router.cluster == synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")["name"]
        assert [router.address] == synth.one(f"{env}-ml", "azurerm_private_dns_a_record")["records"]
