"""dist/functions.zip holds what the Functions host needs at its root and imports without the repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.deploy.functions.package import ROOT, build_package

pytestmark = pytest.mark.xdist_group("functions")


def test_the_package_runs_from_its_own_root(model_dir: Path, tmp_path: Path) -> None:
    package = build_package(model_dir, tmp_path / "functions.zip")
    names = set(zipfile.ZipFile(package).namelist())
    assert {"function_app.py", "host.json", "requirements.txt", "model/model.onnx", "model/model_card.json",
            "functions/handlers.py", "contract/__init__.py", "ml/carprice/pricer.py",
            "ml/carprice/listing.py"} <= names
    assert {f"runtime/{p.name}" for p in (ROOT / "runtime").glob("*.py")} <= names  # the shared runtime, whole
    assert not any(n.startswith(("tools/", "app/", "tests/")) for n in names)  # dev-only code stays out
    root = tmp_path / "wwwroot"
    zipfile.ZipFile(package).extractall(root)
    # -I: no PYTHONPATH, no user site; only the package root and the installed requirements.
    script = ("import sys; sys.path.insert(0, '.'); import function_app; "
              "from runtime.model_location import default_model_dir; "
              "print(sorted(f.get_function_name() for f in function_app.app.get_functions())); "
              "print(default_model_dir())")
    result = subprocess.run([sys.executable, "-I", "-c", script], cwd=root, capture_output=True, text=True,
                            check=True)
    assert result.stdout.splitlines() == ["['price', 'score_listings']", str(root / "model")]


def test_a_missing_model_names_the_fix_and_keeps_the_previous_package(tmp_path: Path, model_dir: Path) -> None:
    out = build_package(model_dir, tmp_path / "functions.zip")
    before = out.read_bytes()
    with pytest.raises(FileNotFoundError, match="make train"):
        build_package(tmp_path / "nowhere", out)
    assert out.read_bytes() == before
