"""`make app-rollout ENV=...`: ship dist/app.zip to every app region, then confirm Traffic Manager sees them.

Per region: deploy to the staging slot -> warm it up until READY_PATH answers 200 -> swap into production
-> check production answers READY_PATH; when it does not, swap back (the previous version is in the
staging slot after the swap) and stop. Regions are done one after another, so a region that never
becomes ready stops the rollout and the other regions keep serving the previous version. Without a
staging slot (dev), the package goes straight to production and is then warmed up the same way.
Finally every Traffic Manager endpoint must report Online. Azure calls go through the `az` CLI that
AzureCLI@2 has already logged in.

When the environment has a genai stack, `make assistant-gate` judges the first region's staging slot between
its warm-up and its swap (one package, shared AI services: one verdict for every region). Its exits, as
tools/checks/genai/gate.py defines them: 0 swaps; 3 holds every swap back (a warning, production keeps the previous
version, the step succeeds with issues); anything else fails the rollout before any swap.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from contract import READY_PATH, genai
from tools.synth_output import SynthError, environment_stacks, find_resources, load_stacks

ROOT = Path(__file__).resolve().parents[3]
AzCli = Callable[[list[str]], str]
Gate = Callable[[str], int]  # the staging slot's base URL -> the gate's exit code
GATE_PASSED, GATE_HELD = 0, 3  # tools/checks/genai/gate.py (its own venv, so only its exit code crosses over)


class AppRolloutFailed(Exception):
    pass


class AppRolloutHeld(Exception):
    """The assistant gate held the swap back: a decision, not an error."""


@dataclass(frozen=True)
class RegionTarget:
    stack: str
    app: str
    resource_group: str
    slot: str | None  # None: the plan has no staging slot in this environment

    def host(self) -> str:
        return f"{self.app}-{self.slot}.azurewebsites.net" if self.slot else f"{self.app}.azurewebsites.net"


@dataclass(frozen=True)
class EdgeTarget:
    profile: str
    resource_group: str


def discover(environment: str, outdir: Path) -> tuple[list[RegionTarget], EdgeTarget | None]:
    stacks = environment_stacks(load_stacks(outdir), environment)
    regions = []
    for stack, _, app in find_resources(stacks, "azurerm_linux_web_app"):
        name, group = stack.resolve(app.get("name")), stack.resolve(app.get("resource_group_name"))
        if not (isinstance(name, str) and isinstance(group, str)):
            raise SynthError(f"{stack.name}: web app name and resource group must be literals")
        slot_resources = find_resources({stack.name: stack}, "azurerm_linux_web_app_slot")
        slots = [stack.resolve(slot.get("name")) for _, _, slot in slot_resources]
        regions.append(RegionTarget(stack.name, name, group, slots[0] if slots else None))
    if not regions:
        raise SynthError(f"no azurerm_linux_web_app in the {environment} stacks")
    profiles = find_resources(stacks, "azurerm_traffic_manager_profile")
    edge = None
    if profiles:
        stack, _, profile = profiles[0]
        edge = EdgeTarget(stack.resolve(profile.get("name")), stack.resolve(profile.get("resource_group_name")))
    return regions, edge


def assistant_judge(environment: str, outdir: Path) -> str | None:
    """The genai stack's Azure OpenAI endpoint (the gate's judge), or None when the environment has no genai tier."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    for stack, _, account in find_resources(stacks, "azurerm_cognitive_account"):
        subdomain = stack.resolve(account.get("custom_subdomain_name"))
        if account.get("kind") == "OpenAI" and isinstance(subdomain, str):
            return f"https://{subdomain}.openai.azure.com"
    return None


