"""App rollout order per region (fake `az` CLI at the process boundary, HTTP via httpx.MockTransport)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from contract import READY_PATH
from tools.deploy.app.rollout import (
    AppRolloutFailed,
    AppRolloutHeld,
    assistant_index,
    assistant_judge,
    discover,
    rollout,
    warm_up,
)

pytestmark = pytest.mark.xdist_group("deploy-synth")


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


def test_production_that_fails_after_the_swap_with_fake_az_cli_is_swapped_back(synth_out: Path, tmp_path: Path):
    package = tmp_path / "app.zip"
    package.write_bytes(b"PK")
    regions, edge = discover("prod", synth_out)

    def production_broken(url: str) -> None:
        if "-staging." not in url:
            raise AppRolloutFailed(f"{url} not ready")

    az = FakeAzCli(["Online"])
    with pytest.raises(AppRolloutFailed, match="swapped the previous version back"):
        rollout(regions, edge, package, az=az, warm=production_broken)
    swaps = [call for call in az.calls if call[:3] == ["webapp", "deployment", "slot"]]
    assert len(swaps) == 2 and swaps[0] == swaps[1]  # swapped in, then back
    assert all(call[:2] != ["network", "traffic-manager"] for call in az.calls)  # later regions untouched
    assert sum(call[:2] == ["webapp", "deploy"] for call in az.calls) == 1


def test_the_assistant_gate_judges_the_first_staging_slot_once_before_any_swap(synth_out: Path, tmp_path: Path):
    package = tmp_path / "app.zip"
    package.write_bytes(b"PK")
    regions, edge = discover("prod", synth_out)
    az, judged = FakeAzCli(["Online"]), []

    def gate(app_url: str) -> int:
        judged.append((app_url, len(az.calls)))
        return 0

    rollout(regions, edge, package, az=az, warm=lambda url: None, gate=gate)
    assert judged == [(f"https://{regions[0].app}-staging.azurewebsites.net", 1)]  # after the deploy, before the swap
    assert sum(call[:3] == ["webapp", "deployment", "slot"] for call in az.calls) == 2


@pytest.mark.parametrize(("verdict", "error"), [(3, AppRolloutHeld), (2, AppRolloutFailed)])
def test_a_held_or_undecided_assistant_gate_swaps_no_region(synth_out: Path, tmp_path: Path, verdict, error):
    package = tmp_path / "app.zip"
    package.write_bytes(b"PK")
    regions, edge = discover("prod", synth_out)
    az = FakeAzCli(["Online"])
    with pytest.raises(error, match="assistant gate"):
        rollout(regions, edge, package, az=az, warm=lambda url: None, gate=lambda url: verdict)
    assert [call[:2] for call in az.calls] == [["webapp", "deploy"]]


def test_the_gate_runs_only_where_the_environment_has_a_genai_stack(synth_out: Path) -> None:
    judge = assistant_judge("prod", synth_out)
    assert judge is not None and judge.startswith("https://") and judge.endswith(".openai.azure.com")
    index = assistant_index("prod", synth_out)  # where the gate plants its indirect-attack probe listing
    assert index is not None and index.startswith("https://") and index.endswith(".search.windows.net")
