"""The app package carries the model version the environment's online endpoint serves (fake MLClient at the
Azure ML boundary), never one trained on the build agent."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contract import ML_MODEL_NAME, ML_ONLINE_ENDPOINT
from tools.deploy.app.model import PROVENANCE, fetch
from tools.deploy.ml.served import NoServedModel, served_model


class FakeMLClient:
    def __init__(self, traffic: dict[str, int], models: dict[str, str], files: tuple[str, ...]) -> None:
        self.downloads: list[tuple[str, str]] = []
        self.online_endpoints = SimpleNamespace(get=lambda name: SimpleNamespace(name=name, traffic=traffic))
        self.online_deployments = SimpleNamespace(get=lambda name, endpoint_name: SimpleNamespace(model=models[name]))
        self.models = SimpleNamespace(download=self._download)
        self.files = files

    def _download(self, name: str, version: str, download_path: str) -> None:
        self.downloads.append((name, version))
        folder = Path(download_path) / name / "model"  # the layout azure-ai-ml downloads into
        folder.mkdir(parents=True)
        for file in self.files:
            (folder / file).write_text(f"{file} of {name}:{version}")


def _client(**kwargs: Any) -> FakeMLClient:
    defaults: dict[str, Any] = {
        "traffic": {"blue": 0, "green": 100},
        "models": {"blue": f"azureml:{ML_MODEL_NAME}:6",
                   "green": f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/"
                            f"workspaces/w/models/{ML_MODEL_NAME}/versions/7"},
        "files": ("model.onnx", "model_card.json", "MLmodel"),
    }
    return FakeMLClient(**{**defaults, **kwargs})


def test_fetch_with_fake_mlclient_downloads_the_live_slots_registered_version(tmp_path: Path) -> None:
    client = _client()
    served = fetch(client, tmp_path / "model")
    assert (served.version, served.slot) == ("7", "green") and client.downloads == [(ML_MODEL_NAME, "7")]
    assert (tmp_path / "model" / "model.onnx").read_text() == f"model.onnx of {ML_MODEL_NAME}:7"
    provenance = json.loads((tmp_path / "model" / PROVENANCE).read_text())
    assert provenance == {"name": ML_MODEL_NAME, "version": "7", "endpoint": ML_ONLINE_ENDPOINT, "slot": "green"}


def test_fetch_with_fake_mlclient_refuses_an_endpoint_without_traffic_or_incomplete_model(tmp_path: Path) -> None:
    with pytest.raises(NoServedModel, match="serves no deployment yet"):
        served_model(_client(traffic={}))
    with pytest.raises(NoServedModel, match="lacks model_card.json"):
        fetch(_client(files=("model.onnx",)), tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_app_pipeline_packages_the_registered_model_and_trains_nothing() -> None:
    root = Path(__file__).resolve().parents[3]
    text = (root / "pipelines" / "app.yml").read_text() + (root / "pipelines/templates/app-stages.yml").read_text()
    assert "make train" not in text
    assert text.index("make app-model") < text.index("make package-app") < text.index("make app-rollout")