def assistant_index(environment: str, outdir: Path) -> str | None:
    """The genai stack's search endpoint, where the gate plants its probe listing for the indirect-attack probe."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    for stack, _, service in find_resources(stacks, "azurerm_search_service"):
        name = stack.resolve(service.get("name"))
        if isinstance(name, str):
            return f"https://{name}.search.windows.net"
    return None


def make_assistant_gate(judge_endpoint: str, search_endpoint: str | None = None) -> Gate:
    def run(app_url: str) -> int:
        command = ["make", "--no-print-directory", "assistant-gate", f"APP_URL={app_url}",
                   f"JUDGE_ENDPOINT={judge_endpoint}", f"JUDGE_DEPLOYMENT={genai.OPENAI_CHAT_DEPLOYMENT}",
                   f"SEARCH_ENDPOINT={search_endpoint or ''}"]
        return subprocess.run(command, cwd=ROOT, check=False).returncode

    return run


def run_az(args: list[str]) -> str:
    completed = subprocess.run(["az", *args, "--output", "json"], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise AppRolloutFailed(f"az {' '.join(args[:3])} failed: {completed.stderr.strip()[-500:]}")
    return completed.stdout


def warm_up(url: str, attempts: int = 30, wait_seconds: float = 10.0, client: httpx.Client | None = None) -> None:
    """Poll the readiness URL until it answers 200; the first requests after a deploy start the workers."""
    http = client or httpx.Client(timeout=30.0)
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            response = http.get(url)
            if response.status_code == 200:
                print(f"ready: {url} (attempt {attempt})", flush=True)
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        if attempt < attempts:
            time.sleep(wait_seconds)
    raise AppRolloutFailed(f"{url} not ready after {attempts} attempts (last: {last})")


def endpoints_offline(az: AzCli, edge: EdgeTarget) -> list[str]:
    listed = json.loads(
        az(["network", "traffic-manager", "endpoint", "list", "--resource-group", edge.resource_group,
            "--profile-name", edge.profile])
    )
    return [
        f"{e.get('name')}: {e.get('endpointMonitorStatus')}"
        for e in listed
        if e.get("endpointMonitorStatus") != "Online" or e.get("endpointStatus", "Enabled") != "Enabled"
    ]


def rollout(
    regions: list[RegionTarget],
    edge: EdgeTarget | None,
    package: Path,
    az: AzCli = run_az,
    warm: Callable[[str], None] = warm_up,
    edge_attempts: int = 20,
    edge_wait_seconds: float = 15.0,
    gate: Gate | None = None,
) -> None:
    if not package.is_file():
        raise AppRolloutFailed(f"{package} not found: run `make package-app` first")
    for target in regions:
        _deploy(target, package, az, warm)
        if target.slot and gate is not None:
            _judge(target, gate)
            gate = None  # judged once: the same package meets the same shared AI services in every region
        if target.slot:
            _swap_live(target, target.slot, az, warm)
    if edge is not None:
        _wait_for_edge(edge, az, edge_attempts, edge_wait_seconds)


def _deploy(target: RegionTarget, package: Path, az: AzCli, warm: Callable[[str], None]) -> None:
    """The package onto the region's staging slot (or the app itself when it has none), warmed up."""
    slot_args = ["--slot", target.slot] if target.slot else []
    print(f"[{target.stack}] deploying {package.name} to {target.app} {target.slot or 'production'}", flush=True)
    az(["webapp", "deploy", "--resource-group", target.resource_group, "--name", target.app,
        *slot_args, "--src-path", str(package), "--type", "zip"])
    warm(f"https://{target.host()}{READY_PATH}")


def _judge(target: RegionTarget, gate: Gate) -> None:
    """The assistant gate's verdict on the staged slot; anything but a pass stops the rollout before the swap."""
    verdict = gate(f"https://{target.host()}")
    if verdict == GATE_HELD:
        raise AppRolloutHeld(f"{target.app}: the assistant gate held the swap back; production keeps the "
                             f"previous version, {target.slot} has the new one (reports/assistant-gate.json)")
    if verdict != GATE_PASSED:
        raise AppRolloutFailed(f"{target.app}: the assistant gate could not decide (exit {verdict}); "
                               "not swapped")


def _swap_live(target: RegionTarget, slot: str, az: AzCli, warm: Callable[[str], None]) -> None:
    """The staged slot into production; swapped back when production then fails its check."""
    swap = ["webapp", "deployment", "slot", "swap", "--resource-group", target.resource_group,
            "--name", target.app, "--slot", slot, "--target-slot", "production"]
    az(swap)
    print(f"[{target.stack}] swapped {slot} into production", flush=True)
    try:
        warm(f"https://{target.app}.azurewebsites.net{READY_PATH}")
    except AppRolloutFailed as exc:
        az(swap)  # the same swap again puts the previous version back into production
        print(f"[{target.stack}] production failed its check; swapped back", flush=True)
        raise AppRolloutFailed(f"{target.app}: {exc}; swapped the previous version back") from exc


def _wait_for_edge(edge: EdgeTarget, az: AzCli, attempts: int, wait_seconds: float) -> None:
    """Until Traffic Manager reports every endpoint Online (it probes each region on its own schedule)."""
    for attempt in range(1, attempts + 1):
        offline = endpoints_offline(az, edge)
        if not offline:
            print(f"Traffic Manager {edge.profile}: every endpoint Online", flush=True)
            return
        print(f"Traffic Manager {edge.profile}: waiting for {offline} (attempt {attempt})", flush=True)
        if attempt < attempts:
            time.sleep(wait_seconds)
    raise AppRolloutFailed(f"Traffic Manager {edge.profile} still reports {offline}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy the app package to every region and swap it live.")
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    parser.add_argument("--package", type=Path, default=ROOT / "dist" / "app.zip")
    args = parser.parse_args(argv)
    try:
        regions, edge = discover(args.env, args.outdir)
        judge = assistant_judge(args.env, args.outdir)
        gate = make_assistant_gate(judge, assistant_index(args.env, args.outdir)) if judge else None
        rollout(regions, edge, args.package, gate=gate)
    except AppRolloutHeld as held:
        print(f"##vso[task.logissue type=warning]app rollout held back: {held}", flush=True)
        print("##vso[task.complete result=SucceededWithIssues;]assistant gate below threshold", flush=True)
        return 0
    except (AppRolloutFailed, SynthError) as exc:
        print(f"app rollout failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
