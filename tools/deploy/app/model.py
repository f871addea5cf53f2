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
from pathlib import Path
from typing import Any

from contract import ML_ONLINE_ENDPOINT
from tools.deploy.ml.jobs import Target, ml_client
from tools.deploy.ml.served import NoServedModel, ServedModel, served_model
from tools.deploy.packaging import MODEL_FILES
from tools.synth_output import SynthError

ROOT = Path(__file__).resolve().parents[3]
PROVENANCE = "registered_model.json"


def fetch(client: Any, target: Path, endpoint_name: str = ML_ONLINE_ENDPOINT) -> ServedModel:
    served = served_model(client, endpoint_name)
    with tempfile.TemporaryDirectory() as folder:
        client.models.download(name=served.name, version=served.version, download_path=folder)
        found = {name: next(Path(folder).rglob(name), None) for name in MODEL_FILES}
        missing = [name for name, path in found.items() if path is None]
        if missing:
            raise NoServedModel(f"{served.name}:{served.version} lacks {', '.join(missing)}")
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
    try:
        target = Target.of(args.env, args.outdir)
        fetch(ml_client(target), args.target, target.endpoint(ML_ONLINE_ENDPOINT))
    except (NoServedModel, SynthError) as exc:
        print(f"app-model {args.env}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
