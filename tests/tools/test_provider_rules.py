"""Plan-time validation from the azurerm provider's own code: the committed rules table and `make validate`.

The table (tools/checks/provider_rules/azurerm-4.81.0.json) is extracted from the provider source at tag v4.81.0;
these tests check every literal of today's synth against it, and check the checker on small hand-made stacks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SynthOutput
from tools.checks.provider_rules import DEFAULT_TABLE, KNOWN_VIOLATIONS
from tools.checks.provider_rules.bindings import differences
from tools.checks.provider_rules.check import (
    Violation,
    check_outdir,
    check_resource,
    load_known,
    load_table,
    main,
    report,
)
from tools.checks.provider_rules.extract import render
from tools.checks.scan.sources import build_source_map, file_for

pytestmark = pytest.mark.xdist_group("stacks")

TABLE = load_table()


def write_stack(outdir: Path, stack: str, resources: dict[str, dict[str, dict[str, Any]]]) -> Path:
    """A cdk.tf.json with the construct-path metadata cdktn writes; returns the cdktf.out folder."""
    for tf_type, blocks in resources.items():
        for unique_id, body in blocks.items():
            body.setdefault("//", {"metadata": {"path": f"{stack}/{tf_type}/{unique_id}", "uniqueId": unique_id}})
    folder = outdir / "stacks" / stack
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cdk.tf.json").write_text(json.dumps({"resource": resources}), encoding="utf-8")
    return outdir


def violations_of(tmp_path: Path, tf_type: str, body: dict[str, Any]) -> list[Violation]:
    outdir = write_stack(tmp_path / "cdktf.out", "dev-test", {tf_type: {"It": body}})
    return check_outdir(outdir, TABLE).violations


@pytest.fixture(scope="module")
def construct_files() -> dict[str, str]:
    return build_source_map()


# ---- today's synth --------------------------------------------------------------------------------------------

def test_synthesized_stacks_obey_the_providers_plan_time_rules(
    synth: SynthOutput, construct_files: dict[str, str]
) -> None:
    outcome = check_outdir(synth.root, TABLE)
    problems, known = report(outcome, load_known(), lambda path: file_for(construct_files, path))
    for line in known:
        print(line)  # known violations: tools/checks/provider_rules/known-violations.txt until their fix lands
    assert outcome.resources_checked > 100
    assert not problems, "\n".join(problems)


def test_a_violation_names_the_stack_construct_path_and_python_file(
    synth: SynthOutput, construct_files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(synth.root / "stacks" / "dev-foundation", outdir / "stacks" / "dev-foundation")
    stack_file = outdir / "stacks" / "dev-foundation" / "cdk.tf.json"
    document = json.loads(stack_file.read_text())
    (vault_id, vault), = document["resource"]["azurerm_key_vault"].items()
    vault["sku_name"] = "Premium"  # the provider accepts only lower case here
    stack_file.write_text(json.dumps(document))
    (outdir / "construct-sources.json").write_text(json.dumps(construct_files))  # the map `make validate` caches
    empty_allow_list = tmp_path / "known.txt"
    empty_allow_list.write_text("")

    assert main(["--outdir", str(outdir), "--no-synth", "--known", str(empty_allow_list)]) == 1

    err = capsys.readouterr().err
    assert f"dev-foundation: azurerm_key_vault.{vault_id}" in err
    assert f"construct {vault['//']['metadata']['path']} (stacks/modules/key_vault.py)" in err
    assert 'sku_name = "Premium": must be one of premium, standard (case-sensitive)' in err


# ---- the committed table --------------------------------------------------------------------------------------

def test_table_holds_the_ml_workspace_storage_access_rule() -> None:
    rules = TABLE["resources"]["azurerm_machine_learning_workspace"]["rules"]
    (rule,) = [r for r in rules if r["path"] == "storage_account_access_type" and r["kind"] == "string_in_slice"]
    assert rule["values"] == ["AccessKey", "Identity"]
    assert rule["ignore_case"] is False
    assert rule["source"].startswith("internal/services/machinelearning/machine_learning_workspace_resource.go:")


def test_table_resolves_sdk_enums_and_nested_blocks() -> None:
    workspace = {r["path"]: r for r in TABLE["resources"]["azurerm_machine_learning_workspace"]["rules"]}
    assert workspace["managed_network.isolation_mode"]["values"] == [  # workspaces.PossibleValuesForIsolationMode()
        "AllowInternetOutbound", "AllowOnlyApprovedOutbound", "Disabled"]
    vault = {(r["path"], r["kind"]): r for r in TABLE["resources"]["azurerm_key_vault"]["rules"]}
    assert (vault[("soft_delete_retention_days", "int_between")]["min"],
            vault[("soft_delete_retention_days", "int_between")]["max"]) == (7, 90)


def test_table_knows_every_argument_the_pinned_bindings_accept(synth: SynthOutput) -> None:
    """The bindings come from the provider's schema dump: a second reading of the same provider version."""
    used = sorted({t for stack in synth.stack_names() for t in synth.stack(stack).get("resource", {})
                   if t in TABLE["resources"]})
    assert "azurerm_storage_account" in used
    assert differences(TABLE, used) == {}, "the extractor missed schema code: fix it, then `make provider-rules`"


