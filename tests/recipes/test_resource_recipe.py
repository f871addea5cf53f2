"""docs/extending.md, "A resource with secure defaults", followed in a temporary copy of the repository: an Azure
App Configuration store added through the recipe's steps (naming rule, one construct with its placement's tags
and the standard interfaces, its private DNS zone, composed in the data stack, its Resource Manager type, its
picture kind) synthesizes with the hardened settings, its private endpoint registered in a zone the foundation
creates and links, diagnostics and a grant through the interfaces, and `make validate` names the one type its rules
table still lacks. One environment, one synth, in a child process of the copy: the working tree is never touched."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("recipes")

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("stacks", "contract", "tools", "runtime", "ml", "policies", "cdktf.json", "pyproject.toml", "constraints.txt")

MODULE = '''"""Azure App Configuration: the platform's feature flags and settings, read with Entra ID only."""

from __future__ import annotations

from cdktn_provider_azurerm.app_configuration import AppConfiguration, AppConfigurationIdentity
from constructs import Construct

from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces


class SettingsStore(Construct):
    def __init__(self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
                 identity: ManagedIdentity) -> None:
        super().__init__(scope, id_)
        self.store = AppConfiguration(
            self, "Store", name=name, location=placement.location,
            resource_group_name=placement.resource_group_name, tags=placement.tags, sku="standard",
            local_auth_enabled=False,  # access keys off: Entra ID and RBAC only
            public_network_access="Enabled" if interfaces.network_access.public else "Disabled",
            purge_protection_enabled=True,
            identity=AppConfigurationIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
        )
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.store.id, resource_name=name,
            private_endpoint_subresources=["configurationStores"], stateful=True,
        )
'''

COMPOSE = '''
        # docs/extending.md recipe: the settings store, read by the app identity through the interfaces.
        self.settings_store = SettingsStore(
            self, "SettingsStore", placement=self.placement(),
            interfaces=foundation.interfaces(role_assignments={
                "AppConfigurationReader": RoleAssignment(
                    foundation.identities["app"].principal_id, "App Configuration Data Reader"),
            }),
            name=self.namer.name("app_configuration"),
            identity=foundation.identities["app"],
        )
'''

SYNTH = '''
import json, sys
from pathlib import Path
from stacks.config import load_environments
from stacks.main import synthesize
from tools.checks.provider_rules.check import check_outdir, load_table
outdir = Path("cdktf.out")
synthesize(load_environments(["dev"]), outdir, progress=False)
outcome = check_outdir(outdir, load_table())
print(json.dumps({"checked": outcome.resources_checked, "violations": [str(v) for v in outcome.violations],
                  "uncovered": [str(u) for u in outcome.uncovered]}))
