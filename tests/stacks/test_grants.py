"""Interfaces are the only way to grant and to wait: every role assignment and every role-propagation wait of
the platform is declared by `stacks/modules/interfaces.py`, so each gets the same keyed, hardened shape."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from cdktn import App, TerraformStack, Testing
from cdktn_provider_azurerm.role_assignment import RoleAssignment as AzRoleAssignment
from cdktn_provider_time.sleep import Sleep
from constructs import Construct

from stacks.config import load_environments
from stacks.main import build_environment
from stacks.modules.interfaces import DECLARED, Grants, RoleAssignment
from stacks.modules.propagation import ROLE_PROPAGATION_WAIT

pytestmark = pytest.mark.xdist_group("stacks")

STACKS = Path(__file__).resolve().parents[2] / "stacks"
INTERFACES = STACKS / "modules" / "interfaces.py"
PROPAGATION = STACKS / "modules" / "propagation.py"


def declared_elsewhere(root: Construct) -> list[str]:
    """Paths of the role assignments and sleeps under `root` that the interfaces did not declare."""
    return [
        construct.node.path for construct in root.node.find_all()
        if isinstance(construct, AzRoleAssignment | Sleep)
        and construct not in DECLARED
    ]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> App:
    app = App(outdir=str(tmp_path_factory.mktemp("grants")), stack_traces=False)
    for config in load_environments():
        build_environment(app, config)
    return app


def test_every_role_assignment_and_wait_of_the_platform_is_declared_by_the_interfaces(platform):
    constructs = platform.node.find_all()
    grants = [c for c in constructs if isinstance(c, AzRoleAssignment)]
    waits = [c for c in constructs if isinstance(c, Sleep)]
    assert len(grants) > 50 and len(waits) > 5  # the walk reaches into every stack and module
    assert declared_elsewhere(platform) == []


def test_a_role_assignment_declared_beside_the_interfaces_is_found():
    stack = TerraformStack(Testing.app(), "beside")
    Grants(stack).one("Declared", "/subscriptions/s/resourceGroups/rg", RoleAssignment("p", "Reader"))
    AzRoleAssignment(stack, "Raw", scope="/subscriptions/s/resourceGroups/rg", role_definition_name="Reader",
                     principal_id="p")
    assert declared_elsewhere(stack) == ["beside/Raw"]


def test_a_grant_keeps_its_key_as_logical_id_and_its_wait_runs_again_when_it_is_replaced():
    stack = TerraformStack(Testing.app(), "keyed")
    grants = Grants(Construct(stack, "Module"))
    grants.on("/subscriptions/s/resourceGroups/rg", {
        "SubnetJoiner": RoleAssignment("p-cluster", "Network Contributor"),
        "ClusterAdmin-0a1b2c3d-0000-4000-8000-000000000001": RoleAssignment("g", "Reader", principal_type="Group"),
    })
    grants.propagated("SubnetJoinerPropagation")
    resources = json.loads(Testing.synth(stack))["resource"]
    assigned = resources["azurerm_role_assignment"]
    [joiner] = [key for key in assigned if key.startswith("Module_SubnetJoiner_")]
    assert any(key.startswith("Module_ClusterAdmin-0a1b2c3d") for key in assigned)
    assert assigned[joiner]["role_definition_name"] == "Network Contributor"
    [wait] = resources["time_sleep"].values()
    assert wait["create_duration"] == ROLE_PROPAGATION_WAIT
    assert f"azurerm_role_assignment.{joiner}" in wait["depends_on"]
    assert f"azurerm_role_assignment.{joiner}.id" in wait["triggers"]["role_assignments"]


def test_a_grant_key_that_is_not_a_construct_id_is_refused_with_the_key():
    with pytest.raises(ValueError, match="'lake reader'"):
        Grants(TerraformStack(Testing.app(), "bad")).one("lake reader", "/x", RoleAssignment("p", "Reader"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    names |= {f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              for alias in node.names}
    return names


def test_no_module_but_the_interfaces_can_declare_a_grant_or_a_wait():
    """Also the code paths the environment files do not take (e.g. named AKS admin groups)."""
    offenders = {
        str(path.relative_to(STACKS)): sorted(name for name in _imports(path) if name in {
            "cdktn_provider_azurerm.role_assignment", "stacks.modules.propagation.after_grants",
            "cdktn_provider_time.sleep",
        })
        for path in STACKS.rglob("*.py") if path not in (INTERFACES, PROPAGATION)
    }
    assert {path: names for path, names in offenders.items() if names} == {}
