"""The app pipeline ships the function app too: packaged once with the app (same registered model), deployed
after the web app's rollout in each environment. Each deploy pipeline is triggered by every file its packages ship
and its tools import."""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path

import pytest

from stacks.config import environment_names
from tools.checks.pipelines import check, expand
from tools.deploy.app.package import build_package as app_package
from tools.deploy.functions.package import build_package as functions_package
from tools.deploy.packaging import MODEL_FILES, PACKAGE_MODEL_DIR

ROOT = Path(__file__).resolve().parents[2]
APP = expand.expand(ROOT / "pipelines" / "app.yml")
FIRST_PARTY = ("app", "contract", "functions", "ml", "runtime", "stacks", "tools")


def _steps(job: expand.Job) -> list[str]:
    """Each step as one line: its make command, or `publish <artifact>` / `download <artifact>`."""
    env = job.variables["environmentName"]
    lines = []
    for step in job.steps:
        command = step.get("script") or step.get("inputs", {}).get("arguments", "")
        if "publish" in step or "download" in step:
            command = f"{'publish' if 'publish' in step else 'download'} {step['artifact']}"
        lines.append(command.replace("$(environmentName)", env))
    return lines


def _index(lines: list[str], prefix: str) -> int:
    return next(i for i, line in enumerate(lines) if re.search(rf"(^|\s){re.escape(prefix)}", line))


@pytest.mark.parametrize("env", environment_names())
def test_functions_are_packaged_with_the_app_then_rolled_out_after_the_web_app(env: str) -> None:
    stage = next(s for s in APP.stages if s.name == f"app_{env}")
    jobs = {job.name: job for job in stage.jobs}
    package = _steps(jobs["package"])
    assert (_index(package, f"make app-model ENV={env}") < _index(package, "make package-app")
            < _index(package, "make package-functions") < _index(package, f"publish functions-package-{env}"))
    deploy = jobs["deploy_app"]
    assert deploy.kind == "deployment" and deploy.definition["dependsOn"] == "package"
    steps = _steps(deploy)
    app_rollout = _index(steps, f"make app-rollout ENV={env}")
    functions_rollout = _index(steps, f"make functions-rollout ENV={env}")
    assert app_rollout < _index(steps, f"download functions-package-{env}") < functions_rollout
    assert (f"FUNCTIONS_PACKAGE=$(Pipeline.Workspace)/functions-package-{env}/functions.zip"
            in steps[functions_rollout])


def _imported_files(source: Path) -> set[Path]:
    """First-party files a module imports, at load time or inside a function (a make target runs either)."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        for name in names:
            if name.split(".")[0] in FIRST_PARTY:
                module = ROOT / name.replace(".", "/")
                found |= {p for p in (module.with_suffix(".py"), module / "__init__.py") if p.is_file()}
    return found


def _uncovered(pipeline: str, files: set[Path]) -> list[str]:
    """The files a push to which starts neither `pipeline` nor the infrastructure pipeline its runs chain from."""
    paths = check.load(check.PIPELINES / f"{pipeline}.yml")["trigger"]["paths"]["include"]
    # Build files and the stacks start the infrastructure pipeline, whose runs chain to ML and then the app.
    upstream = check.load(check.PIPELINES / "infrastructure.yml")["trigger"]["paths"]["include"]
    covered = [ROOT / p for p in [*paths, *upstream]]
    return sorted(str(f.relative_to(ROOT)) for f in files if not any(f == c or c in f.parents for c in covered))


def test_the_trigger_paths_cover_every_file_the_two_packages_ship(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for name in MODEL_FILES:
        (model / name).write_text("{}")
    shipped: set[Path] = set()
    for build, host_folder in ((app_package, "app"), (functions_package, "functions")):
        with zipfile.ZipFile(build(model, tmp_path / f"{host_folder}.zip")) as archive:
            names = [n for n in archive.namelist() if not n.startswith(f"{PACKAGE_MODEL_DIR}/")]
        # Root files (function_app.py, host.json, requirements.txt) are copies of the host folder's own.
        shipped |= {ROOT / (name if "/" in name else f"{host_folder}/{name}") for name in names}
    assert all(f.is_file() for f in shipped)
    uncovered = _uncovered("app", shipped)
    assert not uncovered, f"pipelines/app.yml does not trigger on: {uncovered}"


# The tools each deploy pipeline's make targets run.
TOOLS = {
    "app": ("tools/deploy/app", "tools/deploy/functions"),
    "ml": ("tools/deploy/ml", "tools/deploy/genai", "tools/checks/pipelines/outcome.py"),
}


@pytest.mark.parametrize("pipeline", sorted(TOOLS))
def test_the_trigger_paths_cover_every_module_the_pipelines_tools_import(pipeline: str) -> None:
    roots = [ROOT / p for p in TOOLS[pipeline]]
    pending = {f for r in roots for f in ([r] if r.is_file() else r.rglob("*.py"))}
    seen: set[Path] = set()
    while pending:
        source = pending.pop()
        seen.add(source)
        pending |= _imported_files(source) - seen
    uncovered = _uncovered(pipeline, seen)
    assert not uncovered, f"pipelines/{pipeline}.yml does not trigger on: {uncovered}"


def test_the_function_app_starts_the_app_pipeline() -> None:
    paths = APP.definition["trigger"]["paths"]["include"]
    assert {"functions", "tools/deploy/functions", "make/functions.mk"} <= set(paths)
