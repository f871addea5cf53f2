"""Builds the App Service deployment package, dist/app.zip:

    app/  runtime/  contract/  ml/carprice/{schema,pricer,gate}.py (+ the ml modules they import)  model/
    requirements.txt

runtime/ (what the web app and the function app share) and contract/ ship whole, as app/ does
(tools/deploy/packaging.py).

App Service's Oryx build installs the root requirements.txt (a copy of app/requirements.txt); the
startup command (contract.APP_START_COMMAND) runs gunicorn from the package root. The model directory
ships inside the package, and CARPRICE_MODEL_DIR points at it (the App stack sets it).

    python -m tools.deploy.app.package [--model-dir ml/outputs/model] [--out dist/app.zip]
"""

from __future__ import annotations

from pathlib import Path

from tools.deploy.packaging import ROOT, cli, source_files, write_package

# The scoring code the app imports; whatever ml.* modules these import are added (packaging.ml_files).
ML_ENTRY_MODULES = ("ml.carprice.pricer", "ml.carprice.schema", "ml.carprice.gate", "ml.carprice.request_body")


def build_package(model_dir: Path, out: Path) -> Path:
    requirements = (ROOT / "app" / "requirements.txt", "requirements.txt")  # Oryx installs the root one
    return write_package(out, model_dir, [*source_files("app"), requirements], ML_ENTRY_MODULES)


def main(argv: list[str] | None = None) -> int:
    return cli("App Service package", "dist/app.zip", build_package, argv)


if __name__ == "__main__":
    raise SystemExit(main())
