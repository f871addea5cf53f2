"""`make bootstrap ENV=...`: everything an environment needs before its first plan, in one pass.

1. The Terraform state resource group, storage account (no shared keys, TLS 1.2, no public blobs, versioning
   and soft delete) and container. Idempotent: a drifted security setting is put back.
2. The caller gets "Storage Blob Data Contributor" on that account, and the run waits until the blob data
   plane admits it: with shared keys off, Terraform's azurerm backend reads state with Entra ID only, and a
   new role assignment takes minutes to reach the data plane (Learn: role-based-access-control/troubleshooting,
   "changes can take up to 10 minutes").
3. With an `agents:` block: the resource providers the pool needs are registered and the run waits until
   they report Registered (Learn: azure-resource-manager/management/resource-providers-and-types,
   registration is asynchronous: NotRegistered -> Registering -> Registered); the DevOpsInfrastructure service
   principal that registration creates is looked up in Microsoft Graph (no object id to type in), and the
   <env>-agents stack is planned and applied with it (TF_VAR_devops_infrastructure_principal_id).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from azure.core.rest import HttpRequest
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage import models as storage_models
from azure.storage.blob import ContainerClient

from stacks import SYNTH_ARGS
from stacks.config import ENVIRONMENTS_DIR, EnvironmentConfig, load_environment
from tools.deploy.credential import azure_credential

ROOT = Path(__file__).resolve().parents[3]
STATE_RETENTION_DAYS = 30
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"  # built-in role id, the same in every tenant
ROLE_ASSIGNMENT_API = "2022-04-01"
DEVOPS_INFRASTRUCTURE = "DevOpsInfrastructure"  # the pool service's principal (Managed DevOps Pools networking)
PRINCIPAL_VARIABLE = "TF_VAR_devops_infrastructure_principal_id"
GRAPH = "https://graph.microsoft.com"
# azurerm's default ("legacy") registrations leave these out (internal/resourceproviders/required.go at v4.81.0).
AGENT_POOL_PROVIDERS = ("Microsoft.DevCenter", "Microsoft.DevOpsInfrastructure")
# Settings an existing state account must have; each maps to (attribute, required value).
SECURE_SETTINGS: dict[str, Any] = {
    "allow_shared_key_access": False,
    "allow_blob_public_access": False,
    "minimum_tls_version": "TLS1_2",
    "enable_https_traffic_only": True,
}


class BootstrapError(Exception):
    """A wait ran out or a lookup found nothing; the message says what to check."""


@dataclass(frozen=True)
class Waiting:
    """How long to wait for Azure to catch up: `attempts` checks, `seconds` apart."""

    attempts: int = 60
    seconds: float = 10.0
    sleep: Callable[[float], None] = time.sleep


@dataclass
class BootstrapReport:
    environment: str
    actions: list[str] = field(default_factory=list)
    principal_id: str | None = None

    def note(self, action: str) -> None:
        print(f"  {action}")
        self.actions.append(action)


def _account_parameters(config: EnvironmentConfig, location: str) -> storage_models.StorageAccountCreateParameters:
    return storage_models.StorageAccountCreateParameters(
        sku=storage_models.Sku(name="Standard_ZRS"),
        kind="StorageV2",
        location=location,
        tags=config.all_tags,
        default_to_o_auth_authentication=True,
        **SECURE_SETTINGS,
    )


def bootstrap(config: EnvironmentConfig, credential: TokenCredential, **client_kwargs: Any) -> BootstrapReport:
    """Make the environment's azurerm state backend exist; client_kwargs go to the SDK clients (e.g. transport)."""
    report = BootstrapReport(config.name)
    backend = config.state_backend
    if backend.kind != "azurerm":
        report.note(f"{config.name} keeps state locally (state_backend.kind: local); nothing to create")
        return report
    assert backend.resource_group and backend.storage_account  # guaranteed by StateBackend's validator
    location = backend.location or config.location
    resources = ResourceManagementClient(credential, config.subscription_id, **client_kwargs)
    storage = StorageManagementClient(credential, config.subscription_id, **client_kwargs)

    if resources.resource_groups.check_existence(backend.resource_group):
        report.note(f"resource group {backend.resource_group}: exists")
    else:
        resources.resource_groups.create_or_update(
            backend.resource_group, ResourceGroup(location=location, tags=config.all_tags)
        )
        report.note(f"resource group {backend.resource_group}: created in {location}")

    _ensure_account(storage, config, backend.resource_group, backend.storage_account, location, report)
    _ensure_blob_service(storage, backend.resource_group, backend.storage_account, report)

    try:
        storage.blob_containers.get(backend.resource_group, backend.storage_account, backend.container)
        report.note(f"container {backend.container}: exists")
    except ResourceNotFoundError:
        storage.blob_containers.create(
            backend.resource_group,
            backend.storage_account,
            backend.container,
            storage_models.BlobContainer(public_access="None"),
        )
        report.note(f"container {backend.container}: created")
    return report


