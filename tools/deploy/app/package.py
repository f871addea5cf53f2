"""Builds the App Service deployment package, dist/app.zip:

    app/  runtime/  contract/  ml/carprice/{schema,pricer,gate}.py (+ the ml modules they import)  model/
    requirements.txt

runtime/ (what the web app and the function app share) and contract/ ship whole, as app/ does.

App Service's Oryx build installs the root requirements.txt (a copy of app/requirements.txt); the
startup command (contract.APP_START_COMMAND) runs gunicorn from the package root. The model directory
ships inside the package, and CARPRICE_MODEL_DIR points at it (the App stack sets it).

    python -m tools.deploy.app.package [--model-dir ml/outputs/model] [--out dist/app.zip]
"""

from __future__ import annotations

import argparse
import ast
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE_MODEL_DIR = "model"  # relative to the package root, i.e. /home/site/wwwroot/model on App Service
# The scoring code the app imports; whatever ml.* modules these import are added (see ml_files()).
ML_ENTRY_MODULES = ("ml.carprice.pricer", "ml.carprice.schema", "ml.carprice.gate", "ml.carprice.request_body")
MODEL_FILES = ("model.onnx", "model_card.json")
SHARED_PACKAGES = ("runtime", "contract")  # shipped whole by both packagers
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def _source_files(folder: str) -> list[Path]:
    return sorted(
        p for p in (ROOT / folder).rglob("*")
        if p.is_file() and not _SKIP_PARTS & set(p.parts) and p.suffix not in (".pyc", ".pyo")
    )


def ml_files(entry: tuple[str, ...] = ML_ENTRY_MODULES) -> list[str]:
    """The entry modules and every ml.* module they import, transitively (read from the source, so a
    new helper module in the ML project is packaged without anyone editing this list)."""
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
    """A deployment zip: `files` as (source, name in the zip), the ml modules the entry modules need, and the
    model under model/. Written beside `out` and moved into place, so a failed build keeps the previous package."""
    missing = [name for name in MODEL_FILES if not (model_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"model directory {model_dir} lacks {', '.join(missing)}: run `make train` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for source, name in files:
            archive.write(source, name)
        for name in ml_files(ml_entry_modules):
            archive.write(ROOT / name, name)
        for name in MODEL_FILES:
            archive.write(model_dir / name, f"{PACKAGE_MODEL_DIR}/{name}")
    partial.replace(out)
    return out


def build_package(model_dir: Path, out: Path) -> Path:
    sources = [(path, path.relative_to(ROOT).as_posix()) for folder in ("app", *SHARED_PACKAGES)
               for path in _source_files(folder)]
    requirements = (ROOT / "app" / "requirements.txt", "requirements.txt")  # Oryx installs the root one
    return write_package(out, model_dir, [*sources, requirements], ML_ENTRY_MODULES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build the App Service package (dist/app.zip)")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "ml" / "outputs" / "model")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "app.zip")
    args = parser.parse_args(argv)
    out = build_package(args.model_dir, args.out)
    print(f"App Service package: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
