"""Every Azure ML v2 spec loads offline, and the cross-references azure-ai-ml does not check are sound."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from azure.ai.ml.entities._load_functions import (
    load_batch_endpoint,
    load_component,
    load_data,
    load_environment,
    load_job,
    load_model_batch_deployment,
    load_online_deployment,
    load_online_endpoint,
    load_schedule,
)

import contract
from stacks.config import ENVIRONMENTS_DIR
from stacks.config import load_environment as load_stack_environment
from stacks.naming import Namer

SPECS = Path(__file__).resolve().parents[2] / "ml" / "azureml"
LOADERS = {
    "environment.yml": load_environment,
    "data/gold.yml": load_data,
    "components/prep.yml": load_component,
    "components/evaluate.yml": load_component,
    "components/train.yml": load_component,
    "components/register.yml": load_component,
    "pipeline.yml": load_job,
    "schedule.yml": load_schedule,
    "endpoints/online-endpoint.yml": load_online_endpoint,
    "endpoints/online-deployment.yml": load_online_deployment,
    "endpoints/batch-endpoint.yml": load_batch_endpoint,
    "endpoints/batch-deployment.yml": load_model_batch_deployment,
}


def _yaml(name: str) -> dict:
    return yaml.safe_load((SPECS / name).read_text())


def test_every_spec_file_is_covered() -> None:
    on_disk = {p.relative_to(SPECS).as_posix() for p in SPECS.rglob("*.yml")} - {"conda.yml"}
    assert on_disk == set(LOADERS)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_spec_loads_offline_with_azure_ai_ml(name: str) -> None:
    assert LOADERS[name](SPECS / name) is not None


def test_pipeline_bindings_point_at_existing_step_inputs_and_outputs() -> None:
    pipeline = _yaml("pipeline.yml")
    steps = {name: _yaml(Path(job["component"]).as_posix().removeprefix("./")) for name, job in
             pipeline["jobs"].items()}
    for name, job in pipeline["jobs"].items():
        component = steps[name]
        for input_name, binding in job.get("inputs", {}).items():
            assert input_name in component["inputs"], f"{name}: no input {input_name}"
            match = re.fullmatch(r"\$\{\{parent\.(?:inputs\.(\w+)|jobs\.(\w+)\.outputs\.(\w+))\}\}", binding)
            assert match, f"{name}.{input_name}: unexpected binding {binding}"
            parent_input, step, output = match.groups()
            if parent_input:
                assert parent_input in pipeline["inputs"]
            else:
                assert output in steps[step]["outputs"], f"{step} has no output {output}"
        for placeholder in re.findall(r"\$\{\{(inputs|outputs)\.(\w+)\}\}", component["command"]):
            assert placeholder[1] in component[placeholder[0]], f"{name}: command uses undeclared {placeholder}"


def test_referenced_files_and_modules_exist() -> None:
    for name in LOADERS:
        spec = _yaml(name)
        base = (SPECS / name).parent
        if "code" in spec:
            assert (base / spec["code"]).is_dir()
        if "code_configuration" in spec:
            code = base / spec["code_configuration"]["code"]
            assert (code / spec["code_configuration"]["scoring_script"]).is_file(), name
        for key in ("conda_file", "create_job", "path"):
            if key in spec:
                assert (base / spec[key]).exists(), f"{name}: {key} {spec[key]} missing"
        for module in re.findall(r"python -m ([\w.]+)", spec.get("command", "")):
            assert (base / spec["code"] / (module.replace(".", "/") + ".py")).is_file(), module
    assert (SPECS / "data" / "gold" / "MLTable").is_file()


def test_names_match_the_contract_and_the_stacks() -> None:
    def ref(value: str) -> str:
        return value.removeprefix("azureml:").split("@")[0].split(":")[0]

    assert _yaml("environment.yml")["name"] == contract.ML_ENVIRONMENT
    assert _yaml("data/gold.yml")["name"] == contract.ML_DATA_ASSET
    assert "datastores/" + contract.ML_DATASTORE_LAKE + "/" in (SPECS / "data/gold/MLTable").read_text()
    assert ref(_yaml("endpoints/batch-deployment.yml")["compute"]) == contract.ML_COMPUTE_CLUSTER
    assert ref(_yaml("endpoints/online-endpoint.yml")["compute"]) == contract.ML_INFERENCE_COMPUTE
    assert _yaml("endpoints/online-endpoint.yml")["name"] == contract.ML_ONLINE_ENDPOINT
    assert _yaml("endpoints/batch-endpoint.yml")["name"] == contract.ML_BATCH_ENDPOINT
    for name in LOADERS:
        spec = _yaml(name)
        if "model" in spec and isinstance(spec["model"], str):
            assert ref(spec["model"]) == contract.ML_MODEL_NAME
        if "environment" in spec:
            assert ref(spec["environment"]) == contract.ML_ENVIRONMENT
        if "endpoint_name" in spec:
            assert spec["endpoint_name"] in {contract.ML_ONLINE_ENDPOINT, contract.ML_BATCH_ENDPOINT}
    # Traffic is the rollout's to set, once a slot passed its smoke test (tools/deploy/ml/rollout.py).
    assert "traffic" not in _yaml("endpoints/online-endpoint.yml")


def test_pipeline_is_a_dataflow_where_no_step_recomputes_an_earlier_one() -> None:
    jobs = _yaml("pipeline.yml")["jobs"]
    assert jobs["evaluate"]["inputs"] == {"gold": "${{parent.jobs.prep.outputs.gold}}"}
    assert jobs["train"]["inputs"] == {"gold": "${{parent.jobs.prep.outputs.gold}}",
                                       "metrics": "${{parent.jobs.evaluate.outputs.metrics}}"}
    assert jobs["register"]["inputs"]["model"] == "${{parent.jobs.train.outputs.model}}"
    assert jobs["register"]["inputs"]["metrics"] == "${{parent.jobs.evaluate.outputs.metrics}}"
    # Only prep touches the lake; the later steps read what it produced.
    readers = {name for name in jobs if "lake_root" in _yaml(f"components/{name}.yml").get("inputs", {})}
    assert readers == {"prep"}
    assert "--landed-only" in _yaml("components/prep.yml")["command"]  # no CSV from the code snapshot


def test_component_commands_parse_with_the_steps_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from ml.carprice import steps

    for name in ("prep", "evaluate", "train", "register"):
        component = _yaml(f"components/{name}.yml")

        def value(match: re.Match[str], component: dict = component) -> str:
            kind = component[match.group(1)][match.group(2)]["type"]
            return "1" if kind in ("integer", "number") else f"/mnt/{match.group(2)}"

        # An optional input's $[[...]] block is kept when the input is bound and dropped when it is not.
        for optional_bound in (True, False):
            command = re.sub(r"\$\[\[(.*?)\]\]", r"\1" if optional_bound else "", component["command"])
            args = re.sub(r"\$\{\{(inputs|outputs)\.(\w+)\}\}", value, command).split()
            assert args[:3] == ["python", "-m", "ml.carprice.steps"], name
            parsed: list[object] = []
            monkeypatch.setattr(steps, name, parsed.append)  # parse the arguments, run nothing
            assert steps.main([a.strip("'") for a in args[3:]]) == 0 and len(parsed) == 1, name


def test_the_evaluate_step_hands_an_optional_champion_to_the_gate() -> None:
    component = _yaml("components/evaluate.yml")
    assert component["inputs"]["champion"] == {"type": "custom_model", "optional": True}
    assert "$[[--champion-metrics ${{inputs.champion}}]]" in component["command"]
    loaded = load_component(SPECS / "components/evaluate.yml")
    assert loaded.inputs["champion"].optional is True


def test_no_environment_specific_value_is_written_in_the_specs() -> None:
    text = "\n".join(p.read_text() for p in SPECS.rglob("*") if p.is_file())
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)  # subscription ids
    assert not re.search(r"@[a-z0-9]+\.(dfs|blob)\.core\.windows\.net", text)  # storage accounts
    for env in ("dev", "prod"):
        config = load_stack_environment(ENVIRONMENTS_DIR / f"{env}.yaml")
        namer = Namer(config.workload, config.name, config.subscription_id)
        for kind in ("resource_group", "ml_workspace"):
            assert namer.name(kind) not in text
    assert all(value == "" for value in _yaml("pipeline.yml")["inputs"].values())


def test_batch_input_is_the_folder_prep_writes() -> None:
    to_score = _yaml("pipeline.yml")["jobs"]["prep"]["outputs"]["to_score"]
    assert to_score["type"] == "uri_folder"
    assert to_score["path"] == f"azureml://datastores/{contract.ML_DATASTORE_LAKE}/paths/{contract.ML_BATCH_INPUT_PATH}/"
    deployment = _yaml("endpoints/batch-deployment.yml")
    # The driver writes under the job's output (Azure ML sets AZUREML_BI_OUTPUT_PATH): no mount path overrides it.
    assert "AZUREML_BI_OUTPUT_PATH" not in deployment.get("environment_variables", {})
