"""What both deployment packages are made of: the shared packages shipped whole, the ml modules the entry
modules import, and the model, written beside the target and moved into place (a failed build keeps the previous
package). The app's and the function app's packagers (tools/deploy/app/package.py,
tools/deploy/functions/package.py) say only what differs: their own folder, host files and entry modules."""

from __future__ import annotations

import argparse
import ast
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_MODEL_DIR = "model"  # relative to the package root, i.e. /home/site/wwwroot/model on App Service
MODEL_FILES = ("model.onnx", "model_card.json")
SHARED_PACKAGES = ("runtime", "contract")  # shipped whole by both packagers
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def source_files(folder: str, *, python_only: bool = False) -> list[tuple[Path, str]]:
    """A project folder's files as (source, name in the zip); compiled and cache files left out."""
    found = sorted(
        p for p in (ROOT / folder).rglob("*")
        if p.is_file() and not _SKIP_PARTS & set(p.parts) and p.suffix not in (".pyc", ".pyo")
        and (p.suffix == ".py" or not python_only)
    )
    return [(path, path.relative_to(ROOT).as_posix()) for path in found]


def ml_files(entry: tuple[str, ...]) -> list[str]:
    """The entry modules and every ml.* module they import, transitively (read from the source, so a
    new helper module in the ML project is packaged without anyone editing a list)."""
    seen: set[str] = set()
    todo = list(entry)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((ROOT / f"{name.replace('.', '/')}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("ml."):
                module = node.module or ""
                if (ROOT / module.replace(".", "/")).is_dir():  # `from ml.carprice import dataset`
                    todo.extend(f"{module}.{a.name}" for a in node.names)
                else:
                    todo.append(module)
            elif isinstance(node, ast.Import):
                todo.extend(a.name for a in node.names if a.name.startswith("ml."))
    packages = {"ml/__init__.py", "ml/carprice/__init__.py"}
    return sorted(packages | {f"{name.replace('.', '/')}.py" for name in seen})


def write_package(
    out: Path, model_dir: Path, files: Iterable[tuple[Path, str]], ml_entry_modules: tuple[str, ...]
) -> Path:
    """A deployment zip: `files` as (source, name in the zip), the shared packages, the ml modules the entry
    modules need, and the model under model/."""
    missing = [name for name in MODEL_FILES if not (model_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"model directory {model_dir} lacks {', '.join(missing)}: run `make train` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".zip.partial")
    shared = [item for folder in SHARED_PACKAGES for item in source_files(folder)]
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for source, name in [*files, *shared]:
            archive.write(source, name)
        for name in ml_files(ml_entry_modules):
            archive.write(ROOT / name, name)
        for name in MODEL_FILES:
            archive.write(model_dir / name, f"{PACKAGE_MODEL_DIR}/{name}")
    partial.replace(out)
    return out


def cli(what: str, default_out: str, build: Callable[[Path, Path], Path], argv: list[str] | None) -> int:
    """`python -m tools.deploy.<app>.package [--model-dir ...] [--out ...]`: build `what` and say where it is."""
    parser = argparse.ArgumentParser(description=f"build the {what} ({default_out})")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "ml" / "outputs" / "model")
    parser.add_argument("--out", type=Path, default=ROOT / default_out)
    args = parser.parse_args(argv)
    out = build(args.model_dir, args.out)
    print(f"{what}: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
