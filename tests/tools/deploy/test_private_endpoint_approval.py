"""`make approve-private-endpoints`: the Data Factory's managed private endpoint onto the lake arrives as a
pending private endpoint connection; the real azure-mgmt-storage client runs against ARM faked at the HTTP
transport (tests/tools/deploy/fake_arm.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from azure.mgmt.datafactory import DataFactoryManagementClient
from azure.mgmt.storage import StorageManagementClient

from stacks.config import ENVIRONMENTS_DIR, load_environment
from tests.tools.deploy.fake_arm import FakeArmTransport, FakeCredential
from tools.checks.pipelines import expand
from tools.deploy.infra import private_endpoints
from tools.deploy.infra.private_endpoints import ExpectedEndpoint, approve, expected_endpoints, schedule_triggers

pytestmark = pytest.mark.xdist_group("stacks")
PROD = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
ROOT = Path(__file__).resolve().parents[3]
MANAGED = "/subscriptions/00000000-0000-0000-0000-00000000ad0f/resourceGroups/vnet-abc/providers/Microsoft.Network"


def _connection(account_id: str, name: str, endpoint: str, status: str) -> dict[str, object]:
    return {"id": f"{account_id}/privateEndpointConnections/{name}", "name": name,
            "properties": {"privateEndpoint": {"id": f"{MANAGED}/privateEndpoints/{endpoint}"},
                           "privateLinkServiceConnectionState": {"status": status, "description": "",
                                                                 "actionRequired": "None"}}}


def _lake(endpoint: ExpectedEndpoint, connections: list[dict[str, object]]) -> tuple[FakeArmTransport, str]:
    account_id = (f"/subscriptions/{PROD.subscription_id}/resourceGroups/{endpoint.resource_group}"
                  f"/providers/Microsoft.Storage/storageAccounts/{endpoint.account}")
    fake = FakeArmTransport()
    fake.route("GET", f"{account_id}/privateEndpointConnections", 200, {"value": connections})
    fake.route("PUT", f"{account_id}/privateEndpointConnections/[^/]+", 200, connections[0] if connections else {})
    return fake, account_id


def test_the_synth_output_names_each_environments_factory_endpoint_onto_its_lake(synth_out: Path) -> None:
    for env in ("dev", "prod"):
        (endpoint,) = expected_endpoints(env, synth_out)
        assert endpoint.factory.startswith(f"adf-carprice-{env}-") and endpoint.name == "mpe-lake-dfs"
        assert re.fullmatch(rf"stcarprice{env}lake\w+", endpoint.account)
        assert endpoint.resource_group == f"rg-carprice-{env}"


def test_with_fake_arm_transport_only_our_pending_connection_is_approved(synth_out: Path) -> None:
    (ours,) = expected_endpoints("prod", synth_out)
    (dev,) = expected_endpoints("dev", synth_out)
    connections = [_connection("x", "pending-ours", ours.private_endpoint_name, "Pending"),
                   _connection("x", "pending-dev", dev.private_endpoint_name, "Pending"),  # another factory's
                   _connection("x", "pending-other", "pe-someone-else", "Pending")]
    fake, account_id = _lake(ours, connections)
    storage = StorageManagementClient(FakeCredential(), PROD.subscription_id, transport=fake)
    report = approve(storage, [ours])
    (write,) = fake.writes()
    assert (write.method, write.path) == ("PUT", f"{account_id}/privateEndpointConnections/pending-ours")
    assert write.body["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert len(report.approved) == 1 and len(report.left_alone) == 2 and not report.missing


def test_with_fake_arm_transport_an_approved_connection_is_left_untouched(synth_out: Path) -> None:
    (ours,) = expected_endpoints("prod", synth_out)
    fake, _ = _lake(ours, [_connection("x", "approved-ours", ours.private_endpoint_name, "Approved"),
                           _connection("x", "rejected-other", "pe-someone-else", "Rejected")])
    report = approve(StorageManagementClient(FakeCredential(), PROD.subscription_id, transport=fake), [ours])
    assert fake.writes() == []
    assert len(report.already_approved) == 1 and len(report.left_alone) == 1


def test_with_fake_arm_transport_a_connection_not_there_yet_fails_the_step(
    synth_out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (ours,) = expected_endpoints("prod", synth_out)
    fake, _ = _lake(ours, [])
    monkeypatch.setattr(private_endpoints, "StorageManagementClient",
                        lambda credential, subscription: StorageManagementClient(FakeCredential(), subscription,
                                                                                 transport=fake))
    monkeypatch.setattr("tools.deploy.credential.azure_credential", FakeCredential)
    assert private_endpoints.main(["--env", "prod", "--outdir", str(synth_out)]) == 1
    assert ours.private_endpoint_name in capsys.readouterr().out and fake.writes() == []


def test_the_infrastructure_pipeline_approves_after_apply_and_before_verify() -> None:
    (pipeline,) = [expand.expand(p) for p in expand.pipeline_paths() if p.stem == "infrastructure"]
    order: list[tuple[str, str]] = []  # (stage, make target) in the order the pipeline runs them
    for stage in pipeline.stages:
        for job in stage.jobs:
            commands = [s.get("script") or s.get("inputs", {}).get("arguments", "") for s in job.steps]
            order += [(stage.name, c.split()[c.split().index("make") + 1]) for c in commands if "make" in c.split()]
    for env in ("dev", "prod"):
        targets = [target for stage, target in order if stage.startswith(f"infra_{env}_")]
        last_apply = max(i for i, t in enumerate(targets) if t == "apply")
        assert last_apply < targets.index("approve-private-endpoints") < targets.index("verify")
    deploy = (ROOT / "make" / "pipelines.mk").read_text(encoding="utf-8").split("\ndeploy:")[1].split("\n\n")[0]
    assert "tools.deploy.infra.private_endpoints" in deploy  # `make deploy` from a laptop approves too


def _factory_routes(fake: FakeArmTransport, trigger, state: str) -> str:
    trigger_id = (f"/subscriptions/{PROD.subscription_id}/resourceGroups/{trigger.resource_group}/providers/"
                  f"Microsoft.DataFactory/factories/{trigger.factory}/triggers/{trigger.name}")
    fake.route("GET", trigger_id, 200, {"id": trigger_id, "name": trigger.name, "properties": {
        "type": "ScheduleTrigger", "runtimeState": state,
        "typeProperties": {"recurrence": {"frequency": "Hour", "interval": 1}}}})
    fake.route("POST", f"{trigger_id}/start", 200, None)
    return trigger_id


def _run_main(monkeypatch, fake, synth_out) -> int:
    monkeypatch.setattr(private_endpoints, "StorageManagementClient",
                        lambda credential, subscription: StorageManagementClient(FakeCredential(), subscription,
                                                                                 transport=fake))
    monkeypatch.setattr(private_endpoints, "DataFactoryManagementClient",
                        lambda credential, subscription: DataFactoryManagementClient(FakeCredential(), subscription,
                                                                                     transport=fake))
    monkeypatch.setattr("tools.deploy.credential.azure_credential", FakeCredential)
    return private_endpoints.main(["--env", "prod", "--outdir", str(synth_out)])


def test_the_factory_trigger_is_created_stopped_and_left_to_this_step(synth) -> None:
    for env in ("dev", "prod"):
        trigger = synth.one(f"{env}-data", "azurerm_data_factory_trigger_schedule")
        assert trigger["activated"] is False
        assert trigger["lifecycle"]["ignore_changes"] == ["activated"]


def test_with_fake_arm_transport_the_trigger_starts_once_the_lake_endpoint_is_approved(
    synth_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ours,) = expected_endpoints("prod", synth_out)
    (trigger,) = schedule_triggers("prod", synth_out)
    fake, account_id = _lake(ours, [_connection("x", "pending-ours", ours.private_endpoint_name, "Pending")])
    trigger_id = _factory_routes(fake, trigger, "Stopped")
    assert _run_main(monkeypatch, fake, synth_out) == 0
    assert [(w.method, w.path) for w in fake.writes()] == [
        ("PUT", f"{account_id}/privateEndpointConnections/pending-ours"), ("POST", f"{trigger_id}/start")]


def test_with_fake_arm_transport_a_started_trigger_is_left_running(synth_out: Path, monkeypatch) -> None:
    (ours,) = expected_endpoints("prod", synth_out)
    (trigger,) = schedule_triggers("prod", synth_out)
    fake, _ = _lake(ours, [_connection("x", "approved-ours", ours.private_endpoint_name, "Approved")])
    _factory_routes(fake, trigger, "Started")
    assert _run_main(monkeypatch, fake, synth_out) == 0
    assert fake.writes() == []


def test_with_fake_arm_transport_no_trigger_starts_before_the_connection_exists(synth_out: Path, monkeypatch) -> None:
    (ours,) = expected_endpoints("prod", synth_out)
    (trigger,) = schedule_triggers("prod", synth_out)
    fake, _ = _lake(ours, [])
    _factory_routes(fake, trigger, "Stopped")
    assert _run_main(monkeypatch, fake, synth_out) == 1
    assert fake.writes() == []
