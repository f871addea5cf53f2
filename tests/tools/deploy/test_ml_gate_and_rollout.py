"""The ML rollout's decisions (gate, live slot, traffic steps, rollback) against a fake MLClient: the
fake stands in for azure-ai-ml's operations (models, online_endpoints, online_deployments) at the SDK
boundary and scores requests the way ml/scoring/score.py answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from contract import ML_MODEL_NAME, ML_ONLINE_ENDPOINT
from ml.carprice.gate import GateDecision, GateRejected, decide, load_config, write_metrics
from ml.carprice.schema import CarFeatures
from tests.ml.test_gate import GOOD, _draws, _evaluation
from tools.deploy.ml import gate as ml_gate
from tools.deploy.ml.jobs import SMOKE_ROWS
from tools.deploy.ml.rollout import (
    Rollout,
    RolloutFailed,
    RolloutSettings,
    candidate_slot,
    check_predictions,
    live_slot,
)

ROWS = json.loads(SMOKE_ROWS.read_text())
PASSED = decide(GOOD, load_config())


def test_gate_cli_reads_the_evaluate_steps_metrics_file(tmp_path: Path, capsys) -> None:
    write_metrics(tmp_path / "evaluation" / "metrics", GOOD, PASSED)
    assert ml_gate.main([str(tmp_path)]) == 0  # a downloaded job output folder
    out = capsys.readouterr().out
    assert "gate: PROMOTED" in out and "MAE ratio" in out


def test_gate_cli_exits_3_on_rejection_and_2_when_it_cannot_decide(tmp_path: Path, capsys) -> None:
    weak = _evaluation(_draws(1250, 40, 1), _draws(1300, 60, 2), _draws(0.93, 0.005, 3))
    path = write_metrics(tmp_path, weak, decide(weak, load_config()))
    assert ml_gate.main([str(path)]) == ml_gate.GATE_REJECTED_EXIT
    assert "gate: REJECTED" in capsys.readouterr().out
    # The shapes a permissive reader would have guessed at are errors now.
    for document in ({"metrics": {"candidate": {"mae": 1}, "baseline": {"mae": 2}}, "gate": True},
                     {**json.loads(path.read_text()), "gate": "passed"}):
        path.write_text(json.dumps(document))
        assert ml_gate.main([str(path)]) == 2
    assert "cannot decide" in capsys.readouterr().err
    assert ml_gate.main([str(tmp_path / "nowhere")]) == 2


def test_smoke_rows_are_valid_cars_for_the_shared_schema() -> None:
    assert len(ROWS) >= 3
    for row in ROWS:
        CarFeatures.model_validate(row)


@pytest.mark.parametrize(
    ("traffic", "live", "candidate"),
    [({}, None, "green"), ({"blue": 100}, "blue", "green"), ({"blue": 0, "green": 100}, "green", "blue"),
     ({"blue": 90, "green": 10}, "blue", "green")],
)
def test_live_slot_and_candidate(traffic: dict[str, int], live: str | None, candidate: str) -> None:
    assert live_slot(traffic) == live and candidate_slot(live) == candidate


def test_predictions_must_be_one_positive_price_per_row() -> None:
    ok = {"model_version": "v", "predictions": [{"price": 9000.0, "low": 8000, "high": 10000}] * 2}
    assert check_predictions(json.dumps(ok), 2) == [9000.0, 9000.0]
    with pytest.raises(ValueError, match="refused"):
        check_predictions({"predictions": [{"errors": [{"field": "make"}]}]}, 1)
    with pytest.raises(ValueError, match="expected 2 predictions"):
        check_predictions({"predictions": [{"price": 1.0}]}, 2)
    with pytest.raises(ValueError, match="positive"):
        check_predictions([-5.0], 1)


@dataclass
class FakeMLClient:
    """azure-ai-ml MLClient stand-in: endpoint traffic, deployments and model versions kept in memory."""

    traffic: dict[str, int] | None = None  # None: the endpoint does not exist yet
    broken_slots: set[str] = field(default_factory=set)  # slots whose scoring answers garbage
    flaky_after_calls: int | None = None  # invocations after which every call fails
    fail_deploy: bool = False
    calls: list[str] = field(default_factory=list)
    traffic_history: list[dict[str, int]] = field(default_factory=list)
    deployments: dict[str, Any] = field(default_factory=dict)
    invocations: int = 0
    invoked: list[str | None] = field(default_factory=list)  # deployment named per call (None: via traffic)
    broken_after_smoke: set[str] = field(default_factory=set)  # slots that fail only when reached via traffic

    credit: dict[str, int] = field(default_factory=dict)

    def _route(self) -> str:
        """Smooth weighted round robin over the current split: a slot with share p answers p% of the calls."""
        shares = {slot: share for slot, share in (self.traffic or {}).items() if share > 0}
        if not shares:
            raise RuntimeError("HTTP 404: no deployment takes traffic")
        for slot, share in shares.items():
            self.credit[slot] = self.credit.get(slot, 0) + share
        chosen = max(sorted(shares), key=lambda slot: self.credit[slot])
        self.credit[chosen] -= sum(shares.values())
        return chosen

    def __post_init__(self) -> None:
        self.models = SimpleNamespace(list=self._list_models)
        self.online_endpoints = SimpleNamespace(
            get=self._get_endpoint, begin_create_or_update=self._put_endpoint, invoke=self._invoke
        )
        self.online_deployments = SimpleNamespace(begin_create_or_update=self._put_deployment)

    registered_by: dict[str, str] = field(default_factory=lambda: {"6": "older-job", "7": "pj-1"})

    def _list_models(self, name: str) -> list[Any]:
        self.calls.append(f"list models {name}")
        return [SimpleNamespace(name=name, version=v, id=f"azureml:{name}:{v}", tags={"pipeline_job": job})
                for v, job in self.registered_by.items()]

    def _get_endpoint(self, name: str) -> Any:
        if self.traffic is None:
            raise ResourceNotFoundError("endpoint not found")
        return SimpleNamespace(name=name, traffic=dict(self.traffic))

    def _put_endpoint(self, endpoint: Any) -> Any:
        if self.traffic is None:
            self.calls.append(f"create endpoint {endpoint.name}")
        self.traffic = dict(endpoint.traffic or {})
        if endpoint.traffic:
            self.traffic_history.append(dict(endpoint.traffic))
        return SimpleNamespace(result=lambda: SimpleNamespace(name=endpoint.name, traffic=dict(self.traffic)))

    def _put_deployment(self, deployment: Any) -> Any:
        self.calls.append(f"deploy {deployment['name']} {deployment['model']}")
        if self.fail_deploy:
            raise RuntimeError("quota exceeded")
        self.deployments[deployment["name"]] = deployment
        return SimpleNamespace(result=lambda: deployment)

    def _invoke(self, endpoint_name: str, request_file: str, deployment_name: str | None = None) -> str:
        self.invocations += 1
        assert endpoint_name == ML_ONLINE_ENDPOINT
        self.invoked.append(deployment_name)
        if deployment_name is None:  # the endpoint routes by its traffic split, as Azure ML does
            deployment_name = self._route()
        rows = json.loads(Path(request_file).read_text())["data"]
        if self.flaky_after_calls is not None and self.invocations > self.flaky_after_calls:
            raise RuntimeError("HTTP 502")
        if deployment_name in self.broken_after_smoke and self.invoked[-1] is None:
            raise RuntimeError(f"HTTP 500 from {deployment_name}")
        if deployment_name in self.broken_slots:
            return json.dumps({"predictions": [{"errors": [{"field": "make", "reason": "boom"}]}] * len(rows)})
        return json.dumps({"model_version": "v", "predictions": [{"price": 12000.0}] * len(rows)})


def _rollout(client: FakeMLClient, **settings: Any) -> Rollout:
    return Rollout(
        client=client,
        build_deployment=lambda slot, model: {"name": slot, "model": model},
        build_endpoint=lambda: SimpleNamespace(name=ML_ONLINE_ENDPOINT, traffic={}),
        sample_rows=ROWS,
        settings=RolloutSettings(min_probes_per_step=4, **settings),
        log=lambda message: None,
    )


def test_rollout_with_fake_mlclient_shifts_traffic_to_green_in_steps() -> None:
    client = FakeMLClient(traffic={"blue": 100})
    result = _rollout(client, traffic_steps=(10, 50, 100)).run(PASSED, "pj-1")
    assert (result.live_before, result.candidate, result.model_version) == ("blue", "green", "7")
    assert client.traffic_history == [{"green": 10, "blue": 90}, {"green": 50, "blue": 50}, {"green": 100, "blue": 0}]
    # The version this pipeline job registered (7), not an older one; the rollout registers nothing itself.
    assert client.calls == [f"list models {ML_MODEL_NAME}", f"deploy green azureml:{ML_MODEL_NAME}:7"]
    assert "blue" not in client.deployments  # the old slot is left alone for the next rollback


def test_rollout_with_fake_mlclient_alternates_back_to_blue_when_green_is_live() -> None:
    client = FakeMLClient(traffic={"blue": 0, "green": 100})
    result = _rollout(client).run(PASSED, "pj-1")
    assert result.candidate == "blue" and client.traffic == {"blue": 100, "green": 0}


def test_first_rollout_with_fake_mlclient_creates_the_endpoint() -> None:
    client = FakeMLClient(traffic=None)
    result = _rollout(client).run(PASSED, "pj-1")
    assert result.live_before is None and f"create endpoint {ML_ONLINE_ENDPOINT}" in client.calls
    assert client.traffic == {"green": 100}


def test_gate_rejection_with_fake_mlclient_registers_and_deploys_nothing() -> None:
    client = FakeMLClient(traffic={"blue": 100})
    rejected = GateDecision(promoted=False, reasons=("MAE ratio 1.2 > 0.75",), thresholds={})
    with pytest.raises(GateRejected, match="MAE ratio"):
        _rollout(client).run(rejected, "pj-1")
    assert client.calls == [] and client.traffic_history == []


def test_failed_smoke_test_with_fake_mlclient_rolls_back_to_blue_before_any_traffic() -> None:
    client = FakeMLClient(traffic={"blue": 100}, broken_slots={"green"})
    with pytest.raises(RolloutFailed, match="smoke test of green failed"):
        _rollout(client).run(PASSED, "pj-1")
    assert client.traffic_history == [{"green": 0, "blue": 100}]


def test_error_budget_with_fake_mlclient_rolls_back_at_the_first_step() -> None:
    # Smoke test (1 call) passes, then 2 of the 4 probes at 10% succeed and the rest fail: 50% > 25% budget.
    client = FakeMLClient(traffic={"blue": 100}, flaky_after_calls=3)
    with pytest.raises(RolloutFailed, match="over the error budget"):
        _rollout(client, error_budget=0.25).run(PASSED, "pj-1")
    assert client.traffic_history == [{"green": 10, "blue": 90}, {"green": 0, "blue": 100}]


def test_probes_with_fake_mlclient_go_through_the_traffic_split_not_the_slot() -> None:
    client = FakeMLClient(traffic={"blue": 100})
    _rollout(client, traffic_steps=(50, 100)).run(PASSED, "pj-1")
    # Smoke test on the slot, then probes as clients call: 7 at 50% (1 - 0.5^7 > 0.99), 4 (the minimum) at 100%.
    assert client.invoked == ["green"] + [None] * (7 + 4)


def test_candidate_that_fails_only_under_its_traffic_share_with_fake_mlclient_is_rolled_back() -> None:
    # Green passes its direct smoke test but breaks once the split sends it real calls (half of them at 50%).
    client = FakeMLClient(traffic={"blue": 100})
    client.broken_after_smoke = {"green"}
    with pytest.raises(RolloutFailed, match="at 50% failed 3 of 7 probes"):
        _rollout(client, traffic_steps=(50, 100), error_budget=0.25).run(PASSED, "pj-1")
    assert client.traffic == {"green": 0, "blue": 100}


def test_rollout_with_fake_mlclient_stops_when_the_pipeline_registered_no_model() -> None:
    client = FakeMLClient(traffic={"blue": 100}, registered_by={"6": "older-job"})
    with pytest.raises(RolloutFailed, match="pipeline job pj-1 registered no"):
        _rollout(client).run(PASSED, "pj-1")
    assert client.traffic_history == [] and client.deployments == {}


def test_failed_deployment_with_fake_mlclient_leaves_blue_serving_everything() -> None:
    client = FakeMLClient(traffic={"blue": 100}, fail_deploy=True)
    with pytest.raises(RolloutFailed, match="quota exceeded"):
        _rollout(client).run(PASSED, "pj-1")
    assert client.traffic == {"green": 0, "blue": 100}


def test_traffic_steps_must_rise_to_100() -> None:
    with pytest.raises(ValueError, match="end at 100"):
        RolloutSettings(traffic_steps=(50, 20))


def test_rollout_builds_slots_from_the_ml_projects_endpoint_specs() -> None:
    from tools.deploy.ml.jobs import AZUREML_DIR, build_rollout

    rollout = build_rollout(FakeMLClient(), AZUREML_DIR / "endpoints", RolloutSettings())
    green = rollout.build_deployment("green", f"azureml:{ML_MODEL_NAME}:7")
    assert (green.name, green.endpoint_name) == ("green", ML_ONLINE_ENDPOINT)
    assert str(green.model).endswith(f"{ML_MODEL_NAME}:7")  # the registered version, not the spec's @latest
    assert rollout.build_deployment("blue", f"azureml:{ML_MODEL_NAME}:6").name == "blue"
    endpoint = rollout.build_endpoint()
    assert endpoint.name == ML_ONLINE_ENDPOINT and not endpoint.traffic


def test_training_submission_with_fake_mlclient_fetches_evaluate_metrics(tmp_path: Path) -> None:
    from tools.deploy.ml.jobs import AZUREML_DIR, submit_training

    downloads: list[tuple[str, str]] = []
    steps = [SimpleNamespace(name="child-prep", display_name="prep"),
             SimpleNamespace(name="child-eval", display_name="evaluate"),
             SimpleNamespace(name="child-train", display_name="train")]
    jobs = SimpleNamespace(
        create_or_update=lambda job, experiment_name: SimpleNamespace(name="pj-1", studio_url=""),
        stream=lambda name: None,
        list=lambda parent_job_name: iter(steps),
        download=lambda name, download_path, output_name: downloads.append((name, output_name)),
    )
    record = submit_training(SimpleNamespace(jobs=jobs), AZUREML_DIR / "pipeline.yml", tmp_path)
    assert downloads == [("child-eval", "metrics")]
    assert record["model_path"] == "azureml://jobs/child-train/outputs/model"
    assert json.loads((tmp_path / "run.json").read_text()) == record
