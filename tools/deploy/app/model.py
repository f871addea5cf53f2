"""`make app-model ENV=...`: put the model the environment's online endpoint serves into ml/outputs/model.

The app ships the version the ML pipeline registered and its gate promoted, never a model trained on the
build agent: the live slot of the online endpoint (the one taking most traffic) names the registered
version; that version is downloaded from the environment's Azure ML workspace and its model files are
copied where `make package-app` reads them, with a provenance note (name, version, endpoint, slot).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import ML_MODEL_NAME, ML_ONLINE_ENDPOINT
from tools.app.package import MODEL_FILES
from tools.deploy.ml.rollout import live_slot
from tools.synth_output import SynthError

ROOT = Path(__file__).resolve().parents[3]
PROVENANCE = "registered_model.json"


class ModelUnavailable(Exception):
    """The endpoint serves nothing yet, or the registered version lacks the files the app needs."""


class NothingServed(ModelUnavailable):
    """The endpoint exists but no slot takes traffic: no rollout has finished yet."""


@dataclass(frozen=True)
class ServedModel:
    name: str
    version: str
    slot: str


def served_model(client: Any, endpoint_name: str = ML_ONLINE_ENDPOINT) -> ServedModel:
    endpoint = client.online_endpoints.get(endpoint_name)
    slot = live_slot(dict(endpoint.traffic or {}))
    if slot is None:
        raise NothingServed(f"endpoint {endpoint_name} serves no deployment yet: run the ML pipeline first")
    deployment = client.online_deployments.get(name=slot, endpoint_name=endpoint_name)
    reference = str(deployment.model)
    # "azureml:carprice:7" or ".../models/carprice/versions/7"
    name, version = (reference.rsplit("/models/", 1)[-1].replace("/versions/", ":").removeprefix("azureml:")
                     .split(":")[:2])
    if name != ML_MODEL_NAME:
        raise ModelUnavailable(f"{endpoint_name}/{slot} serves {reference}, not a {ML_MODEL_NAME} version")
    return ServedModel(name, version, slot)


def fetch(client: Any, target: Path, endpoint_name: str = ML_ONLINE_ENDPOINT) -> ServedModel:
    served = served_model(client, endpoint_name)
    with tempfile.TemporaryDirectory() as folder:
        client.models.download(name=served.name, version=served.version, download_path=folder)
        found = {name: next(Path(folder).rglob(name), None) for name in MODEL_FILES}
        missing = [name for name, path in found.items() if path is None]
        if missing:
            raise ModelUnavailable(f"{served.name}:{served.version} lacks {', '.join(missing)}")
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name, path in found.items():
            assert path is not None
            shutil.copy2(path, target / name)
    provenance = {"name": served.name, "version": served.version, "endpoint": endpoint_name, "slot": served.slot}
    (target / PROVENANCE).write_text(json.dumps(provenance, indent=2), encoding="utf-8")
    print(f"model {served.name}:{served.version} (live on {endpoint_name}/{served.slot}) -> {target}", flush=True)
    return served


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    parser.add_argument("--target", type=Path, default=ROOT / "ml" / "outputs" / "model")
    args = parser.parse_args(argv)
    from tools.deploy.ml.jobs import Target, ml_client

    try:
        target = Target.of(args.env, args.outdir)
        fetch(ml_client(target), args.target, target.endpoint(ML_ONLINE_ENDPOINT))
    except (ModelUnavailable, SynthError) as exc:
        print(f"app-model {args.env}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