'''


def _insert_after(path: Path, anchor: str, text: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert source.count(anchor) == 1, f"{path}: the recipe's anchor {anchor!r} moved"
    path.write_text(source.replace(anchor, anchor + text), encoding="utf-8")


def _append_to_init(path: Path, class_name: str, text: str) -> None:
    """Add statements at the end of `class_name.__init__` (found with ast, so the stack's shape may change)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    [init] = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    lines = source.splitlines(keepends=True)
    assert init.end_lineno is not None
    lines.insert(init.end_lineno, text)
    path.write_text("".join(lines), encoding="utf-8")


def _follow_the_recipe(repo: Path) -> None:
    # 1. a naming rule (App Configuration: 5-50 letters, digits and hyphens, a global DNS name)
    _insert_after(repo / "stacks/naming.py", "RULES: dict[str, Rule] = {\n",
                  '    "app_configuration": Rule("appcs", 5, 50, r"[a-zA-Z0-9-]+", globally_unique=True),\n')
    # 2. one construct that hands its interfaces to StandardInterfaces
    (repo / "stacks/modules/settings_store.py").write_text(MODULE, encoding="utf-8")
    # 3. its private endpoint's sub-resource and zone
    _insert_after(repo / "stacks/modules/interfaces.py", "PRIVATE_DNS_ZONES: dict[str, tuple[str, ...]] = {\n",
                  '    "configurationStores": ("privatelink.azconfig.io",),\n')
    # 4. composed in the stack it deploys with, the grant made through the interfaces
    data = repo / "stacks/data.py"
    _append_to_init(data, "DataStack", COMPOSE)
    _insert_after(data, "from __future__ import annotations\n",
                  "\nfrom stacks.modules.interfaces import RoleAssignment\n"
                  "from stacks.modules.settings_store import SettingsStore\n")
    # 5. its Resource Manager type, for `make verify`
    _insert_after(repo / "tools/deploy/infra/arm_types.py", "ARM_TYPES: dict[str, ArmType] = {\n",
                  '    "azurerm_app_configuration": ArmType("Microsoft.AppConfiguration/configurationStores"),\n')
    # 6. its picture kind
    _insert_after(repo / "tools/local/diagram/catalog.py", "\nKINDS: dict[str, Kind] = {\n",
                  '    "azurerm_app_configuration": Kind("App Configuration", general.Resource),\n')


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    repo = tmp_path_factory.mktemp("repo")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.png", "*.svg"))
        else:
            shutil.copy(source, repo / name)
    _follow_the_recipe(repo)
    env = {**os.environ, "PYTHONPATH": str(repo), "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run([sys.executable, "-c", SYNTH], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return repo, json.loads(done.stdout.strip().splitlines()[-1])


def _resources(repo: Path, stack: str, tf_type: str) -> dict[str, dict[str, Any]]:
    config = json.loads((repo / "cdktf.out" / "stacks" / stack / "cdk.tf.json").read_text(encoding="utf-8"))
    return config["resource"].get(tf_type, {})


def test_the_new_resource_synthesizes_with_its_hardened_settings(recipe: tuple[Path, dict[str, Any]]) -> None:
    repo, _ = recipe
    [store] = _resources(repo, "dev-data", "azurerm_app_configuration").values()
    assert store["name"].startswith("appcs-carprice-dev-") and store["local_auth_enabled"] is False
    assert store["public_network_access"] == "Enabled"  # dev is public to its ranges; private environments close it
    assert store["identity"]["type"] == "UserAssigned" and store["purge_protection_enabled"] is True
    assert store["tags"]["environment"] == "dev" and store["tags"]["managed-by"] == "cdktn"  # the placement's tags


def test_its_endpoint_diagnostics_and_grant_come_through_the_interfaces(recipe: tuple[Path, dict[str, Any]]) -> None:
    repo, _ = recipe
    endpoints = [e for e in _resources(repo, "dev-data", "azurerm_private_endpoint").values()
                 if e["private_service_connection"]["subresource_names"] == ["configurationStores"]]
    assert len(endpoints) == 1 and endpoints[0]["name"].startswith("pe-appcs-carprice-dev-")
    zones = {z["name"] for z in _resources(repo, "dev-foundation", "azurerm_private_dns_zone").values()}
    assert "privatelink.azconfig.io" in zones  # the foundation creates (and links) every zone listed
    diagnostics = [d for d in _resources(repo, "dev-data", "azurerm_monitor_diagnostic_setting").values()
                   if "azurerm_app_configuration." in d["target_resource_id"]]
    assert len(diagnostics) == 1
    grants = {g["role_definition_name"] for g in _resources(repo, "dev-data", "azurerm_role_assignment").values()}
    assert "App Configuration Data Reader" in grants


def test_make_validate_names_the_new_type_until_the_rules_table_is_rebuilt(recipe: tuple[Path, dict[str, Any]]) -> None:
    """Step 7: the committed table holds the types the stacks use, so the new type is reported (with the command
    that adds it, `make provider-rules` over the provider mirror) and everything else still passes."""
    _, outcome = recipe
    assert outcome["checked"] > 100
    assert outcome["violations"] == [] and outcome["uncovered"] == ["azurerm_app_configuration"]
