"""Builds the function app's deployment package, dist/functions.zip (zip deploy, remote build):

    function_app.py  host.json  requirements.txt   (the Functions host's view of the root)
    functions/  runtime/  contract/  ml/carprice/{pricer,schema,listing}.py (+ the ml modules they import)  model/

The model ships inside the package and CARPRICE_MODEL_DIR defaults to it (functions/settings.py).

    python -m tools.deploy.functions.package [--model-dir ml/outputs/model] [--out dist/functions.zip]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.deploy.app.package import SHARED_PACKAGES, write_package

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "functions"
HOST_FILES = ("function_app.py", "host.json", "requirements.txt")  # at the package root
# The ml modules functions/ imports; whatever ml.* modules these import are added (tools.deploy.app.package.ml_files).
ML_ENTRY_MODULES = ("ml.carprice.pricer", "ml.carprice.schema", "ml.carprice.listing", "ml.carprice.request_body")


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def build_package(model_dir: Path, out: Path) -> Path:
    host = [(SOURCE / name, name) for name in HOST_FILES]
    folders = (SOURCE, *(ROOT / name for name in SHARED_PACKAGES))
    sources = [(path, path.relative_to(ROOT).as_posix()) for folder in folders for path in _python_files(folder)]
    return write_package(out, model_dir, [*host, *sources], ML_ENTRY_MODULES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build the function app package (dist/functions.zip)")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "ml" / "outputs" / "model")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "functions.zip")
    args = parser.parse_args(argv)
    out = build_package(args.model_dir, args.out)
    print(f"function app package: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
