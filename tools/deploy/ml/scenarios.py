"""Scenarios of the ML pipeline's Azure steps, played against a fake Azure ML workspace that refuses what
Azure ML refuses (tools/deploy/ml/fake_azureml.py, each rule with its source).

- the first rollout on an environment with no live deployment ends with the new slot serving 100%, and the
  app pipeline's `make app-model` then finds the served model; the next rollout steps its traffic;
- batch scoring on an environment with no batch endpoint yet creates the endpoint and its deployment with
  the model the real-time endpoint serves, then runs; a later run moves the deployment to the newer model.

`run_scenarios()` returns one outcome per scenario, for the pipelines dry run to play;
`python -m tools.deploy.ml.scenarios` prints them and exits 1 when one fails.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from contract import ML_BATCH_ENDPOINT, ML_MODEL_NAME, ML_ONLINE_ENDPOINT, ml_endpoint_name
from ml.carprice.gate import GateDecision
from tools.deploy.ml.fake_azureml import FakeAzureMLWorkspace

ENVIRONMENT = "dev"
PROMOTED = GateDecision(promoted=True, reasons=(), thresholds={})


class ScenarioFailed(AssertionError):
    pass


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.detail}"


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


def first_ml_rollout_with_no_live_deployment() -> str:
    """Empty workspace, one registered model: the first rollout must end at 100% on the new slot, and the
    next rollout (a newer model) must step its traffic through the configured shares."""
    from tools.deploy.ml.jobs import AZUREML_DIR, build_rollout
    from tools.deploy.ml.rollout import RolloutSettings
    from tools.deploy.ml.served import served_model

    workspace = FakeAzureMLWorkspace(models_by_version={"1": "pj-1"}, model_name=ML_MODEL_NAME)
    endpoint = ml_endpoint_name(ML_ONLINE_ENDPOINT, ENVIRONMENT)
    rollout = build_rollout(workspace, AZUREML_DIR / "endpoints", RolloutSettings(), endpoint)
    rollout.log = lambda line: None
    first = rollout.run(PROMOTED, "pj-1")
    _expect(workspace.online[endpoint].traffic == {first.candidate: 100},
            f"after the first rollout {endpoint} routes {workspace.online[endpoint].traffic}, not 100% to "
            f"{first.candidate}")
    served = served_model(workspace, endpoint)
    _expect(served.version == "1", f"make app-model would ship version {served.version}, not 1")

    workspace.models_by_version["2"] = "pj-2"
    second = rollout.run(PROMOTED, "pj-2")
    shares = [split[second.candidate] for split in second.traffic_history]
    _expect(shares == list(rollout.settings.traffic_steps),
            f"the second rollout set {second.candidate} to {shares}, not the steps "
            f"{list(rollout.settings.traffic_steps)}")
    _expect(served_model(workspace, endpoint).version == "2", "the second rollout does not serve version 2")
    return (f"first rollout: {first.candidate} 100% after its smoke test; second: {second.candidate} "
            f"stepped {shares}; refusals {len(workspace.refusals)}")


def batch_scoring_with_no_batch_endpoint() -> str:
    """The real-time endpoint serves version 1 and no batch endpoint exists: batch scoring must create the
    environment's batch endpoint and deployment with that model, run, and follow the next served model."""
    from tools.deploy.ml.jobs import batch_score

    workspace = FakeAzureMLWorkspace(models_by_version={"1": "pj-1"}, model_name=ML_MODEL_NAME)
    online = ml_endpoint_name(ML_ONLINE_ENDPOINT, ENVIRONMENT)

    def serve(version: str) -> None:
        workspace.online[online] = SimpleNamespace(traffic={"blue": 100}, auth_mode="aml_token", scoring_uri="")
        workspace.online_deps[(online, "blue")] = SimpleNamespace(
            name="blue", endpoint_name=online, model=f"azureml:{ML_MODEL_NAME}:{version}"
        )

    serve("1")
    batch = ml_endpoint_name(ML_BATCH_ENDPOINT, ENVIRONMENT)
    with tempfile.TemporaryDirectory() as folder:
        _, scored = batch_score(workspace, batch, Path(folder), run_id="r1")
        _expect(any(scored.rglob("predictions.csv")), "no predictions were downloaded")
        workspace.models_by_version["2"] = "pj-2"
        serve("2")
        batch_score(workspace, batch, Path(folder), run_id="r2")
    models = [(job["endpoint"], job["model"]) for job in workspace.batch_jobs]
    _expect(models == [(batch, f"{ML_MODEL_NAME}:1"), (batch, f"{ML_MODEL_NAME}:2")],
            f"batch jobs ran {models}")
    return f"{batch} created with {ML_MODEL_NAME}:1, then moved to {ML_MODEL_NAME}:2; jobs {len(models)}"


SCENARIOS: dict[str, Callable[[], str]] = {
    "first ML rollout with no live deployment": first_ml_rollout_with_no_live_deployment,
    "batch scoring on an environment with no batch endpoint": batch_scoring_with_no_batch_endpoint,
}


def run_scenarios() -> list[ScenarioOutcome]:
    outcomes = []
    for name, scenario in SCENARIOS.items():
        try:
            outcomes.append(ScenarioOutcome(name, True, scenario()))
        except Exception as exc:  # a scenario reports any failure, with where it came from
            where = traceback.extract_tb(exc.__traceback__)[-1]
            outcomes.append(ScenarioOutcome(
                name, False, f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"
            ))
    return outcomes


def main() -> int:
    outcomes = run_scenarios()
    for outcome in outcomes:
        print(outcome.line(), flush=True)
    return 0 if all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
