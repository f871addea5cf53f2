"""`make bootstrap-state` and `make verify` through the real Azure SDK clients, with ARM faked at the
HTTP transport (tests/tools/deploy/fake_arm.py); the drift logic is also tested directly on the synth."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.config import ENVIRONMENTS_DIR, REQUIRED_TAGS, load_environment
from tests.tools.deploy.fake_arm import FakeArmTransport, FakeCredential
from tools.deploy.bootstrap_state import bootstrap
from tools.deploy.synth import environment_stacks, load_stacks
from tools.deploy.verify import RESOURCE_GROUP_TYPE, Resource, compare, expected_resources, render, verify

pytestmark = pytest.mark.xdist_group("deploy-synth")

PROD = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
GROUP = f"/subscriptions/{PROD.subscription_id}/resourceGroups/rg-carprice-tfstate-prod"
ACCOUNT = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/stcarpricetfprod"


def _empty_subscription() -> FakeArmTransport:
    fake = FakeArmTransport()
    fake.route("HEAD", GROUP, 404).route("PUT", GROUP, 201, {"id": GROUP, "name": "rg", "location": "westeurope"})
    fake.route("PUT", ACCOUNT, 200, {"id": ACCOUNT, "name": "stcarpricetfprod", "location": "westeurope",
                                     "properties": {"provisioningState": "Succeeded"}})
    fake.route("GET", f"{ACCOUNT}/blobServices/default", 200, {"properties": {}})
    fake.route("PUT", f"{ACCOUNT}/blobServices/default", 200, {"properties": {}})
    fake.route("PUT", f"{ACCOUNT}/blobServices/default/containers/tfstate", 201, {"name": "tfstate"})
    return fake


def _bootstrapped_subscription(**account_properties: object) -> FakeArmTransport:
    properties = {"allowSharedKeyAccess": False, "allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2",
                  "supportsHttpsTrafficOnly": True, **account_properties}
    fake = FakeArmTransport()
    fake.route("HEAD", GROUP, 204)
    fake.route("GET", ACCOUNT, 200, {"id": ACCOUNT, "name": "stcarpricetfprod", "properties": properties})
    fake.route("PATCH", ACCOUNT, 200, {"id": ACCOUNT, "name": "stcarpricetfprod", "properties": properties})
    fake.route("GET", f"{ACCOUNT}/blobServices/default", 200, {
        "properties": {"isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 30}}})
    fake.route("GET", f"{ACCOUNT}/blobServices/default/containers/tfstate", 200, {"name": "tfstate"})
    return fake


def test_bootstrap_state_with_fake_arm_transport_creates_group_keyless_account_and_container() -> None:
    fake = _empty_subscription()
    bootstrap(PROD, FakeCredential(), transport=fake)
    writes = {(w.method, w.path.lower()): w.body for w in fake.writes()}
    assert writes[("PUT", GROUP.lower())]["location"] == "westeurope"
    account = writes[("PUT", ACCOUNT.lower())]
    assert account["properties"]["allowSharedKeyAccess"] is False
    assert account["properties"]["allowBlobPublicAccess"] is False
    assert account["properties"]["minimumTlsVersion"] == "TLS1_2"
    assert set(REQUIRED_TAGS) <= set(account["tags"])
    blob_service = writes[("PUT", f"{ACCOUNT}/blobServices/default".lower())]["properties"]
    assert blob_service["isVersioningEnabled"] is True
    assert ("PUT", f"{ACCOUNT}/blobServices/default/containers/tfstate".lower()) in writes


def test_bootstrap_state_with_fake_arm_transport_is_idempotent() -> None:
    fake = _bootstrapped_subscription()
    report = bootstrap(PROD, FakeCredential(), transport=fake)
    assert fake.writes() == []
    assert any("exists" in action for action in report.actions)


def test_bootstrap_state_with_fake_arm_transport_turns_shared_keys_back_off() -> None:
    fake = _bootstrapped_subscription(allowSharedKeyAccess=True)
    bootstrap(PROD, FakeCredential(), transport=fake)
    [patch] = fake.writes()
    assert patch.method == "PATCH" and patch.body == {"properties": {"allowSharedKeyAccess": False}}


def test_bootstrap_state_for_a_local_backend_calls_nothing() -> None:
    fake = FakeArmTransport()
    local = load_environment(ENVIRONMENTS_DIR / "dev.yaml").with_local_state()
    report = bootstrap(local, FakeCredential(), transport=fake)
    assert fake.requests == [] and "nothing to create" in report.actions[0]


def _as_deployed(expected: list[Resource]) -> list[Resource]:
    tags = {tag: "x" for tag in REQUIRED_TAGS}
    return [Resource(r.arm_type, r.name, r.resource_group, {**tags, **(r.tags or {})}) for r in expected]


def test_synthesized_prod_matches_itself_and_sees_web_apps_and_slots(synth_out: Path) -> None:
    expected, unchecked = expected_resources(environment_stacks(load_stacks(synth_out), "prod"))
    types = {r.arm_type for r in expected}
    assert {"Microsoft.Web/sites", "Microsoft.Web/sites/slots", RESOURCE_GROUP_TYPE} <= types
    assert any(r.name.endswith("/staging") for r in expected if r.arm_type == "Microsoft.Web/sites/slots")
    assert all(not u.endswith("not a literal)") for u in unchecked)
    drift = compare(expected, _as_deployed(expected))
    assert not drift.drifted and drift.matched == len(expected)


def test_drift_lists_missing_unexpected_and_tag_problems_but_not_azure_created(synth_out: Path) -> None:
    expected, _ = expected_resources(environment_stacks(load_stacks(synth_out), "prod"))
    deployed = _as_deployed(expected)
    gone = next(r for r in deployed if r.arm_type == "Microsoft.KeyVault/vaults")
    untagged = next(r for r in deployed if r.arm_type == "Microsoft.Storage/storageAccounts")
    deployed = [r for r in deployed if r not in (gone, untagged)]
    deployed.append(Resource(untagged.arm_type, untagged.name, untagged.resource_group, {"owner": "x"}))
    deployed.append(Resource("Microsoft.Compute/virtualMachines", "vm-handmade", "rg-carprice-prod", {}))
    deployed.append(Resource("Microsoft.Network/networkInterfaces", "pe-x.nic.1234", "rg-carprice-prod", {}))
    drift = compare(expected, deployed)
    assert [r.name for r in drift.missing] == [gone.name]
    assert [r.name for r in drift.unexpected] == ["vm-handmade"]
    assert [r.name for r in drift.azure_created] == ["pe-x.nic.1234"]
    assert any(untagged.name in p and "'environment'" in p for p in drift.tag_problems)
    text = render("prod", drift)
    assert "- declared but missing in Azure (1)" in text and "vm-handmade" in text
    assert text.endswith("DRIFT: the environment does not match the stacks")


def test_verify_with_fake_arm_transport_reports_a_missing_resource(synth_out: Path) -> None:
    expected, _ = expected_resources(environment_stacks(load_stacks(synth_out), "prod"))
    deployed = _as_deployed(expected)
    groups = [r for r in deployed if r.arm_type == RESOURCE_GROUP_TYPE]  # the environment's, and regional DNS
    listed = [r for r in deployed if r.arm_type != RESOURCE_GROUP_TYPE]
    missing = listed.pop()
    fake = FakeArmTransport()
    for group in groups:
        base = f"/subscriptions/{PROD.subscription_id}/resourcegroups/{group.name}"
        fake.route("GET", base, 200, {"id": base, "name": group.name, "location": "westeurope", "tags": group.tags})
        fake.route("GET", f"{base}/resources", 200, {"value": [
            {"id": f"{base}/providers/{r.arm_type}/{r.name}", "name": r.name, "type": r.arm_type, "tags": r.tags}
            for r in listed if r.resource_group == group.name
        ]})
    drift = verify("prod", synth_out, PROD.subscription_id, FakeCredential(), transport=fake)
    assert [r.name for r in drift.missing] == [missing.name]
    assert drift.unexpected == [] and drift.tag_problems == [] and drift.drifted
    assert {r.method for r in fake.requests} == {"GET"}
