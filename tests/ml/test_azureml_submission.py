"""Submission fills every per-environment value from the environment's config and synth output (the Azure
boundary, MLClient, is a recording fake: tests that use it say so in their names)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

import contract
from ml.carprice.gate import GateFileError
from stacks.config import ENVIRONMENTS_DIR, load_environment
from stacks.naming import Namer
from tests.conftest import SynthOutput
from tools.deploy.ml.fake_azureml import FakeAzureMLWorkspace
from tools.deploy.ml.jobs import (
    AZUREML_DIR,
    CHAMPION_INPUT,
    Target,
    batch_score,
    champion_model,
    register_assets,
    submit_training,
    training_job,
)
from tools.synth_output import SynthError

pytestmark = pytest.mark.xdist_group("stacks")
ENVIRONMENTS = ("dev", "prod")


class FakeMLClient:
    """Records what would be sent to an Azure ML workspace."""

    def __init__(self, traffic: dict[str, int] | None = None, served: dict[str, str] | None = None) -> None:
        """`traffic` None: the online endpoint does not exist; `served` maps slot -> the model it serves."""
        self.traffic, self.served = traffic, served or {}
        self.submitted: list[Any] = []
        self.registered: list[Any] = []
        self.jobs = SimpleNamespace(create_or_update=self._submit, stream=lambda name: None,
                                    list=lambda parent_job_name: iter([
                                        SimpleNamespace(name="child-evaluate", display_name="evaluate"),
                                        SimpleNamespace(name="child-train", display_name="train")]),
                                    download=self._download)
        self.environments = SimpleNamespace(create_or_update=self._register)
        self.data = SimpleNamespace(create_or_update=self._register)
        self.online_endpoints = SimpleNamespace(get=self._endpoint)
        self.online_deployments = SimpleNamespace(
            get=lambda name, endpoint_name: SimpleNamespace(name=name, model=self.served[name]))

    def _endpoint(self, name: str) -> Any:
        if self.traffic is None:
            raise ResourceNotFoundError(f"endpoint {name} not found")
        return SimpleNamespace(name=name, traffic=dict(self.traffic))

    def _submit(self, job: Any, experiment_name: str) -> Any:
        self.submitted.append(job)
        return SimpleNamespace(name="pj-1", studio_url="")

    def _register(self, asset: Any) -> Any:
        self.registered.append(asset)
        return SimpleNamespace(name=asset.name, version=asset.version)

    def _download(self, name: str, download_path: str, output_name: str) -> None:
        folder = Path(download_path) / output_name / "cars"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "predictions.csv").write_text("car_id,make,price\nc1,audi,13000\n")


def test_submission_with_fake_mlclient_fills_every_input_per_environment(synth: SynthOutput, tmp_path: Path) -> None:
    submitted = {}
    for env in ENVIRONMENTS:
        target = Target.of(env, synth.root)
        client = FakeMLClient()
        submit_training(client, AZUREML_DIR / "pipeline.yml", tmp_path / env, target.pipeline_inputs())
        (job,) = client.submitted
        spec = job._to_dict()
        assert spec["settings"]["default_compute"] == f"azureml:{contract.ML_COMPUTE_CLUSTER}"
        submitted[env] = spec["inputs"]
        config = load_environment(ENVIRONMENTS_DIR / f"{env}.yaml")
        namer = Namer(config.workload, config.name, config.subscription_id)
        (lake,) = [r["name"] for r in synth.resources(f"{env}-data", "azurerm_storage_account") if r["is_hns_enabled"]]
        assert spec["inputs"] == {
            "lake_root": f"abfss://{{layer}}@{lake}.dfs.core.windows.net",
            "subscription_id": config.subscription_id,
            "resource_group": namer.name("resource_group"),
            "workspace_name": namer.name("ml_workspace"),
        }
    # prod never trains on dev's lake or registers into dev's workspace
    assert all(submitted["dev"][name] != submitted["prod"][name] for name in submitted["dev"])


def _evaluate_inputs(job: Any) -> dict[str, Any]:
    assert job._validate().passed, job._validate().error_messages
    return job._to_rest_object().properties.jobs["evaluate"]["inputs"]


def test_first_run_with_fake_mlclient_submits_evaluate_without_a_champion(synth: SynthOutput, tmp_path: Path) -> None:
    target = Target.of("dev", synth.root)
    for client in (FakeMLClient(traffic=None), FakeMLClient(traffic={})):  # no endpoint; endpoint, no rollout yet
        champion = champion_model(client, target.endpoint(contract.ML_ONLINE_ENDPOINT))
        assert champion is None
        record = submit_training(client, AZUREML_DIR / "pipeline.yml", tmp_path, target.pipeline_inputs(), champion)
        assert set(_evaluate_inputs(client.submitted[-1])) == {"gold"} and record["champion"] == ""


def test_the_served_model_with_fake_mlclient_reaches_the_gate_as_champion(synth: SynthOutput, tmp_path: Path) -> None:
    target = Target.of("prod", synth.root)
    arm = "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/models"
    client = FakeMLClient(traffic={"blue": 0, "green": 100},
                          served={"blue": f"{arm}/{contract.ML_MODEL_NAME}/versions/3",
                                  "green": f"{arm}/{contract.ML_MODEL_NAME}/versions/4"})
    champion = champion_model(client, target.endpoint(contract.ML_ONLINE_ENDPOINT))
    assert champion == f"azureml:{contract.ML_MODEL_NAME}:4"  # the live slot's version, not the newest slot's
    submit_training(client, AZUREML_DIR / "pipeline.yml", tmp_path, target.pipeline_inputs(), champion)
    sent = _evaluate_inputs(client.submitted[-1])[CHAMPION_INPUT]
    assert (sent["job_input_type"], sent["uri"]) == ("custom_model", f"{contract.ML_MODEL_NAME}:4")


def test_a_foreign_model_on_the_endpoint_stops_the_submission_with_fake_mlclient() -> None:
    client = FakeMLClient(traffic={"blue": 100}, served={"blue": "azureml:someone-elses:1"})
    with pytest.raises(GateFileError, match="someone-elses"):
        champion_model(client, "carprice-online-dev")


def test_an_input_without_a_value_stops_the_submission() -> None:
    inputs = {"lake_root": "abfss://{layer}@x.dfs.core.windows.net", "subscription_id": "s", "resource_group": "g",
              "workspace_name": ""}
    with pytest.raises(SynthError, match="workspace_name"):
        training_job(AZUREML_DIR / "pipeline.yml", inputs)
    with pytest.raises(SynthError, match="lake_root"):
        training_job(AZUREML_DIR / "pipeline.yml", {k: v for k, v in inputs.items() if k != "lake_root"})


def test_assets_are_registered_per_workspace_with_fake_mlclient() -> None:
    first, second = FakeMLClient(), FakeMLClient()
    register_assets(first)
    register_assets(second)
    environment, data = first.registered
    assert (environment.name, data.name, data.type) == (contract.ML_ENVIRONMENT, contract.ML_DATA_ASSET, "mltable")
    # Same files, same version: registering again in a workspace that has it changes nothing.
    assert environment.version == second.registered[0].version and len(environment.version) == 12


def test_batch_scoring_with_fake_mlclient_reads_a_folder_and_writes_the_run_to_the_lake(
    synth: SynthOutput, tmp_path: Path
) -> None:
    target = Target.of("prod", synth.root)
    client = FakeAzureMLWorkspace(models_by_version={"7": "pj-7"}, model_name=contract.ML_MODEL_NAME)
    run_id, folder = batch_score(client, target.endpoint(contract.ML_BATCH_ENDPOINT), tmp_path, run_id="r1",
                                 model=f"azureml:{contract.ML_MODEL_NAME}:7")
    (call,) = client.batch_jobs
    assert call["endpoint"] == "carprice-batch-prod" and call["model"] == f"{contract.ML_MODEL_NAME}:7"
    # The batch deployment reads files: a uri_folder of CSV, not the MLTable gold asset.
    assert call["inputs"]["input"].type == "uri_folder"
    datastore = f"azureml://datastores/{contract.ML_DATASTORE_LAKE}/paths"
    assert call["inputs"]["input"].path == f"{datastore}/{contract.ML_BATCH_INPUT_PATH}/"
    assert call["outputs"]["score"].path == f"{datastore}/{contract.ML_BATCH_OUTPUT_PATH}/r1/"
    assert run_id == "r1" and list(folder.rglob("predictions.csv"))


def test_each_environment_calls_its_own_endpoints(synth: SynthOutput) -> None:
    urls = {}
    for stack in synth.stack_names():
        if "-app-" in stack:
            (app,) = synth.resources(stack, "azurerm_linux_web_app")
            urls[stack] = app["app_settings"][contract.SETTING_ENDPOINT_URL]
    for stack, url in urls.items():
        env = stack.split("-")[0]
        endpoint = Target(env, "", "", "", "").endpoint(contract.ML_ONLINE_ENDPOINT)
        assert url.endswith(f"/api/v1/endpoint/{endpoint}/score")
    assert len({u.split("/")[2] for u in urls.values()}) == len(ENVIRONMENTS)  # each environment's own router