def register_providers(config: EnvironmentConfig, credential: TokenCredential, report: BootstrapReport,
                       waiting: Waiting = Waiting(), namespaces: tuple[str, ...] = AGENT_POOL_PROVIDERS,
                       **client_kwargs: Any) -> None:
    """The agent pool's resource providers (azurerm does not register them), waited for until Registered."""
    resources = ResourceManagementClient(credential, config.subscription_id, **client_kwargs)
    for namespace in namespaces:
        state = resources.providers.get(namespace).registration_state
        if state == "Registered":
            report.note(f"resource provider {namespace}: registered")
            continue
        if state != "Registering":
            resources.providers.register(namespace)
        for _ in range(waiting.attempts):
            waiting.sleep(waiting.seconds)
            state = resources.providers.get(namespace).registration_state
            if state == "Registered":
                break
        else:
            raise BootstrapError(f"resource provider {namespace} is still {state} after "
                                 f"{waiting.attempts * waiting.seconds:.0f} s; run `make bootstrap` again later")
        report.note(f"resource provider {namespace}: registered (waited for it)")


def caller_object_id(credential: TokenCredential) -> str:
    """The object id (`oid` claim) of whoever runs this: the principal that needs the state data role."""
    token = credential.get_token("https://management.azure.com/.default").token
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["oid"])


def grant_state_access(config: EnvironmentConfig, credential: TokenCredential, report: BootstrapReport,
                       waiting: Waiting = Waiting(), **client_kwargs: Any) -> None:
    """Storage Blob Data Contributor on the state account for the caller, then wait until blobs admit it."""
    backend = config.state_backend
    subscription = f"/subscriptions/{config.subscription_id}"
    account = (f"{subscription}/resourceGroups/{backend.resource_group}"
               f"/providers/Microsoft.Storage/storageAccounts/{backend.storage_account}")
    principal = caller_object_id(credential)
    name = uuid.uuid5(uuid.NAMESPACE_URL, f"{account}|{principal}|{BLOB_DATA_CONTRIBUTOR}")
    resources = ResourceManagementClient(credential, config.subscription_id, **client_kwargs)
    try:
        resources.resources.begin_create_or_update_by_id(
            f"{account}/providers/Microsoft.Authorization/roleAssignments/{name}", ROLE_ASSIGNMENT_API,
            GenericResource(properties={
                "roleDefinitionId": f"{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
                                    f"{BLOB_DATA_CONTRIBUTOR}",
                "principalId": principal}),
        ).result()
        report.note(f"storage account {backend.storage_account}: Storage Blob Data Contributor for {principal}")
    except ResourceExistsError:
        report.note(f"storage account {backend.storage_account}: {principal} already has Storage Blob Data Contributor")
    container = ContainerClient(f"https://{backend.storage_account}.blob.core.windows.net", backend.container,
                                credential=credential, **client_kwargs)
    for attempt in range(1, waiting.attempts + 1):
        try:
            next(iter(container.list_blobs(results_per_page=1).by_page()), None)
            report.note(f"container {backend.container}: readable with Entra ID (attempt {attempt})")
            return
        except HttpResponseError as error:
            if error.status_code != 403:
                raise
        waiting.sleep(waiting.seconds)
    raise BootstrapError(f"container {backend.container} still refuses {principal} after "
                         f"{waiting.attempts * waiting.seconds:.0f} s: role assignments can take longer to propagate; "
                         "run `make bootstrap` again")


def devops_infrastructure_principal(credential: TokenCredential, report: BootstrapReport,
                                    waiting: Waiting = Waiting(), **client_kwargs: Any) -> str:
    """Object id of the DevOpsInfrastructure service principal in this tenant (Microsoft Graph)."""
    graph = PipelineClient(GRAPH, policies=[BearerTokenCredentialPolicy(credential, f"{GRAPH}/.default")],
                           **client_kwargs)
    query = f"/v1.0/servicePrincipals?$filter=displayName eq '{DEVOPS_INFRASTRUCTURE}'&$select=id,displayName"
    for _ in range(waiting.attempts):
        response = graph.send_request(HttpRequest("GET", f"{GRAPH}{query}"))
        response.read()
        response.raise_for_status()
        found = response.json().get("value", [])
        if len(found) == 1:
            report.note(f"service principal {DEVOPS_INFRASTRUCTURE}: {found[0]['id']}")
            return str(found[0]["id"])
        if len(found) > 1:
            raise BootstrapError(f"{len(found)} service principals are named {DEVOPS_INFRASTRUCTURE}; expected one")
        waiting.sleep(waiting.seconds)
    raise BootstrapError(f"no {DEVOPS_INFRASTRUCTURE} service principal in this tenant: it appears when "
                         "Microsoft.DevOpsInfrastructure is registered; check the registration and run again")


