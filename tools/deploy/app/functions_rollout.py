"""`make functions-rollout ENV=...`: ship dist/functions.zip to the environment's function app, check it, roll back.

Flex Consumption has no deployment slots, so there is no staging copy to swap: the previous package is
downloaded from the app's deployment container before the new one goes out, and when the live app then
fails its check, that package is deployed again. Steps:

keep the deployed package (newest zip in the deployment container) -> one deploy of the new package
(`az functionapp deployment source config-zip --build-remote true`, which targets the SCM site's
/api/publish on Flex Consumption with the caller's Entra ID token; basic publishing credentials are off)
-> check the price function until it answers (a known-good car 201, a bad one 422 naming the field)
-> on failure redeploy the kept package, check it again, and fail the step either way.

Azure calls go through the `az` CLI that AzureCLI@2 has already logged in; the check calls the function
with an Entra ID token for the API's audience (App Service Authentication admits nothing else).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from azure.core.credentials import TokenCredential
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from contract import FUNCTION_PRICE_ROUTE
from tools.deploy.app.rollout import AppRolloutFailed, AzCli, run_az
from tools.synth_output import SynthError, SynthStack, environment_stacks, load_stacks

ROOT = Path(__file__).resolve().parents[3]
SMOKE_ROWS = ROOT / "tools" / "deploy" / "ml" / "smoke_rows.json"
AUTH_SETTINGS = "authsettingsV2"


class FunctionsRolloutFailed(AppRolloutFailed):
    pass


class CheckFailed(Exception):
    """The live function app did not answer like a healthy pricing workflow."""


@dataclass(frozen=True)
class FunctionTarget:
    stack: str
    app: str
    resource_group: str
    storage_account: str  # holds the deployment container the Flex Consumption app runs its package from
    container: str
    audience: str  # App Service Authentication's allowed audience, e.g. api://<client id>

    def price_url(self) -> str:
        return f"https://{self.app}.azurewebsites.net/api/{FUNCTION_PRICE_ROUTE}"


def _output(stack: SynthStack, name: str) -> str:
    value = stack.resolve(stack.config.get("output", {}).get(name, {}).get("value"))
    if not isinstance(value, str):
        raise SynthError(f"{stack.name}: output {name} is missing or not a literal")
    return value


def discover(environment: str, outdir: Path) -> FunctionTarget:
    stacks = environment_stacks(load_stacks(outdir), environment)
    stack = stacks.get(f"{environment}-functions")
    if stack is None:
        raise SynthError(f"no {environment}-functions stack in the synth output (have: {sorted(stacks)})")
    containers = list(stack.resources().get("azurerm_storage_container", {}).values())
    if len(containers) != 1:
        raise SynthError(f"{stack.name}: expected one deployment container, found {len(containers)}")
    account = stack.referenced_name(containers[0].get("storage_account_id"))
    auth = [r for r in stack.resources().get("azapi_resource", {}).values() if r.get("name") == AUTH_SETTINGS]
    audiences = (auth[0]["body"]["properties"]["identityProviders"]["azureActiveDirectory"]["validation"]
                 ["allowedAudiences"]) if auth else []
    if not (account and audiences):
        raise SynthError(f"{stack.name}: deployment storage account or {AUTH_SETTINGS} audience not found")
    app, group = _output(stack, "function_app_name"), _output(stack, "function_app_resource_group")
    return FunctionTarget(stack.name, app, group, account, containers[0]["name"], audiences[0])


def keep_deployed_package(az: AzCli, target: FunctionTarget, into: Path) -> Path | None:
    """Download the package the app runs now (the newest zip in its deployment container); None on a first deploy."""
    where = ["--auth-mode", "login", "--account-name", target.storage_account, "--container-name", target.container]
    blobs = json.loads(az(["storage", "blob", "list", *where]) or "[]")
    packages = [b for b in blobs if str(b.get("name", "")).endswith(".zip")]
    if not packages:
        return None
    newest = max(packages, key=lambda b: b.get("properties", {}).get("lastModified", ""))
    az(["storage", "blob", "download", *where, "--name", newest["name"], "--file", str(into)])
    if not into.is_file():
        raise FunctionsRolloutFailed(f"downloading {newest['name']} from {target.container} left no {into}")
    print(f"[{target.stack}] kept the deployed package {newest['name']} for a rollback", flush=True)
    return into


def deploy(az: AzCli, target: FunctionTarget, package: Path) -> None:
    print(f"[{target.stack}] deploying {package.name} to {target.app} (one deploy, remote build)", flush=True)
    az(["functionapp", "deployment", "source", "config-zip", "--resource-group", target.resource_group,
        "--name", target.app, "--src", str(package), "--build-remote", "true"])


def _problem_fields(response: httpx.Response) -> set[str]:
    try:
        return {str(e.get("field")) for e in response.json().get("errors", [])}
    except (ValueError, AttributeError):
        return set()


def check_price(url: str, token: str, client: httpx.Client) -> None:
    """One round: a known-good car gets 201 with a finite, positive price; an unknown make gets 422 on `make`."""
    car = json.loads(SMOKE_ROWS.read_text(encoding="utf-8"))[0]
    headers = {"Authorization": f"Bearer {token}"}
    good = client.post(url, json=car, headers=headers)
    price: Any = good.json().get("price") if good.status_code == 201 else None
    if not (isinstance(price, (int, float)) and math.isfinite(price) and price > 0):
        raise CheckFailed(f"known-good car: HTTP {good.status_code}, price {price!r}")
    bad = client.post(url, json={**car, "make": "no-such-make"}, headers=headers)
    if bad.status_code != 422 or "make" not in _problem_fields(bad):
        raise CheckFailed(f"car with an unknown make: HTTP {bad.status_code}, fields {sorted(_problem_fields(bad))}")


def health_check(target: FunctionTarget, credential: TokenCredential, attempts: int = 30,
                 wait_seconds: float = 10.0, client: httpx.Client | None = None) -> None:
    """Poll check_price until it passes (a new package starts cold and may build remotely); bounded."""
    http = client or httpx.Client(timeout=60.0)
    retrying = Retrying(stop=stop_after_attempt(attempts), wait=wait_fixed(wait_seconds),
                        retry=retry_if_exception_type((CheckFailed, httpx.HTTPError)))
    try:
        for attempt in retrying:
            with attempt:
                check_price(target.price_url(), credential.get_token(f"{target.audience}/.default").token, http)
    except RetryError as exc:
        raise CheckFailed(f"{target.price_url()} after {attempts} attempts: {exc.last_attempt.exception()}") from exc
    print(f"[{target.stack}] {target.price_url()} prices a car (201) and rejects a bad one (422)", flush=True)


def rollout(target: FunctionTarget, package: Path, workdir: Path, az: AzCli = run_az,
            check: Callable[[], None] | None = None) -> None:
    if not package.is_file():
        raise FunctionsRolloutFailed(f"{package} not found: run `make package-functions` first")
    if check is None:
        from tools.deploy.credential import azure_credential

        credential = azure_credential()
        check = lambda: health_check(target, credential)  # noqa: E731
    previous = keep_deployed_package(az, target, workdir / "functions.previous.zip")
    deploy(az, target, package)
    try:
        check()
        return
    except CheckFailed as exc:
        failure = exc
    if previous is None:
        raise FunctionsRolloutFailed(f"{target.app} failed its check ({failure}); no earlier package in "
                                     f"{target.container} to redeploy (first deployment)")
    print(f"[{target.stack}] {target.app} failed its check; redeploying the previous package", flush=True)
    deploy(az, target, previous)
    try:
        check()
    except CheckFailed as again:
        raise FunctionsRolloutFailed(f"{target.app} failed its check ({failure}); the redeployed previous package "
                                     f"fails too ({again})") from again
    raise FunctionsRolloutFailed(f"{target.app} failed its check ({failure}); redeployed the previous package")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy the function app package, check it, roll back on failure.")
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    parser.add_argument("--package", type=Path, default=ROOT / "dist" / "functions.zip")
    args = parser.parse_args(argv)
    try:
        target = discover(args.env, args.outdir)
        with tempfile.TemporaryDirectory(prefix="functions-rollout-") as workdir:
            rollout(target, args.package, Path(workdir))
    except (AppRolloutFailed, SynthError) as exc:
        print(f"functions rollout failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
