"""The databricks provider (the prep stack) authenticates from an Azure DevOps agent with the service connection's
workload identity federation: with_azure_oidc.sh selects unified auth's `azure-cli`, and the steps that plan and
apply keep the `az` session signed in. The Databricks SDK for Python implements the same unified auth as the
provider's Go SDK; it runs here against a fake `az` on PATH (the Azure boundary), and no request leaves."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.pipelines.test_oidc_refresh import AZURE_CLI_TASK, WRAPPER
from tools.checks.pipelines import expand

AZURE_DATABRICKS_APP = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"  # the resource Entra ID tokens are issued for
WORKSPACE_ID = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Databricks/workspaces/dbw-carprice-prod"
FAKE_AZ = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:2] == ["account", "show"]:
    print(json.dumps({{"user": {{"name": "client-1", "type": "servicePrincipal"}}, "id": "s-1"}}))
elif args[:2] == ["account", "get-access-token"]:
    resource = args[args.index("--resource") + 1]
    print(json.dumps({{"accessToken": {token!r} + "." + resource, "tokenType": "Bearer",
                      "expiresOn": "2099-01-01 00:00:00.000000"}}))
else:
    sys.exit(2)
"""
AUTHENTICATE = """
import json
from databricks.sdk.core import Config
# retry_timeout_seconds: the best-effort host metadata probe fails at once (the proxy refuses) instead of
# retrying for five minutes; auth itself needs no request to the workspace.
config = Config(host="https://adb-1234567890123456.7.azuredatabricks.net",
                azure_workspace_resource_id={workspace!r}, retry_timeout_seconds=1)
print(json.dumps({{"auth_type": config.auth_type, "headers": config.authenticate()}}))
"""


def _jwt_without_upn() -> str:
    """A service principal's token: no `upn` claim (a human's would have one)."""
    part = base64.urlsafe_b64encode(json.dumps({"appid": "client-1", "tid": "tenant-1"}).encode()).decode()
    return f"e30.{part.rstrip('=')}"


def test_the_wrapper_selects_azure_cli_for_the_databricks_provider_and_nothing_else() -> None:
    done = subprocess.run(["bash", str(WRAPPER), "sh", "-c", "env | grep ^DATABRICKS_ | sort"],
                          env={"PATH": "/usr/bin:/bin", **AZURE_CLI_TASK, "SYSTEM_ACCESSTOKEN": "t"},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    # No client id, secret or token: nothing another method of the default chain could pick up.
    assert done.stdout.splitlines() == ["DATABRICKS_AUTH_TYPE=azure-cli"]


def test_with_a_fake_az_the_wrappers_environment_authenticates_as_the_service_principal(tmp_path: Path) -> None:
    log = tmp_path / "az.log"
    az = tmp_path / "bin" / "az"
    az.parent.mkdir()
    az.write_text(FAKE_AZ.format(python=sys.executable, log=str(log), token=_jwt_without_upn()))
    az.chmod(0o755)
    environment = {
        "PATH": f"{az.parent}:/usr/bin:/bin", "HOME": str(tmp_path), **AZURE_CLI_TASK, "SYSTEM_ACCESSTOKEN": "t",
        # Any request that tried to leave would fail here instead.
        "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
    }
    done = subprocess.run(
        ["bash", str(WRAPPER), sys.executable, "-c", AUTHENTICATE.format(workspace=WORKSPACE_ID)],
        env=environment, capture_output=True, text=True, check=False, cwd=os.getcwd(),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["auth_type"] == "azure-cli"
    headers = result["headers"]
    # An Entra ID token for the AzureDatabricks application, from the service connection's tenant ...
    assert headers["Authorization"] == f"Bearer {_jwt_without_upn()}.{AZURE_DATABRICKS_APP}"
    # ... and, for a service principal, the Resource Manager token that lets Contributor on the workspace admit it.
    assert headers["X-Databricks-Azure-SP-Management-Token"].endswith("management.core.windows.net/")
    assert headers["X-Databricks-Azure-Workspace-Resource-Id"] == WORKSPACE_ID
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    token_calls = [c for c in calls if c[:2] == ["account", "get-access-token"]]
    assert token_calls and all(c[c.index("--tenant") + 1] == AZURE_CLI_TASK["AZURESUBSCRIPTION_TENANT_ID"]
                               for c in token_calls)


def test_the_steps_that_plan_and_apply_keep_the_az_session_signed_in() -> None:
    (pipeline,) = [expand.expand(p) for p in expand.pipeline_paths() if p.stem == "infrastructure"]
    steps = [step for stage in pipeline.stages for job in stage.jobs for step in job.steps
             if step.get("task") == "AzureCLI@2"]
    terraform = [s for s in steps if s["inputs"]["arguments"].split()[:2] in (["make", "plan"], ["make", "apply"])]
    assert {s["inputs"]["arguments"].split()[1] for s in terraform} == {"plan", "apply"}
    assert all(s["inputs"]["keepAzSessionActive"] in (True, "true") for s in terraform)
