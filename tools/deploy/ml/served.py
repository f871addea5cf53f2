"""Which registered model version an environment's online endpoint serves: its live slot (the one taking
most traffic) names it. Read by `make app-model` (the app ships that version) and by the training pipeline
(that version is the champion the gate compares against)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract import ML_MODEL_NAME, ML_ONLINE_ENDPOINT
from tools.deploy.ml.rollout import live_slot


class NoServedModel(Exception):
    """The endpoint serves nothing yet, or the registered version lacks the files the app needs."""


class NothingServed(NoServedModel):
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
        raise NoServedModel(f"{endpoint_name}/{slot} serves {reference}, not a {ML_MODEL_NAME} version")
    return ServedModel(name, version, slot)
