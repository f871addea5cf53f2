"""`make approve-private-endpoints ENV=...`: approve the Data Factory's managed private endpoints on the lake.

A managed private endpoint is created by Data Factory inside its managed virtual network and reaches the lake
as a private endpoint connection in the *Pending* state; the owner of the target resource approves it (Learn,
"Azure Data Factory managed virtual network", managed private endpoints). azurerm has no resource for that
approval, so this step runs after the data stack is applied. It approves only pending connections whose
private endpoint is one this environment's factory declares (Data Factory names it
`<factory>.<managed private endpoint>`), leaves every other connection as it is, and changes nothing on a
second run.

The factory's schedule triggers are created stopped (the stacks set `activated = false` and leave the runtime
state to this step), so no run starts before the factory can reach the lake: once every endpoint of a factory is
approved, this step starts its stopped triggers. Terraform then keeps the started state on later updates
(`ignore_changes` reads it back as the prior value, and the provider restarts a trigger it stopped to update).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.mgmt.datafactory import DataFactoryManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage import models as storage_models

from stacks.config import ENVIRONMENTS_DIR, load_environment
from tools.synth_output import SynthError, environment_stacks, find_resources, load_stacks

ROOT = Path(__file__).resolve().parents[3]
APPROVAL_NOTE = "Approved by the deployment: managed private endpoint of this environment's Data Factory"


@dataclass(frozen=True)
class ExpectedEndpoint:
    """One managed private endpoint the synth output declares: the factory's, onto a storage account."""

    factory: str
    name: str
    account: str
    resource_group: str

    @property
    def private_endpoint_name(self) -> str:
        return f"{self.factory}.{self.name}"


@dataclass(frozen=True)
class ScheduleTrigger:
    """A schedule trigger the synth output declares on a factory."""

    factory: str
    name: str
    resource_group: str


@dataclass
class ApprovalReport:
    approved: list[str] = field(default_factory=list)
    already_approved: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    already_started: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return ([f"approved {c}" for c in self.approved] + [f"already approved {c}" for c in self.already_approved]
                + [f"not ours, left alone: {c}" for c in self.left_alone]
                + [f"no connection yet for {c}" for c in self.missing]
                + [f"started trigger {t}" for t in self.started]
                + [f"trigger already started {t}" for t in self.already_started])


def expected_endpoints(environment: str, outdir: Path) -> list[ExpectedEndpoint]:
    """The environment's Data Factory managed private endpoints onto storage accounts, names resolved."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    found = []
    for stack, address, attributes in find_resources(stacks, "azurerm_data_factory_managed_private_endpoint"):
        target = attributes.get("target_resource_id")
        if not str(target).startswith("${azurerm_storage_account."):
            continue
        values = (stack.referenced_name(attributes.get("data_factory_id")), stack.resolve(attributes.get("name")),
                  stack.referenced_name(target), stack.referenced_name(target, "resource_group_name"))
        names = [value for value in values if isinstance(value, str)]
        if len(names) != len(values):
            raise SynthError(f"{stack.name}: {address} needs literal factory, endpoint, account and group names")
        factory, name, account, group = names
        found.append(ExpectedEndpoint(factory, name, account, group))
    return found


def schedule_triggers(environment: str, outdir: Path) -> list[ScheduleTrigger]:
    """The environment's factory schedule triggers, names resolved."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    found = []
    for stack, address, attributes in find_resources(stacks, "azurerm_data_factory_trigger_schedule"):
        factory_id = attributes.get("data_factory_id")
        values = (stack.referenced_name(factory_id), stack.resolve(attributes.get("name")),
                  stack.referenced_name(factory_id, "resource_group_name"))
        names = [value for value in values if isinstance(value, str)]
        if len(names) != len(values):
            raise SynthError(f"{stack.name}: {address} needs literal factory, trigger and group names")
        factory, name, group = names
        found.append(ScheduleTrigger(factory, name, group))
    return found


def start_triggers(factories: DataFactoryManagementClient, triggers: list[ScheduleTrigger],
                   report: ApprovalReport) -> None:
    """Start each stopped trigger (idempotent). Call only once the factory's endpoints are approved."""
    for trigger in triggers:
        label = f"{trigger.factory}/{trigger.name}"
        current = factories.triggers.get(trigger.resource_group, trigger.factory, trigger.name)
        state = current.properties.runtime_state if current is not None else None
        if state == "Started":
            report.already_started.append(label)
            continue
        factories.triggers.begin_start(trigger.resource_group, trigger.factory, trigger.name).result()
        report.started.append(label)


def _state(connection: Any) -> str:
    state = connection.private_link_service_connection_state
    return str(state.status) if state is not None and state.status is not None else ""


def approve(storage: StorageManagementClient, expected: list[ExpectedEndpoint]) -> ApprovalReport:
    report = ApprovalReport()
    by_account: dict[tuple[str, str], set[str]] = {}
    for endpoint in expected:
        by_account.setdefault((endpoint.resource_group, endpoint.account), set()).add(endpoint.private_endpoint_name)
    for (group, account), ours in sorted(by_account.items()):
        seen = set()
        for connection in storage.private_endpoint_connections.list(group, account):
            endpoint_id = connection.private_endpoint.id if connection.private_endpoint else ""
            endpoint_name = (endpoint_id or "").rstrip("/").rsplit("/", 1)[-1]
            label = f"{account}/{connection.name} ({endpoint_name or 'no endpoint'})"
            if endpoint_name not in ours:
                report.left_alone.append(label)
                continue
            seen.add(endpoint_name)
            if _state(connection) == "Approved":
                report.already_approved.append(label)
            elif _state(connection) == "Pending" and connection.name is not None:  # ARM lists every one named
                state = storage_models.PrivateLinkServiceConnectionState(status="Approved", description=APPROVAL_NOTE)
                storage.private_endpoint_connections.put(
                    group, account, connection.name,
                    storage_models.PrivateEndpointConnection(private_link_service_connection_state=state))
                report.approved.append(label)
            else:  # Rejected or Disconnected: someone decided; re-create the managed endpoint instead
                report.left_alone.append(f"{label}: {_state(connection)}")
        report.missing += [f"{account}: {name}" for name in sorted(ours - seen)]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    args = parser.parse_args(argv)
    try:
        expected = expected_endpoints(args.env, args.outdir)
        triggers = schedule_triggers(args.env, args.outdir)
    except SynthError as exc:
        print(f"approve-private-endpoints {args.env}: {exc}", file=sys.stderr)
        return 1
    if not expected and not triggers:
        print(f"{args.env}: no managed private endpoints to approve, no triggers to start")
        return 0
    from tools.deploy.credential import azure_credential

    config = load_environment(ENVIRONMENTS_DIR / f"{args.env}.yaml")
    credential = azure_credential()
    report = approve(StorageManagementClient(credential, config.subscription_id), expected)
    if report.missing:
        print("\n".join(report.lines()))
        print("the factory cannot reach these until Data Factory has created their connections, so its triggers "
              "stay stopped: run again", file=sys.stderr)
        return 1
    start_triggers(DataFactoryManagementClient(credential, config.subscription_id), triggers, report)
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
