"""Importing the deployables' modules reads no data set, model card or environment: the composition roots
(app.main.create_app, the function app's Runtime.from_settings) load the served data set and pass it down, so
an import order or a missing environment variable cannot change what a module validates."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.runtime.test_layering import ROOT

PROBE = """
import json, sys
import ml.carprice.dataset as dataset
modules = sys.argv[1:]
for name in modules:
    __import__(name)
print(json.dumps({"declarations": len(dataset._ACTIVE), "cards": len(dataset._CARD_CACHE)}))
"""
MODULES = ["ml.carprice.schema", "ml.carprice.listing", "ml.carprice.request_body", "ml.carprice.publish",
           "runtime.pricing", "runtime.endpoint", "runtime.predictions", "app.web.pages", "app.web.api",
           "app.web.form_fields", "app.service", "functions.function_app"]


def test_importing_the_deployables_loads_no_data_set() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARPRICE_")}
    result = subprocess.run([sys.executable, "-c", PROBE, *MODULES], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"declarations": 0, "cards": 0}
