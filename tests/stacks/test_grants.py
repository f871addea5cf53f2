"""Interfaces are the only way to grant and to wait: every role assignment and every role-propagation wait of
the platform is declared by `stacks/modules/interfaces.py`, so each gets the same keyed, hardened shape."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from cdktn import App, TerraformStack, Testing
from cdktn_provider_azurerm.role_assignment import RoleAssignment as AzRoleAssignment
from cdktn_provider_time.sleep import Sleep
from constructs import Construct

from stacks.config import load_environments
from stacks.main import build_environment
from stacks.modules.interfaces import DECLARED_BY, Grants, RoleAssignment

pytestmark = pytest.mark.xdist_group("stacks")

STACKS = Path(__file__).resolve().parents[2] / "stacks"
INTERFACES = STACKS / "modules" / "interfaces.py"
PROPAGATION = STACKS / "modules" / "propagation.py"


def declared_elsewhere(root: Construct) -> list[str]:
    """Paths of the role assignments and sleeps under `root` that the interfaces did not declare."""
    return [
        construct.node.path for construct in root.node.find_all()
        if isinstance(construct, AzRoleAssignment | Sleep)
        and not any(entry.type == DECLARED_BY for entry in construct.node.metadata)
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
