"""Builds the function app's deployment package, dist/functions.zip (zip deploy, remote build):

    function_app.py  host.json  requirements.txt   (the Functions host's view of the root)
    functions/  runtime/  contract/  ml/carprice/{pricer,schema,listing}.py (+ the ml modules they import)  model/

The model ships inside the package and CARPRICE_MODEL_DIR defaults to it (functions/settings.py).

    python -m tools.deploy.functions.package [--model-dir ml/outputs/model] [--out dist/functions.zip]
"""

from __future__ import annotations

from pathlib import Path

from tools.deploy.packaging import ROOT, cli, source_files, write_package

SOURCE = ROOT / "functions"
HOST_FILES = ("function_app.py", "host.json", "requirements.txt")  # at the package root
# The ml modules functions/ imports; whatever ml.* modules these import are added (packaging.ml_files).
ML_ENTRY_MODULES = ("ml.carprice.pricer", "ml.carprice.schema", "ml.carprice.listing", "ml.carprice.request_body")


def build_package(model_dir: Path, out: Path) -> Path:
    host = [(SOURCE / name, name) for name in HOST_FILES]
    return write_package(out, model_dir, [*host, *source_files("functions", python_only=True)], ML_ENTRY_MODULES)


def main(argv: list[str] | None = None) -> int:
    return cli("function app package", "dist/functions.zip", build_package, argv)


if __name__ == "__main__":
    raise SystemExit(main())
