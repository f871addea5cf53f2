"""Every pipeline and template is one Azure DevOps can import: schema-valid (Microsoft's Azure Pipelines
schema, task inputs included), references resolve, and each step calls something in this repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.config import environment_names
from tools.checks.pipelines import check, expand

FILES = check.pipeline_files()
PIPELINES = {p.stem: check.load(p) for p in FILES if p.parent == check.PIPELINES}
ALL_TEXT = "\n".join(p.read_text() for p in FILES)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(check.PIPELINES)) for p in paths]


def test_the_four_pipelines_exist() -> None:
    assert set(PIPELINES) == {"pr-validation", "infrastructure", "ml", "app"}


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_pipeline_file_validates_against_the_azure_pipelines_schema(path: Path) -> None:
    is_template = "templates" in path.relative_to(check.PIPELINES).parts
    assert check.schema_errors(check.load(path), is_template=is_template) == []


def test_schema_check_rejects_unknown_task_inputs_and_keys() -> None:
    step = {"task": "AzureCLI@2", "inputs": {"azureSubscription": "sc", "scriptType": "bash", "clientSecret": "x"}}
    assert any("clientSecret" in p for p in check.schema_errors({"steps": [step]}, is_template=True))
    assert check.schema_errors({"trigger": "none", "jobz": []}) != []
    assert any("not a task" in p for p in check.schema_errors({"steps": [{"task": "Nope@9"}]}, is_template=True))


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_references_targets_scripts_and_variables_resolve(path: Path) -> None:
    assert check.problems_in(path) == []


def test_variable_templates_match_the_stacks_environments() -> None:
    assert check.environment_problems() == []
    per_env = {k: v for k, v in check.template_variables().items() if k != "common"}
    assert sorted(per_env) == environment_names()


def test_every_pipeline_variable_is_documented() -> None:
    documented = check.documented_variables()
    for variables in check.template_variables().values():
        assert set(variables) <= documented


def test_pr_validation_publishes_results_even_when_a_step_fails() -> None:
    steps = PIPELINES["pr-validation"]["jobs"][0]["steps"]
    scripts = [s["script"] for s in steps if "script" in s]
    assert scripts == ["make lint", "make test", "make scan", "make validate"]
    published = [s for s in steps if s.get("task") == "PublishTestResults@2"]
    assert {s["inputs"]["testResultsFiles"] for s in published} == {"reports/pytest/*.xml", "reports/checkov/**/*.xml"}
    assert all(s["condition"] == "always()" for s in published)
    checkov = next(s for s in published if "checkov" in s["inputs"]["testResultsFiles"])
    assert checkov["inputs"]["failTaskOnFailedTests"] == "true"
    sarif = next(s for s in steps if s.get("artifact") == "CodeAnalysisLogs")
    assert sarif["condition"] == "always()"
    assert PIPELINES["pr-validation"]["pr"]["branches"]["include"] == ["main"]


def test_deployments_are_bound_to_azure_devops_environments() -> None:
    from tools.checks.pipelines import expand

    for name in ("infrastructure", "ml", "app"):
        pipeline = expand.expand(check.PIPELINES / f"{name}.yml")
        deployments = [(j, s) for s in pipeline.stages for j in s.jobs if j.kind == "deployment"]
        assert deployments, name
        assert all(j.environment == j.variables["deploymentEnvironment"] for j, _ in deployments)
    variables = check.template_variables()
    assert variables["prod"]["deploymentEnvironment"] != variables["dev"]["deploymentEnvironment"]


def test_ml_pipeline_retrains_weekly_and_gates_before_rollout() -> None:
    ml = PIPELINES["ml"]
    assert ml["schedules"][0]["cron"] == "0 3 * * 1" and ml["schedules"][0]["always"] == "true"
    text = (check.PIPELINES / "templates" / "ml-stages.yml").read_text()
    assert text.index("make ml-train-remote") < text.index("make ml-gate") < text.index("make ml-rollout")
    assert text.index("make ml-rollout") < text.index("make ml-batch-score")


def test_azure_steps_use_federated_service_connections_only() -> None:
    azure_steps = [n for p in FILES for n in check.walk(check.load(p))
                   if isinstance(n, dict) and str(n.get("task", "")).startswith("Azure")]
    assert azure_steps and all(s["task"] == "AzureCLI@2" for s in azure_steps)
    assert all(s["inputs"]["scriptPath"] == "tools/deploy/with_azure_oidc.sh" for s in azure_steps)
    for secret_word in ("servicePrincipalKey", "client_secret", "ARM_CLIENT_SECRET", "clientSecret", "password"):
        assert secret_word not in ALL_TEXT


def test_every_job_runs_on_ubuntu_24_04_or_its_environments_agent_pool() -> None:
    variables = check.template_variables()
    pools = {variables[env]["agentPool"] for env in environment_names()} - {""}
    for path in expand.pipeline_paths():
        for stage in expand.expand(path).stages:
            for job in stage.jobs:
                assert job.definition["pool"] in ({"vmImage": "ubuntu-24.04"}, *({"name": p} for p in pools)), job.name
