"""`make approve-private-endpoints`: the Data Factory's managed private endpoints onto the lake and onto the
Databricks workspace arrive as pending private endpoint connections; the real azure-mgmt-storage,
azure-mgmt-databricks and azure-mgmt-datafactory clients run against ARM faked at the HTTP transport
(tests/tools/deploy/fake_arm.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from azure.mgmt.databricks import AzureDatabricksManagementClient
from azure.mgmt.datafactory import DataFactoryManagementClient
from azure.mgmt.storage import StorageManagementClient

from stacks.config import ENVIRONMENTS_DIR, load_environment
from tests.tools.deploy.fake_arm import FakeArmTransport, FakeCredential
from tools.checks.pipelines import expand
from tools.deploy.infra import private_endpoints
from tools.deploy.infra.private_endpoints import (
    ExpectedEndpoint,
    StorageConnections,
    WorkspaceConnections,
    approve,
    expected_endpoints,
    schedule_triggers,
)

pytestmark = pytest.mark.xdist_group("stacks")
PROD = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
ROOT = Path(__file__).resolve().parents[3]
MANAGED = "/subscriptions/00000000-0000-0000-0000-00000000ad0f/resourceGroups/vnet-abc/providers/Microsoft.Network"
PROVIDERS = {"storage": "Microsoft.Storage/storageAccounts", "databricks": "Microsoft.Databricks/workspaces"}


def _state(status: str) -> dict[str, str]:
    return {"status": status, "description": "", "actionRequired": "None"}


def _connection(endpoint: ExpectedEndpoint, name: str, private_endpoint: str, status: str) -> dict[str, object]:
    """A connection as Storage and Databricks both return it: endpoint and state under `properties`."""
    return {"id": f"{_target_id(endpoint)}/privateEndpointConnections/{name}", "name": name,
            "properties": {"privateEndpoint": {"id": f"{MANAGED}/privateEndpoints/{private_endpoint}"},
                           "privateLinkServiceConnectionState": _state(status)}}


def _target_id(endpoint: ExpectedEndpoint) -> str:
    return (f"/subscriptions/{PROD.subscription_id}/resourceGroups/{endpoint.resource_group}"
            f"/providers/{PROVIDERS[endpoint.service]}/{endpoint.target}")


def _route(fake: FakeArmTransport, endpoint: ExpectedEndpoint, connections: list[dict[str, object]]) -> str:
    target_id = _target_id(endpoint)
    fake.route("GET", f"{target_id}/privateEndpointConnections", 200, {"value": connections})
    fake.route("PUT", f"{target_id}/privateEndpointConnections/[^/]+", 200, connections[0] if connections else {})
    return target_id


def _prod(synth_out: Path) -> tuple[ExpectedEndpoint, ExpectedEndpoint]:
    lake, workspace = sorted(expected_endpoints("prod", synth_out), key=lambda e: e.service != "storage")
    return lake, workspace


def _services(fake: FakeArmTransport) -> dict[str, object]:
    return {"storage": StorageConnections(StorageManagementClient(FakeCredential(), PROD.subscription_id,
                                                                  transport=fake)),
            "databricks": WorkspaceConnections(AzureDatabricksManagementClient(FakeCredential(), PROD.subscription_id,
                                                                               transport=fake))}


def test_the_synth_output_names_each_environments_factory_endpoints_onto_its_lake_and_workspace(
    synth_out: Path,
) -> None:
    for env in ("dev", "prod"):
        endpoints = {e.service: e for e in expected_endpoints(env, synth_out)}
        assert set(endpoints) == {"storage", "databricks"}
        lake, workspace = endpoints["storage"], endpoints["databricks"]
        assert lake.factory == workspace.factory and lake.factory.startswith(f"adf-carprice-{env}-")
        assert (lake.name, workspace.name) == ("mpe-lake-dfs", "mpe-databricks")
        assert re.fullmatch(rf"stcarprice{env}lake\w+", lake.target)
        assert workspace.target == f"dbw-carprice-{env}"
        assert lake.resource_group == workspace.resource_group == f"rg-carprice-{env}"


def test_with_fake_arm_transport_only_our_pending_connections_are_approved(synth_out: Path) -> None:
    lake, workspace = _prod(synth_out)
    dev = {e.service: e for e in expected_endpoints("dev", synth_out)}
    fake = FakeArmTransport()
    lake_id = _route(fake, lake, [_connection(lake, "pending-ours", lake.private_endpoint_name, "Pending"),
                                  _connection(lake, "pending-dev", dev["storage"].private_endpoint_name, "Pending"),
                                  _connection(lake, "pending-other", "pe-someone-else", "Pending")])
    workspace_id = _route(fake, workspace, [
        _connection(workspace, "pe-other", "pe-someone-else", "Pending"),
        _connection(workspace, "dbw-ours", workspace.private_endpoint_name, "Pending")])
    report = approve(_services(fake), [lake, workspace])
    assert [(w.method, w.path) for w in fake.writes()] == [
        ("PUT", f"{workspace_id}/privateEndpointConnections/dbw-ours"),
        ("PUT", f"{lake_id}/privateEndpointConnections/pending-ours")]
    for write in fake.writes():
        assert write.body["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert len(report.approved) == 2 and len(report.left_alone) == 3 and report.all_approved


def test_with_fake_arm_transport_approved_connections_are_left_untouched(synth_out: Path) -> None:
    lake, workspace = _prod(synth_out)
    fake = FakeArmTransport()
    _route(fake, lake, [_connection(lake, "approved-ours", lake.private_endpoint_name, "Approved"),
                        _connection(lake, "rejected-other", "pe-someone-else", "Rejected")])
    _route(fake, workspace, [_connection(workspace, "approved", workspace.private_endpoint_name, "Approved")])
    report = approve(_services(fake), [lake, workspace])
    assert fake.writes() == []
    assert len(report.already_approved) == 2 and len(report.left_alone) == 1 and report.all_approved


def test_with_fake_arm_transport_a_rejected_workspace_connection_blocks_and_is_not_overridden(
    synth_out: Path,
) -> None:
    lake, workspace = _prod(synth_out)
    fake = FakeArmTransport()
    _route(fake, lake, [_connection(lake, "approved-ours", lake.private_endpoint_name, "Approved")])
    _route(fake, workspace, [_connection(workspace, "rejected", workspace.private_endpoint_name, "Rejected")])
    report = approve(_services(fake), [lake, workspace])
    assert fake.writes() == [] and not report.all_approved
    assert report.refused == [f"Rejected: {workspace.target}/rejected ({workspace.private_endpoint_name})"]


def _run_main(monkeypatch, fake, synth_out) -> int:
    for name, client in (("StorageManagementClient", StorageManagementClient),
                         ("AzureDatabricksManagementClient", AzureDatabricksManagementClient),
                         ("DataFactoryManagementClient", DataFactoryManagementClient)):
        monkeypatch.setattr(private_endpoints, name,
                            lambda credential, subscription, client=client: client(FakeCredential(), subscription,
                                                                                   transport=fake))
    monkeypatch.setattr("tools.deploy.credential.azure_credential", FakeCredential)
    return private_endpoints.main(["--env", "prod", "--outdir", str(synth_out)])


def test_with_fake_arm_transport_a_connection_not_there_yet_fails_the_step(
    synth_out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, workspace = _prod(synth_out)
    fake = FakeArmTransport()
    _route(fake, lake, [])
    _route(fake, workspace, [_connection(workspace, "ours", workspace.private_endpoint_name, "Approved")])
    assert _run_main(monkeypatch, fake, synth_out) == 1
    assert lake.private_endpoint_name in capsys.readouterr().out and fake.writes() == []


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


def test_with_databricks_the_one_schedule_runs_ingest_then_prep_created_stopped(synth) -> None:
    for env in ("dev", "prod"):
        assert not synth.resources(f"{env}-data", "azurerm_data_factory_trigger_schedule")  # ingest would run twice
        trigger = synth.one(f"{env}-prep", "azurerm_data_factory_trigger_schedule")
        pipeline = synth.one(f"{env}-prep", "azurerm_data_factory_pipeline")
        assert pipeline["name"] == "ingest_then_prep" and trigger["name"] == "ingest_then_prep_schedule"
        assert trigger["pipeline_name"].startswith("${azurerm_data_factory_pipeline.FactoryRun_Pipeline")
        assert trigger["activated"] is False
        assert trigger["lifecycle"]["ignore_changes"] == ["activated"]
        (scheduled,) = schedule_triggers(env, synth.root)
        assert scheduled.name == "ingest_then_prep_schedule" and scheduled.factory.startswith(f"adf-carprice-{env}-")


def test_with_fake_arm_transport_the_trigger_starts_once_both_endpoints_are_approved(
    synth_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, workspace = _prod(synth_out)
    (trigger,) = schedule_triggers("prod", synth_out)
    fake = FakeArmTransport()
    lake_id = _route(fake, lake, [_connection(lake, "pending-ours", lake.private_endpoint_name, "Pending")])
    workspace_id = _route(fake, workspace, [_connection(workspace, "ours", workspace.private_endpoint_name,
                                                        "Pending")])
    trigger_id = _factory_routes(fake, trigger, "Stopped")
    assert _run_main(monkeypatch, fake, synth_out) == 0
    assert [(w.method, w.path) for w in fake.writes()] == [
        ("PUT", f"{workspace_id}/privateEndpointConnections/ours"),
        ("PUT", f"{lake_id}/privateEndpointConnections/pending-ours"), ("POST", f"{trigger_id}/start")]


def test_with_fake_arm_transport_a_started_trigger_is_left_running(synth_out: Path, monkeypatch) -> None:
    lake, workspace = _prod(synth_out)
    (trigger,) = schedule_triggers("prod", synth_out)
    fake = FakeArmTransport()
    _route(fake, lake, [_connection(lake, "approved-ours", lake.private_endpoint_name, "Approved")])
    _route(fake, workspace, [_connection(workspace, "ours", workspace.private_endpoint_name, "Approved")])
    _factory_routes(fake, trigger, "Started")
    assert _run_main(monkeypatch, fake, synth_out) == 0
    assert fake.writes() == []


def test_with_fake_arm_transport_no_trigger_starts_before_the_workspace_connection_exists(
    synth_out: Path, monkeypatch
) -> None:
    lake, workspace = _prod(synth_out)
    (trigger,) = schedule_triggers("prod", synth_out)
    fake = FakeArmTransport()
    lake_id = _route(fake, lake, [_connection(lake, "pending-ours", lake.private_endpoint_name, "Pending")])
    _route(fake, workspace, [])  # Data Factory has not created it yet: the pipeline's prep step could not run
    _factory_routes(fake, trigger, "Stopped")
    assert _run_main(monkeypatch, fake, synth_out) == 1
    writes = [(w.method, w.path) for w in fake.writes()]
    assert writes == [("PUT", f"{lake_id}/privateEndpointConnections/pending-ours")]  # approved, not started
