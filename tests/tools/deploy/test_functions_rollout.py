"""Function app rollout: one deploy, check, redeploy of the kept package (fake `az` CLI at the process boundary,
the function app's HTTP side via httpx.MockTransport, a fake Entra ID credential)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.tools.deploy.fake_arm import FakeCredential
from tools.deploy.app.functions_rollout import (
    CheckFailed,
    FunctionsRolloutFailed,
    FunctionTarget,
    discover,
    health_check,
    rollout,
)

pytestmark = pytest.mark.xdist_group("deploy-synth")


class FakeAzCli:
    """Records `az` calls; the deployment container holds `blobs`, a download writes the blob's bytes."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.calls: list[list[str]] = []
        self.blobs = blobs

    def __call__(self, args: list[str]) -> str:
        self.calls.append(args)
        if args[:3] == ["storage", "blob", "list"]:
            return json.dumps([{"name": name, "properties": {"lastModified": f"2026-11-0{i + 1}T10:00:00+00:00"}}
                               for i, name in enumerate(self.blobs)])
        if args[:3] == ["storage", "blob", "download"]:
            Path(args[args.index("--file") + 1]).write_bytes(self.blobs[args[args.index("--name") + 1]])
        return "{}"

    def deployed(self) -> list[bytes]:
        deploys = [c for c in self.calls if c[:2] == ["functionapp", "deployment"]]
        return [Path(c[c.index("--src") + 1]).read_bytes() for c in deploys]


def fake_function_app(healthy: Callable[[], bool]) -> httpx.Client:
    """Answers like functions/handlers.price when `healthy()`, else like a host that failed to start."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer fake-token":
            return httpx.Response(401)
        if not healthy():
            return httpx.Response(503, text="Function host is not running.")
        car = json.loads(request.content)
        if car["make"] == "no-such-make":
            return httpx.Response(422, json={"detail": "invalid", "errors": [{"field": "make", "reason": "unknown"}]})
        return httpx.Response(201, json={"price": 9100.0, "features": car})

    return httpx.Client(transport=httpx.MockTransport(answer))


@pytest.fixture()
def target() -> FunctionTarget:
    return FunctionTarget("dev-functions", "func-carprice-dev-1", "rg-carprice-dev", "stfunc", "app-package",
                          "api://5d1c0f7e")


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    path = tmp_path / "functions.zip"
    path.write_bytes(b"PK new")
    return path


def test_function_app_targets_come_from_the_synth(synth_out: Path) -> None:
    for environment in ("dev", "prod"):
        target = discover(environment, synth_out)
        assert target.stack == f"{environment}-functions" and target.app.startswith(f"func-carprice-{environment}-")
        assert target.resource_group == f"rg-carprice-{environment}"
        assert target.storage_account.startswith(f"stcarprice{environment}func") and target.container == "app-package"
        assert target.audience.startswith("api://")
        assert target.price_url() == f"https://{target.app}.azurewebsites.net/api/price"


def test_healthy_deploy_keeps_the_deployed_package_and_ships_the_new_one(target, package, tmp_path) -> None:
    az = FakeAzCli({"released-package.zip": b"PK old"})
    client = fake_function_app(lambda: True)
    rollout(target, package, tmp_path, az=az,
            check=lambda: health_check(target, FakeCredential(), attempts=2, wait_seconds=0, client=client))
    assert [c[:3] for c in az.calls] == [["storage", "blob", "list"], ["storage", "blob", "download"],
                                         ["functionapp", "deployment", "source"]]
    deploy = az.calls[-1]
    assert deploy[deploy.index("--name") + 1] == target.app and deploy[deploy.index("--build-remote") + 1] == "true"
    assert az.deployed() == [b"PK new"]


def test_failed_check_redeploys_the_previous_package(target, package, tmp_path) -> None:
    az = FakeAzCli({"old.zip": b"PK older", "released-package.zip": b"PK old"})
    client = fake_function_app(lambda: az.deployed()[-1] == b"PK old")  # the new package never starts
    with pytest.raises(FunctionsRolloutFailed, match="HTTP 503.*redeployed the previous package$"):
        rollout(target, package, tmp_path, az=az,
                check=lambda: health_check(target, FakeCredential(), attempts=3, wait_seconds=0, client=client))
    assert az.deployed() == [b"PK new", b"PK old"]  # the newest kept blob went back


def test_first_deploy_that_fails_its_check_says_there_is_nothing_to_roll_back_to(target, package, tmp_path) -> None:
    az = FakeAzCli({})

    def broken() -> None:
        raise CheckFailed("known-good car: HTTP 500")

    with pytest.raises(FunctionsRolloutFailed, match="no earlier package in app-package"):
        rollout(target, package, tmp_path, az=az, check=broken)
    assert az.deployed() == [b"PK new"]


def test_a_missing_package_fails_before_anything_is_deployed(target, tmp_path) -> None:
    az = FakeAzCli({})
    with pytest.raises(FunctionsRolloutFailed, match="make package-functions"):
        rollout(target, tmp_path / "functions.zip", tmp_path, az=az, check=lambda: None)
    assert az.calls == []


def test_health_check_retries_a_cold_start_and_requires_the_422(target) -> None:
    answers = iter([False, False, True, True])
    health_check(target, FakeCredential(), attempts=3, wait_seconds=0, client=fake_function_app(lambda: next(answers)))

    def accepts_anything(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"price": 9100.0})

    lax = httpx.Client(transport=httpx.MockTransport(accepts_anything))
    with pytest.raises(CheckFailed, match="after 2 attempts: car with an unknown make: HTTP 201"):
        health_check(target, FakeCredential(), attempts=2, wait_seconds=0, client=lax)
