"""`make approve-private-endpoints ENV=...`: approve the Data Factory's managed private endpoints on the lake and
on the Databricks workspace, then start the factory's schedule.

A managed private endpoint is created by Data Factory inside its managed virtual network and reaches its target
as a private endpoint connection in the *Pending* state; the owner of the target resource approves it (Learn,
"Azure Data Factory managed virtual network", managed private endpoints). azurerm has no resource for that
approval, so this step runs after the stacks are applied. It approves only pending connections whose private
endpoint is one this environment's factory declares (Data Factory names it `<factory>.<managed private
endpoint>`), on a storage account (azure-mgmt-storage) or a Databricks workspace (azure-mgmt-databricks), leaves
every other connection as it is, and changes nothing on a second run.

The factory's schedule triggers are created stopped (the stacks set `activated = false` and leave the runtime
state to this step), so no run starts before the factory can reach what it runs against: only once every
endpoint the environment declares is approved does this step start the stopped triggers. Terraform then keeps
the started state on later updates (`ignore_changes` reads it back as the prior value, and the provider restarts
a trigger it stopped to update).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from azure.mgmt.core.tools import parse_resource_id
from azure.mgmt.databricks import AzureDatabricksManagementClient
from azure.mgmt.databricks import models as databricks_models
from azure.mgmt.datafactory import DataFactoryManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage import models as storage_models

from stacks.config import ENVIRONMENTS_DIR, load_environment
from tools.synth_output import SynthError, SynthStack, environment_stacks, find_resources, load_stacks

ROOT = Path(__file__).resolve().parents[3]
APPROVAL_NOTE = "Approved by the deployment: managed private endpoint of this environment's Data Factory"
# The resource types a managed private endpoint of ours targets, by the service that approves it.
SERVICES = {"microsoft.storage/storageaccounts": "storage", "microsoft.databricks/workspaces": "databricks"}
_REFERENCED = {"azurerm_storage_account": "storage", "azurerm_databricks_workspace": "databricks"}


@dataclass(frozen=True)
class ExpectedEndpoint:
    """One managed private endpoint the synth output declares: the factory's, onto `target` of `service`."""

    factory: str
    name: str
    service: str  # "storage" (a storage account) or "databricks" (a workspace)
    target: str
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
    refused: list[str] = field(default_factory=list)  # ours, but rejected or disconnected by someone
    started: list[str] = field(default_factory=list)
    already_started: list[str] = field(default_factory=list)

    @property
    def all_approved(self) -> bool:
        return not self.missing and not self.refused

    def lines(self) -> list[str]:
        return ([f"approved {c}" for c in self.approved] + [f"already approved {c}" for c in self.already_approved]
                + [f"not ours, left alone: {c}" for c in self.left_alone]
                + [f"no connection yet for {c}" for c in self.missing]
                + [f"ours but {c}: re-create the managed private endpoint" for c in self.refused]
                + [f"started trigger {t}" for t in self.started]
                + [f"trigger already started {t}" for t in self.already_started])


def _located(stack: SynthStack, value: Any) -> tuple[str | None, str | None, str | None]:
    """(service, name, resource group) of what `value` names: a same-stack reference or a literal ARM id."""
    if isinstance(value, str) and value.startswith("/subscriptions/"):
        parts = parse_resource_id(value)
        kind = f"{parts.get('namespace', '')}/{parts.get('type', '')}".lower()
        name, group = parts.get("name"), parts.get("resource_group")
        return (SERVICES.get(kind), name if isinstance(name, str) else None,
                group if isinstance(group, str) else None)
    kind = value.split(".", 1)[0].removeprefix("${") if isinstance(value, str) else ""
    return (_REFERENCED.get(kind), stack.referenced_name(value), stack.referenced_name(value, "resource_group_name"))


def expected_endpoints(environment: str, outdir: Path) -> list[ExpectedEndpoint]:
    """The environment's Data Factory managed private endpoints, names resolved; one this step cannot approve
    is an error, because the factory's triggers must wait for it."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    found = []
    for stack, address, attributes in find_resources(stacks, "azurerm_data_factory_managed_private_endpoint"):
        _, factory, group = _located(stack, attributes.get("data_factory_id"))
        service, target, target_group = _located(stack, attributes.get("target_resource_id"))
        name = stack.resolve(attributes.get("name"))
        if service is None:
            raise SynthError(f"{stack.name}: {address} targets neither a storage account nor a Databricks "
                             "workspace of this environment; this step could not approve it")
        if not (isinstance(factory, str) and isinstance(name, str) and isinstance(target, str)
                and isinstance(target_group, str) and group is not None):
            raise SynthError(f"{stack.name}: {address} needs literal factory, endpoint, target and group names")
        found.append(ExpectedEndpoint(factory, name, service, target, target_group))
    return found


def schedule_triggers(environment: str, outdir: Path) -> list[ScheduleTrigger]:
    """The environment's factory schedule triggers, names resolved."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    found = []
    for stack, address, attributes in find_resources(stacks, "azurerm_data_factory_trigger_schedule"):
        _, factory, group = _located(stack, attributes.get("data_factory_id"))
        name = stack.resolve(attributes.get("name"))
        if not (isinstance(factory, str) and isinstance(name, str) and isinstance(group, str)):
            raise SynthError(f"{stack.name}: {address} needs literal factory, trigger and group names")
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