def test_committed_table_is_in_its_sorted_stable_form() -> None:
    assert DEFAULT_TABLE.read_text(encoding="utf-8") == render(TABLE), "regenerate with `make provider-rules`"


# ---- the checker on hand-made stacks --------------------------------------------------------------------------

def test_enum_values_are_case_sensitive_unless_the_provider_ignores_case(tmp_path: Path) -> None:
    (bad,) = violations_of(tmp_path, "azurerm_machine_learning_workspace", {"storage_account_access_type": "identity"})
    assert (bad.argument, bad.kind, bad.value) == ("storage_account_access_type", "string_in_slice", "identity")
    assert "AccessKey, Identity (case-sensitive)" in bad.message
    good = {"storage_account_access_type": "Identity"}
    assert violations_of(tmp_path, "azurerm_machine_learning_workspace", good) == []
    pool = {"name": "system", "upgrade_settings": {"max_surge": "10%", "undrainable_node_behavior": "cordon"}}
    cluster = {"default_node_pool": pool, "dns_prefix": "x", "identity": {"type": "SystemAssigned"}}
    assert violations_of(tmp_path, "azurerm_kubernetes_cluster", cluster) == []


def test_conflicting_arguments_are_reported(tmp_path: Path) -> None:
    vault = {"enable_rbac_authorization": True, "rbac_authorization_enabled": True, "sku_name": "standard"}
    found = violations_of(tmp_path, "azurerm_key_vault", vault)
    assert {(v.argument, v.kind) for v in found} == {
        ("enable_rbac_authorization", "conflicts_with"), ("rbac_authorization_enabled", "conflicts_with")}
    vault["enable_rbac_authorization"] = "${var.legacy}"  # unknown until apply: the SDK defers the check
    assert violations_of(tmp_path, "azurerm_key_vault", vault) == []


def test_integers_out_of_range_are_reported(tmp_path: Path) -> None:
    (bad,) = violations_of(tmp_path, "azurerm_key_vault", {"sku_name": "standard", "soft_delete_retention_days": 120})
    assert (bad.argument, bad.value) == ("soft_delete_retention_days", 120)
    assert bad.message == "must be an integer in [7, 90]"


def test_nested_blocks_and_lists_of_blocks_are_checked(tmp_path: Path) -> None:
    account = {
        "network_rules": {"default_action": "deny", "bypass": ["AzureServices", "Everything"]},
        "blob_properties": {"delete_retention_policy": {"days": 400}},
    }
    found = {(v.argument, v.value) for v in violations_of(tmp_path, "azurerm_storage_account", account)}
    assert found == {("network_rules.default_action", "deny"), ("network_rules.bypass", "Everything"),
                     ("blob_properties.delete_retention_policy.days", 400)}
    rule = {"access": "Allow", "direction": "Sideways", "name": "x", "priority": 100, "protocol": "Tcp"}
    nsg = {"security_rule": [{**rule, "direction": "Inbound"}, rule]}
    (bad,) = violations_of(tmp_path, "azurerm_network_security_group", nsg)
    assert (bad.argument, bad.value) == ("security_rule[1].direction", "Sideways")


