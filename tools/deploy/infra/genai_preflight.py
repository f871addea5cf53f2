"""`make genai-preflight ENV=...`: can the subscription hold the `<env>-genai` deployments the stacks declare?

Before the first apply (and before a model bump), asks Azure Resource Manager what the account's region offers
and what quota is left, and compares it with the synthesized deployments (model, version, SKU, capacity):
the model version must be offered there with that SKU, and the sum of capacity per quota line (usage name,
e.g. `OpenAI.DataZoneStandard.gpt-4o-mini`) must fit the limit minus what is in use, counting what this
account's own deployments already hold. Prints a retirement date when Azure publishes one. Exit 1 on a
problem; reads only cdktf.out/ (like `make verify`).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacks.config import ENVIRONMENTS_DIR
from tools.synth_output import SynthError, SynthStack, load_stacks

API_VERSION = "2024-10-01"  # Microsoft.CognitiveServices: locations/models, locations/usages, deployments
PROVIDERS_API_VERSION = "2021-04-01"
PROVIDERS = ("Microsoft.CognitiveServices", "Microsoft.Search")
ARM = "https://management.azure.com"

Fetch = Callable[[str], Any]  # an ARM path (with query) -> its JSON body, or None when it does not exist


@dataclass(frozen=True)
class Deployment:
    name: str
    model: str
    version: str
    sku: str
    capacity: int


@dataclass(frozen=True)
class Account:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    deployments: tuple[Deployment, ...]

    @property
    def path(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.CognitiveServices/accounts/{self.name}")


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def declared_account(stacks: dict[str, SynthStack], environment: str) -> Account:
    """The OpenAI account and its deployments as `<env>-genai` declares them."""
    name = f"{environment}-genai"
    if name not in stacks:
        raise SynthError(f"cdktf.out/ has no {name} stack: the environment has no `genai` section, or run make synth")
    stack = stacks[name]
    [account] = stack.resources().get("azurerm_cognitive_account", {}).values()
    [provider] = stack.config["provider"]["azurerm"]
    deployments = tuple(
        Deployment(d["name"], d["model"]["name"], d["model"]["version"], d["sku"]["name"], int(d["sku"]["capacity"]))
        for d in stack.resources().get("azurerm_cognitive_deployment", {}).values()
    )
    return Account(provider["subscription_id"], account["resource_group_name"], account["name"],
                   account["location"], deployments)


def check(account: Account, fetch: Fetch) -> Report:
    report = Report()
    subscription = f"/subscriptions/{account.subscription_id}"
    for namespace in PROVIDERS:
        state = (fetch(f"{subscription}/providers/{namespace}?api-version={PROVIDERS_API_VERSION}") or {}).get(
            "registrationState", "NotRegistered")
        if state != "Registered":
            report.notes.append(f"{namespace} is {state}: the first apply registers it if the deploying principal may "
                                f"(else: az provider register -n {namespace})")
    where = f"{subscription}/providers/Microsoft.CognitiveServices/locations/{account.location}"
    offered = _all(fetch, f"{where}/models?api-version={API_VERSION}")
    usages = {u["name"]["value"]: u for u in _all(fetch, f"{where}/usages?api-version={API_VERSION}")}
    existing = _all(fetch, f"{account.path}/deployments?api-version={API_VERSION}")
    needed: dict[str, int] = defaultdict(int)
    for deployment in account.deployments:
        usage_name = _usage_name(deployment, offered, account.location, report)
        if usage_name:
            needed[usage_name] += deployment.capacity
    for usage_name, capacity in sorted(needed.items()):
        usage = usages.get(usage_name)
        if usage is None:
            report.problems.append(f"{usage_name}: no quota in {account.location}; request it (portal: Quotas)")
            continue
        ours = sum(
            int((d.get("sku") or {}).get("capacity") or 0) for d in existing
            if _usage_of(d) == usage_name
        )
        free = int(usage["limit"]) - int(usage["currentValue"]) + ours
        line = (f"{usage_name}: needs {capacity}, limit {int(usage['limit'])}, in use {int(usage['currentValue'])} "
                f"(this account's deployments: {ours})")
        (report.problems if capacity > free else report.notes).append(
            line + (f"; request {capacity - free} more (portal: Quotas)" if capacity > free else "")
        )
    return report


def _usage_name(deployment: Deployment, offered: list[dict[str, Any]], location: str, report: Report) -> str | None:
    models = [m["model"] for m in offered if (m.get("model") or {}).get("name") == deployment.model]
    match = next((m for m in models if m.get("version") == deployment.version), None)
    if match is None:
        versions = sorted({str(m.get("version")) for m in models}) or ["none"]
        report.problems.append(
            f"{deployment.name}: {deployment.model} version {deployment.version} is not offered in {location} "
            f"(offered versions: {', '.join(versions)}); set genai.location or the version"
        )
        return None
    sku = next((s for s in match.get("skus") or [] if s.get("name") == deployment.sku), None)
    if sku is None:
        skus = sorted(s.get("name", "?") for s in match.get("skus") or []) or ["none"]
        report.problems.append(f"{deployment.name}: {deployment.model} {deployment.version} has no {deployment.sku} in "
                               f"{location} (offered: {', '.join(skus)})")
        return None
    retires = sku.get("deprecationDate") or (match.get("deprecation") or {}).get("inference")
    if retires:
        report.notes.append(f"{deployment.name}: {deployment.model} {deployment.version} ({deployment.sku}) retires "
                            f"{retires}; the deployment stops then (NoAutoUpgrade): move genai.*.version before")
    return str(sku.get("usageName") or f"OpenAI.{deployment.sku}.{deployment.model}")


def _usage_of(existing: dict[str, Any]) -> str:
    model = ((existing.get("properties") or {}).get("model") or {}).get("name", "")
    return f"OpenAI.{(existing.get('sku') or {}).get('name', '')}.{model}"


def _all(fetch: Fetch, path: str) -> list[dict[str, Any]]:
    """Every item of a paged ARM list (following nextLink); none when the parent does not exist yet."""
    items: list[dict[str, Any]] = []
    next_path: str | None = path
    while next_path:
        page = fetch(next_path) or {}
        items += page.get("value", [])
        link = page.get("nextLink")
        next_path = link.removeprefix(ARM) if link else None
    return items


def arm_fetch(credential: Any, transport: Any = None) -> Fetch:
    """GETs against Azure Resource Manager with the deploy credential (a 404 is None, not an error)."""
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    client: PipelineClient = PipelineClient(
        ARM, policies=[RetryPolicy(), ARMChallengeAuthenticationPolicy(credential, f"{ARM}/.default")],
        transport=transport,
    )

    def fetch(path: str) -> Any:
        response = client.send_request(HttpRequest("GET", f"{ARM}{path}"))
        if response.status_code == 404:
            return None
        response.raise_for_status()
        response.read()
        return response.json()

    return fetch


def main(argv: list[str] | None = None, *, fetch: Fetch | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check model availability and quota for the genai stack.")
    parser.add_argument("--env", required=True, help=f"environment file name in {ENVIRONMENTS_DIR}")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    args = parser.parse_args(argv)
    try:
        account = declared_account(load_stacks(args.outdir), args.env)
    except SynthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if fetch is None:
        from tools.deploy.credential import azure_credential

        fetch = arm_fetch(azure_credential())
    print(f"genai preflight: {account.name} in {account.location}, {len(account.deployments)} deployment(s)",
          flush=True)
    report = check(account, fetch)
    for note in report.notes:
        print(f"  note  {note}")
    for problem in report.problems:
        print(f"  FAIL  {problem}")
    print("RESULT: " + ("ready" if report.ok else f"{len(report.problems)} problem(s)"))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
