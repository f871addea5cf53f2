"""Builds the function app's deployment package, dist/functions.zip (zip deploy, remote build):

    function_app.py  host.json  requirements.txt   (the Functions host's view of the root)
    functions/  contract/  ml/carprice/{pricer,schema,listing}.py (+ the ml modules they import)  model/

The model ships inside the package and CARPRICE_MODEL_DIR defaults to it (functions/settings.py).

    python -m tools.functions.package [--model-dir ml/outputs/model] [--out dist/functions.zip]
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

from tools.app.package import MODEL_FILES, PACKAGE_MODEL_DIR, ml_files

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "functions"
HOST_FILES = ("function_app.py", "host.json", "requirements.txt")  # at the package root
# The ml modules functions/ imports; whatever ml.* modules these import are added (tools.app.package.ml_files).
ML_ENTRY_MODULES = ("ml.carprice.pricer", "ml.carprice.schema", "ml.carprice.listing", "ml.carprice.request_body")


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def build_package(model_dir: Path, out: Path) -> Path:
    missing = [name for name in MODEL_FILES if not (model_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"model directory {model_dir} lacks {', '.join(missing)}: run `make train` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".zip.partial")  # a failed build leaves the previous package intact
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in HOST_FILES:
            archive.write(SOURCE / name, name)
        for folder in (SOURCE, ROOT / "contract"):
            for path in _python_files(folder):
                archive.write(path, path.relative_to(ROOT).as_posix())
        for name in ml_files(ML_ENTRY_MODULES):
            archive.write(ROOT / name, name)
        for name in MODEL_FILES:
            archive.write(model_dir / name, f"{PACKAGE_MODEL_DIR}/{name}")
    partial.replace(out)
    return out


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
