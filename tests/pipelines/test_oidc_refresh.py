"""Finding: a fixed idToken expires after minutes, so a long apply or ML stream fails half-way.
Terraform (provider and backend) and the Python tools must renew their token through Azure DevOps."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from azure.identity import AzurePipelinesCredential, DefaultAzureCredential

from tools.checks.pipelines import check
from tools.deploy.credential import azure_credential

WRAPPER = Path(__file__).resolve().parents[2] / "tools" / "deploy" / "with_azure_oidc.sh"
AZURE_CLI_TASK = {  # what AzureCLI@2 exports for a workload identity federation service connection
    "AZURESUBSCRIPTION_CLIENT_ID": "client-1",
    "AZURESUBSCRIPTION_TENANT_ID": "tenant-1",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "sc-guid-1",
    "SYSTEM_OIDCREQUESTURI": "https://dev.azure.com/org/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken",
    "idToken": "short-lived-jwt",
}


def _run_wrapper(**env: str) -> subprocess.CompletedProcess[str]:
    command = ["bash", str(WRAPPER), "sh", "-c", "env | grep ^ARM_ | sort"]
    return subprocess.run(command, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, check=False)


def test_wrapper_hands_terraform_the_renewable_azure_devops_path_not_a_fixed_token() -> None:
    done = _run_wrapper(**AZURE_CLI_TASK, SYSTEM_ACCESSTOKEN="ado-job-token")
    assert done.returncode == 0, done.stderr
    exported = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert exported == {
        "ARM_USE_OIDC": "true", "ARM_USE_AZUREAD": "true",
        "ARM_CLIENT_ID": "client-1", "ARM_TENANT_ID": "tenant-1",
        "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID": "sc-guid-1", "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID": "sc-guid-1",
        "ARM_OIDC_REQUEST_TOKEN": "ado-job-token", "ARM_OIDC_REQUEST_URL": AZURE_CLI_TASK["SYSTEM_OIDCREQUESTURI"],
    }
    assert "ARM_OIDC_TOKEN" not in exported


def test_wrapper_refuses_steps_without_the_job_token_or_the_service_connection() -> None:
    no_connection = _run_wrapper(**{k: v for k, v in AZURE_CLI_TASK.items() if "SERVICE_CONNECTION" not in k},
                                 SYSTEM_ACCESSTOKEN="t")
    assert no_connection.returncode != 0 and "workload identity federation" in no_connection.stderr
    no_job_token = _run_wrapper(**AZURE_CLI_TASK)
    assert no_job_token.returncode != 0 and "SYSTEM_ACCESSTOKEN" in no_job_token.stderr


def test_every_azure_step_maps_the_job_token_into_the_wrapper() -> None:
    template = check.load(check.PIPELINES / "templates" / "azure-make.yml")
    [step] = template["steps"]
    assert step["task"] == "AzureCLI@2" and step["inputs"]["scriptPath"] == "tools/deploy/with_azure_oidc.sh"
    assert step["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    assert "addSpnToEnvironment" not in step["inputs"]  # the idToken it would export is not used


def test_python_tools_renew_tokens_through_azure_pipelines_credential_in_a_pipeline() -> None:
    pipeline = {"TF_BUILD": "True", "ARM_TENANT_ID": "tenant-1", "ARM_CLIENT_ID": "client-1",
                "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID": "sc-guid-1", "SYSTEM_ACCESSTOKEN": "ado-job-token"}
    assert isinstance(azure_credential(pipeline), AzurePipelinesCredential)
    with pytest.raises(RuntimeError, match="SYSTEM_ACCESSTOKEN"):
        azure_credential({**pipeline, "SYSTEM_ACCESSTOKEN": ""})
    laptop = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    assert isinstance(azure_credential(laptop), DefaultAzureCredential)