def test_exactly_one_of_and_required_with(tmp_path: Path) -> None:
    cluster = {"dns_prefix": "a", "dns_prefix_private_cluster": "b", "default_node_pool": {"name": "system"},
               "identity": {"type": "SystemAssigned"}}
    (both,) = violations_of(tmp_path, "azurerm_kubernetes_cluster", cluster)
    assert both.kind == "exactly_one_of" and "found dns_prefix, dns_prefix_private_cluster" in both.message
    del cluster["dns_prefix"], cluster["dns_prefix_private_cluster"]
    (neither,) = violations_of(tmp_path, "azurerm_kubernetes_cluster", cluster)
    assert neither.message == "exactly one of dns_prefix, dns_prefix_private_cluster must be set"
    workspace = {"service_side_encryption_enabled": True}
    (missing,) = violations_of(tmp_path, "azurerm_machine_learning_workspace", workspace)
    assert (missing.kind, missing.message) == ("required_with", "requires encryption to be set too")


def test_terraform_references_are_skipped(tmp_path: Path) -> None:
    workspace = {"storage_account_access_type": "${var.mode}", "kind": "prefix-${var.kind}"}
    assert violations_of(tmp_path, "azurerm_machine_learning_workspace", workspace) == []


def test_allow_list_accepts_listed_violations_and_rejects_stale_lines(tmp_path: Path) -> None:
    outdir = write_stack(tmp_path / "cdktf.out", "dev-ml", {
        "azurerm_machine_learning_workspace": {"W": {"storage_account_access_type": "identity"}}})
    outcome = check_outdir(outdir, TABLE)
    listed = "dev-ml azurerm_machine_learning_workspace.W storage_account_access_type string_in_slice"
    problems, known = report(outcome, {listed})
    assert problems == [] and len(known) == 1
    problems, _ = report(outcome, {listed, "prod-ml azurerm_x.Y name string_in_slice"})
    assert problems == ["known-violations.txt lists `prod-ml azurerm_x.Y name string_in_slice`, "
                        "which no longer occurs: remove the line"]


def test_resource_types_missing_from_the_table_fail_the_check(tmp_path: Path) -> None:
    outdir = write_stack(tmp_path / "cdktf.out", "dev-x", {"azurerm_brand_new_thing": {"A": {"name": "a"}}})
    problems, _ = report(check_outdir(outdir, TABLE), set())
    assert problems == ["azurerm_brand_new_thing is not in the rules table: run `make provider-rules`"]


def test_allow_list_file_parses() -> None:
    for key in load_known(KNOWN_VIOLATIONS):
        stack, address, argument, kind = key.split(" ")
        assert address.split(".")[0] in TABLE["resources"] and kind and argument and stack


@pytest.mark.parametrize(("rule", "good", "bad"), [
    ({"kind": "float_between", "min": 0.5, "max": 1.0}, 0.75, 1.5),
    ({"kind": "int_in_slice", "values": [1, 3]}, 3, 2),
    ({"kind": "string_len_between", "min": 3, "max": 5}, "abcd", "ab"),
    ({"kind": "string_match", "pattern": "^[a-z]+$"}, "abc", "ABC"),
    ({"kind": "string_not_empty"}, "x", ""),
    ({"kind": "string_in_slice", "values": ["Basic"], "ignore_case": True}, "BASIC", "Gold"),
    ({"kind": "any_of", "alternatives": [[{"kind": "string_match", "pattern": "^/sub"}],
                                         [{"kind": "string_in_slice", "values": ["/"], "ignore_case": False}]]},
     "/", "rg"),
])
def test_each_value_rule_kind_accepts_good_and_rejects_bad_values(rule: dict[str, Any], good: Any, bad: Any) -> None:
    rules = [{**rule, "path": "block.setting", "source": "x.go:1"}]
    assert check_resource("s", "azurerm_t", "i", {"block": [{"setting": good}]}, rules) == []
    (found,) = check_resource("s", "azurerm_t", "i", {"block": [{"setting": good}, {"setting": bad}]}, rules)
    assert (found.argument, found.value) == ("block[1].setting", bad)


def test_element_rules_apply_to_each_list_item_and_map_value() -> None:
    rules = [{"kind": "string_not_empty", "path": "labels", "element": True, "source": "x.go:1"}]
    assert [v.value for v in check_resource("s", "azurerm_t", "i", {"labels": {"a": "x", "b": ""}}, rules)] == [""]
    assert [v.value for v in check_resource("s", "azurerm_t", "i", {"labels": ["", "y"]}, rules)] == [""]
