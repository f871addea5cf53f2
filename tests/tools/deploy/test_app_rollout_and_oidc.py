"""App rollout order per region (fake `az` CLI at the process boundary, HTTP via httpx.MockTransport)
and the workload-identity wrapper the AzureCLI@2 steps run (with a fake `az` on PATH)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from contract import READY_PATH
from tools.deploy.app_rollout import AppRolloutFailed, discover, rollout, warm_up

pytestmark = pytest.mark.xdist_group("deploy-synth")
WRAPPER = Path(__file__).resolve().parents[3] / "tools" / "deploy" / "with_azure_oidc.sh"


class FakeAzCli:
    """Records `az` invocations; Traffic Manager endpoints report the scripted statuses in turn."""

    def __init__(self, monitor_statuses: list[str]) -> None:
        self.calls: list[list[str]] = []
        self.statuses = list(monitor_statuses)

    def __call__(self, args: list[str]) -> str:
        self.calls.append(args)
        if args[:4] == ["network", "traffic-manager", "endpoint", "list"]:
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return json.dumps([{"name": "ep-weu", "endpointMonitorStatus": "Online", "endpointStatus": "Enabled"},
                               {"name": "ep-neu", "endpointMonitorStatus": status, "endpointStatus": "Enabled"}])
        return "{}"


def test_prod_targets_come_from_the_synth(synth_out: Path) -> None:
    regions, edge = discover("prod", synth_out)
    assert len(regions) == 2 and all(r.slot == "staging" for r in regions)
    assert edge is not None and edge.profile.startswith("traf-carprice-prod")
    dev_regions, _ = discover("dev", synth_out)
    assert [r.slot for r in dev_regions] == [None]


def test_app_rollout_with_fake_az_cli_deploys_warms_and_swaps_each_region(synth_out: Path, tmp_path: Path):
    package = tmp_path / "app.zip"
    package.write_bytes(b"PK")
    regions, edge = discover("prod", synth_out)
    az, warmed = FakeAzCli(["Degraded", "Online"]), []
    rollout(regions, edge, package, az=az, warm=warmed.append, edge_wait_seconds=0)
    verbs = [" ".join(call[:3]) for call in az.calls]
    assert verbs == ["webapp deploy --resource-group", "webapp deployment slot", "webapp deploy --resource-group",
                     "webapp deployment slot", "network traffic-manager endpoint",
                     "network traffic-manager endpoint"]
    assert az.calls[0][az.calls[0].index("--slot") + 1] == "staging"
    assert warmed[0] == f"https://{regions[0].app}-staging.azurewebsites.net{READY_PATH}"
    assert warmed[1] == f"https://{regions[0].app}.azurewebsites.net{READY_PATH}"


def test_region_that_never_gets_ready_is_not_swapped(synth_out: Path, tmp_path: Path) -> None:
    package = tmp_path / "app.zip"
    package.write_bytes(b"PK")
    regions, edge = discover("prod", synth_out)

    def never_ready(url: str) -> None:
        raise AppRolloutFailed(f"{url} not ready")

    az = FakeAzCli(["Online"])
    with pytest.raises(AppRolloutFailed, match="not ready"):
        rollout(regions, edge, package, az=az, warm=never_ready)
    assert [call[:2] for call in az.calls] == [["webapp", "deploy"]]


def test_traffic_manager_endpoint_that_stays_offline_fails_the_rollout(synth_out: Path, tmp_path: Path) -> None:
    package = tmp_path / "app.zip"
    package.write_bytes(b"PK")
    regions, edge = discover("prod", synth_out)
    with pytest.raises(AppRolloutFailed, match="ep-neu: Degraded"):
        rollout(regions, edge, package, az=FakeAzCli(["Degraded"]), warm=lambda url: None,
                edge_attempts=2, edge_wait_seconds=0)


def test_warm_up_with_fake_http_transport_polls_until_200() -> None:
    answers = iter([503, 503, 200])
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(next(answers))))
    warm_up("https://app-staging.azurewebsites.net/readyz", attempts=3, wait_seconds=0, client=client)
    stuck = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    with pytest.raises(AppRolloutFailed, match="last: HTTP 503"):
        warm_up("https://x/readyz", attempts=2, wait_seconds=0, client=stuck)


def _run_wrapper(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "az").write_text("#!/bin/sh\necho 11111111-2222-3333-4444-555555555555\n")
    (fake_bin / "az").chmod(0o755)
    base = {"PATH": f"{fake_bin}{os.pathsep}/usr/bin:/bin"}
    command = ["bash", str(WRAPPER), "sh", "-c", "env | grep ^ARM_ | sort"]
    return subprocess.run(command, env={**base, **env}, capture_output=True, text=True, check=False)


def test_oidc_wrapper_with_fake_az_exports_terraform_oidc_settings(tmp_path: Path) -> None:
    done = _run_wrapper(tmp_path, servicePrincipalId="client-1", tenantId="tenant-1", idToken="jwt-1")
    assert done.returncode == 0, done.stderr
    exported = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert exported == {"ARM_CLIENT_ID": "client-1", "ARM_OIDC_TOKEN": "jwt-1", "ARM_TENANT_ID": "tenant-1",
                        "ARM_USE_OIDC": "true", "ARM_USE_AZUREAD": "true",
                        "ARM_SUBSCRIPTION_ID": "11111111-2222-3333-4444-555555555555"}


def test_oidc_wrapper_refuses_secrets_and_missing_federated_tokens(tmp_path: Path) -> None:
    secret = _run_wrapper(tmp_path, servicePrincipalId="c", tenantId="t", idToken="j", servicePrincipalKey="s3cr3t")
    assert secret.returncode == 2 and "workload identity federation" in secret.stderr
    no_token = _run_wrapper(tmp_path, servicePrincipalId="c", tenantId="t")
    assert no_token.returncode != 0 and "no federated token" in no_token.stderr