def bootstrap_environment(config: EnvironmentConfig, credential: TokenCredential, waiting: Waiting = Waiting(),
                          **client_kwargs: Any) -> BootstrapReport:
    """State backend, the caller's data access to it, and (with `agents:`) providers and the pool's principal."""
    report = bootstrap(config, credential, **client_kwargs)
    if config.state_backend.kind == "azurerm":
        grant_state_access(config, credential, report, waiting, **client_kwargs)
    if config.agents is not None:
        register_providers(config, credential, report, waiting, **client_kwargs)
        report.principal_id = devops_infrastructure_principal(credential, report, waiting, **client_kwargs)
    return report


def deploy_agents(config: EnvironmentConfig, principal_id: str, local_state: bool = False) -> None:
    """Synthesize, then plan + apply the <env>-agents stack with the looked-up principal (one pass)."""
    from tools.deploy.infra import plan

    outdir, bundle = ROOT / "cdktf.out", ROOT / f"cdktf.out.plan-{config.name}-agents"
    synth = [sys.executable, *SYNTH_ARGS, "--env", config.name, "--outdir", str(outdir)]
    subprocess.run([*synth, *(["--local-state"] if local_state else [])], check=True, stdout=subprocess.DEVNULL)
    plan.check_terraform()
    plan.deploy(config, outdir, bundle, only=("agents",), base_env={**os.environ, PRINCIPAL_VARIABLE: principal_id})


def _ensure_account(
    storage: StorageManagementClient,
    config: EnvironmentConfig,
    group: str,
    name: str,
    location: str,
    report: BootstrapReport,
) -> None:
    try:
        account = storage.storage_accounts.get_properties(group, name)
    except ResourceNotFoundError:
        storage.storage_accounts.begin_create(group, name, _account_parameters(config, location)).result()
        report.note(f"storage account {name}: created (no shared keys, TLS 1.2, no public blobs)")
        return
    drifted = {key: value for key, value in SECURE_SETTINGS.items() if getattr(account, key, None) != value}
    if drifted:
        storage.storage_accounts.update(group, name, storage_models.StorageAccountUpdateParameters(**drifted))
        report.note(f"storage account {name}: exists; restored {', '.join(sorted(drifted))}")
    else:
        report.note(f"storage account {name}: exists with shared keys off")


def _ensure_blob_service(storage: StorageManagementClient, group: str, name: str, report: BootstrapReport) -> None:
    current = storage.blob_services.get_service_properties(group, name)
    retention = current.delete_retention_policy
    if current.is_versioning_enabled and retention is not None and retention.enabled:
        report.note(f"storage account {name}: versioning and soft delete already on")
        return
    policy = storage_models.DeleteRetentionPolicy(enabled=True, days=STATE_RETENTION_DAYS)
    storage.blob_services.set_service_properties(
        group,
        name,
        storage_models.BlobServiceProperties(
            is_versioning_enabled=True, delete_retention_policy=policy, container_delete_retention_policy=policy
        ),
    )
    report.note(f"storage account {name}: turned on versioning and {STATE_RETENTION_DAYS}-day soft delete")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bootstrap an environment: state backend, data access, agent pool.")
    parser.add_argument("--env", required=True)
    parser.add_argument("--state-only", action="store_true", help="the state backend and the caller's access only")
    parser.add_argument("--local-state", action="store_true", help="the agents stack keeps state locally")
    args = parser.parse_args(argv)
    config = load_environment(ENVIRONMENTS_DIR / f"{args.env}.yaml")
    print(f"Bootstrapping {config.name} (subscription {config.subscription_id})")
    credential = azure_credential()
    try:
        if args.state_only:
            report = bootstrap(config, credential)
            if config.state_backend.kind == "azurerm":
                grant_state_access(config, credential, report)
        else:
            report = bootstrap_environment(config, credential)
            if report.principal_id:
                deploy_agents(config, report.principal_id, args.local_state)
    except (BootstrapError, HttpResponseError) as exc:
        print(f"bootstrap {config.name}: {exc}", file=sys.stderr)
        return 1
    if config.state_backend.kind == "azurerm":
        print(f"Next: give the pipeline's service connection 'Storage Blob Data Contributor' on storage account "
              f"{config.state_backend.storage_account} (docs/deploy.md, 'Run it in Azure DevOps').")
    return 0


if __name__ == "__main__":
    sys.exit(main())