@dataclass(frozen=True)
class Connection:
    name: str
    endpoint_name: str  # the private endpoint's name, the last segment of its id
    status: str


class Connections(Protocol):
    """A target service's private endpoint connections: listed, and one approved."""

    def list(self, group: str, target: str) -> Iterator[Connection]: ...

    def approve(self, group: str, target: str, name: str) -> None: ...


def _connection(name: str | None, endpoint: Any, state: Any) -> Connection:
    endpoint_id = (endpoint.id if endpoint is not None else "") or ""
    status = state.status if state is not None and state.status is not None else ""
    status = status.value if isinstance(status, Enum) else str(status)  # the Databricks SDK returns its enum
    return Connection(name or "", endpoint_id.rstrip("/").rsplit("/", 1)[-1], status)


class StorageConnections:
    """A storage account's connections (the lake), through azure-mgmt-storage."""

    def __init__(self, client: StorageManagementClient) -> None:
        self.client = client

    def list(self, group: str, target: str) -> Iterator[Connection]:
        for c in self.client.private_endpoint_connections.list(group, target):
            yield _connection(c.name, c.private_endpoint, c.private_link_service_connection_state)

    def approve(self, group: str, target: str, name: str) -> None:
        state = storage_models.PrivateLinkServiceConnectionState(status="Approved", description=APPROVAL_NOTE)
        self.client.private_endpoint_connections.put(
            group, target, name, storage_models.PrivateEndpointConnection(private_link_service_connection_state=state))


class WorkspaceConnections:
    """A Databricks workspace's connections, through azure-mgmt-databricks: the connection's state sits under
    `properties`, and approving is the long-running PUT of the connection (`begin_create`, ARM "Private
    Endpoint Connections - Create" on Microsoft.Databricks/workspaces)."""

    def __init__(self, client: AzureDatabricksManagementClient) -> None:
        self.client = client

    def list(self, group: str, target: str) -> Iterator[Connection]:
        for c in self.client.private_endpoint_connections.list(group, target):
            properties = c.properties
            yield _connection(c.name, properties.private_endpoint if properties else None,
                              properties.private_link_service_connection_state if properties else None)

    def approve(self, group: str, target: str, name: str) -> None:
        state = databricks_models.PrivateLinkServiceConnectionState(status="Approved", description=APPROVAL_NOTE)
        properties = databricks_models.PrivateEndpointConnectionProperties(private_link_service_connection_state=state)
        self.client.private_endpoint_connections.begin_create(
            group, target, name, databricks_models.PrivateEndpointConnection(properties=properties)).result()


def approve(services: Mapping[str, Connections], expected: list[ExpectedEndpoint]) -> ApprovalReport:
    report = ApprovalReport()
    by_target: dict[tuple[str, str, str], set[str]] = {}
    for endpoint in expected:
        key = (endpoint.service, endpoint.resource_group, endpoint.target)
        by_target.setdefault(key, set()).add(endpoint.private_endpoint_name)
    for (service, group, target), ours in sorted(by_target.items()):
        connections = services[service]
        seen = set()
        for connection in connections.list(group, target):
            label = f"{target}/{connection.name} ({connection.endpoint_name or 'no endpoint'})"
            if connection.endpoint_name not in ours:
                report.left_alone.append(label)
                continue
            seen.add(connection.endpoint_name)
            if connection.status == "Approved":
                report.already_approved.append(label)
            elif connection.status == "Pending" and connection.name:  # ARM lists every one named
                connections.approve(group, target, connection.name)
                report.approved.append(label)
            else:  # Rejected or Disconnected: someone decided; re-create the managed endpoint instead
                report.refused.append(f"{connection.status}: {label}")
        report.missing += [f"{target}: {name}" for name in sorted(ours - seen)]
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
    services: dict[str, Connections] = {}
    for service in sorted({endpoint.service for endpoint in expected}):
        if service == "storage":
            services[service] = StorageConnections(StorageManagementClient(credential, config.subscription_id))
        else:
            services[service] = WorkspaceConnections(
                AzureDatabricksManagementClient(credential, config.subscription_id))
    report = approve(services, expected)
    if not report.all_approved:
        print("\n".join(report.lines()))
        print("the factory cannot reach these until their connections exist and are approved, so its triggers "
              "stay stopped: run again (a rejected one needs its managed private endpoint re-created)",
              file=sys.stderr)
        return 1
    start_triggers(DataFactoryManagementClient(credential, config.subscription_id), triggers, report)
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
