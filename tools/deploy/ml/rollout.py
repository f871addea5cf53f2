"""Blue/green rollout of a gated model to the environment's Azure ML online endpoint, on azure-ai-ml's MLClient.

Order: gate passed -> the model the pipeline registered -> make sure the endpoint exists -> create/update the candidate
deployment (the slot without traffic, "green" when "blue" is live) -> smoke-test it directly with sample
rows -> shift traffic, probing the endpoint after each step the way clients call it (no deployment named, so the
traffic split decides who answers) -> done. A failed smoke test, a failed deployment or probes over the error
budget put all traffic back on the previously live slot and raise RolloutFailed. The previous slot keeps its
deployment (at 0%) for the next rollback.

The first rollout has no live slot to share with: Azure ML accepts an endpoint's traffic only when it sums to 0 or
100 (REST OnlineEndpointProperties.traffic), so the first candidate goes from 0% to 100% once its smoke test passed;
later rollouts step (10% -> 100% by default).

How many probes a step sends: probes go through the split, so at share p a candidate that fails every call is
hit by each probe with probability p, and n probes all miss it with probability (1 - p)^n. A step sends
n = ceil(ln(1 - confidence) / ln(1 - p)) probes (at least `min_probes_per_step`) and tolerates
floor(error_budget * n * p) failures, the budget applied to the calls the candidate is expected to answer. At the
10% step with confidence 0.99: n = ceil(ln 0.01 / ln 0.9) = ceil(43.7) = 44 probes, 0 failures tolerated, and a
broken candidate escapes with probability 0.9^44 = 0.97%. At 100%: 10 probes, 1 failure tolerated, and a broken
candidate fails all 10.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from contract import ML_MODEL_NAME, ML_ONLINE_ENDPOINT
from ml.carprice.gate import GateDecision, GateRejected

__all__ = ["GateRejected", "Rollout", "RolloutFailed", "RolloutSettings"]
SLOTS = ("blue", "green")


class RolloutFailed(Exception):
    """The candidate did not make it; traffic is back on the previously live slot."""


@dataclass(frozen=True)
class RolloutSettings:
    traffic_steps: tuple[int, ...] = (10, 100)
    min_probes_per_step: int = 10
    # Chance that a step catches a candidate failing every call (see the module docstring for the math).
    detection_confidence: float = 0.99
    error_budget: float = 0.1  # largest tolerated fraction of failed calls among those the candidate answers

    def __post_init__(self) -> None:
        steps = self.traffic_steps
        if not steps or steps[0] <= 0 or steps[-1] != 100 or any(
            b <= a for a, b in zip(steps, steps[1:], strict=False)
        ):
            raise ValueError(f"traffic steps must rise strictly from above 0 and end at 100, got {steps}")
        if not 0 <= self.error_budget < 1:
            raise ValueError("error budget is a fraction in [0, 1)")
        if not 0 < self.detection_confidence < 1:
            raise ValueError("detection confidence is a probability in (0, 1)")
        if self.min_probes_per_step < 1:
            raise ValueError("every step sends at least one probe")

    def probes_at(self, percent: int) -> int:
        """Probes that catch a candidate failing every call at this share with `detection_confidence`."""
        share = percent / 100
        if share >= 1:
            return self.min_probes_per_step
        needed = math.ceil(math.log(1 - self.detection_confidence) / math.log(1 - share))
        return max(self.min_probes_per_step, needed)

    def tolerated_failures(self, percent: int) -> int:
        """Failed probes a step accepts: the error budget of the calls the candidate is expected to answer."""
        return math.floor(self.error_budget * self.probes_at(percent) * percent / 100)


@dataclass
class RolloutResult:
    live_before: str | None
    candidate: str
    model_version: str
    traffic_history: list[dict[str, int]] = field(default_factory=list)


def live_slot(traffic: dict[str, int] | None) -> str | None:
    """The slot serving the most traffic; None before the first rollout."""
    serving = {slot: pct for slot, pct in (traffic or {}).items() if pct > 0}
    if not serving:
        return None
    return max(sorted(serving), key=lambda slot: serving[slot])


def candidate_slot(live: str | None) -> str:
    return "blue" if live == "green" else "green"


def traffic_split(candidate: str, live: str | None, candidate_percent: int) -> dict[str, int]:
    split = {candidate: candidate_percent}
    if live is not None:
        split[live] = 100 - candidate_percent
    return split


def check_predictions(response: Any, expected_rows: int) -> list[float]:
    """A smoke/probe response must hold one finite, positive price per sample row."""
    body = json.loads(response) if isinstance(response, str | bytes) else response
    if isinstance(body, str):  # some scoring servers JSON-encode the JSON once more
        body = json.loads(body)
    if isinstance(body, dict):
        body = body.get("predictions", body.get("prices"))
    if not isinstance(body, list) or len(body) != expected_rows:
        raise ValueError(f"expected {expected_rows} predictions, got {str(body)[:200]}")
    prices = []
    for item in body:
        # score.py answers {"price", "low", "high"} per row, or {"errors": [...]} for a row it refused.
        if isinstance(item, dict):
            if "price" not in item:
                raise ValueError(f"a sample row was refused: {str(item)[:200]}")
            item = item["price"]
        prices.append(float(item))
    if not all(math.isfinite(p) and p > 0 for p in prices):
        raise ValueError(f"predictions must be finite positive prices, got {prices}")
    return prices


@dataclass
class Rollout:
    """One rollout against one workspace. `client` is an MLClient (or anything with the same operations)."""

    client: Any
    build_deployment: Callable[[str, str], Any]  # (slot, model id) -> an OnlineDeployment to create/update
    build_endpoint: Callable[[], Any]  # used only when the endpoint does not exist yet
    sample_rows: Sequence[dict[str, Any]]
    settings: RolloutSettings = field(default_factory=RolloutSettings)
    endpoint_name: str = ML_ONLINE_ENDPOINT
    log: Callable[[str], None] = print

    def run(self, gate: GateDecision, pipeline_job: str) -> RolloutResult:
        if not gate.promoted:
            raise GateRejected(gate)
        model = self.registered_model(pipeline_job)
        endpoint = self.ensure_endpoint()
        live = live_slot(dict(endpoint.traffic or {}))
        candidate = candidate_slot(live)
        self.log(f"live slot: {live or 'none (first rollout)'}; candidate slot: {candidate}")
        result = RolloutResult(live, candidate, str(model.version))
        try:
            self.client.online_deployments.begin_create_or_update(self.build_deployment(candidate, model.id)).result()
        except Exception as exc:
            # The candidate never got traffic, but make that explicit so the endpoint state is known.
            self._restore(live, candidate, result)
            raise RolloutFailed(f"deployment of {candidate} failed: {exc}") from exc
        try:
            prices = self.smoke(candidate)
        except Exception as exc:
            self._restore(live, candidate, result)
            raise RolloutFailed(f"smoke test of {candidate} failed: {exc}") from exc
        self.log(f"smoke test of {candidate} passed: {prices}")
        # Nothing live to share with: the split may only sum to 0 or 100, so the first candidate takes it all.
        steps = self.settings.traffic_steps if live is not None else (100,)
        for percent in steps:
            split = traffic_split(candidate, live, percent)
            try:
                self.set_traffic(split, result)
            except Exception as exc:  # Azure ML refused the split: the endpoint keeps its previous one
                self._restore(live, candidate, result)
                raise RolloutFailed(f"traffic {split} was refused: {exc}") from exc
            probes, tolerated = self.settings.probes_at(percent), self.settings.tolerated_failures(percent)
            failures = self.probe(candidate, probes)
            self.log(f"{candidate} at {percent}%: {failures}/{probes} probes failed ({tolerated} tolerated)")
            if failures > tolerated:
                self._restore(live, candidate, result)
                raise RolloutFailed(
                    f"{candidate} at {percent}% failed {failures} of {probes} probes, over the error budget "
                    f"({tolerated} tolerated: {self.settings.error_budget:.0%} of the calls it answers)"
                )
        self.log(f"rollout complete: {candidate} serves 100% with model {ML_MODEL_NAME}:{model.version}")
        return result

    def registered_model(self, pipeline_job: str) -> Any:
        """The version the pipeline's register step created (tagged with its job), so nothing registers twice."""
        versions = [m for m in self.client.models.list(name=ML_MODEL_NAME)
                    if (m.tags or {}).get("pipeline_job") == pipeline_job]
        if not versions:
            raise RolloutFailed(f"pipeline job {pipeline_job} registered no {ML_MODEL_NAME} model; nothing deployed")
        model = max(versions, key=lambda m: int(m.version))
        self.log(f"model {model.name}:{model.version} was registered by pipeline job {pipeline_job}")
        return model

    def ensure_endpoint(self) -> Any:
        try:
            return self.client.online_endpoints.get(self.endpoint_name)
        except ResourceNotFoundError:
            self.log(f"endpoint {self.endpoint_name} does not exist yet; creating it")
            return self.client.online_endpoints.begin_create_or_update(self.build_endpoint()).result()

    def _invoke(self, slot: str | None) -> list[float]:
        """Score the sample rows on one slot, or (slot None) through the endpoint's traffic split."""
        with tempfile.TemporaryDirectory() as folder:
            request = Path(folder) / "request.json"
            request.write_text(json.dumps({"data": list(self.sample_rows)}), encoding="utf-8")
            target = {"deployment_name": slot} if slot else {}
            response = self.client.online_endpoints.invoke(
                endpoint_name=self.endpoint_name, request_file=str(request), **target
            )
        return check_predictions(response, len(self.sample_rows))

    def smoke(self, slot: str) -> list[float]:
        return self._invoke(slot)

    def probe(self, candidate: str, probes: int) -> int:
        """Failed calls through the endpoint's split: what clients see while `candidate` takes its share."""
        failures = 0
        for _ in range(probes):
            try:
                self._invoke(None)
            except Exception as exc:  # any failed call counts against the error budget
                failures += 1
                self.log(f"probe through the endpoint (candidate {candidate}) failed: {exc}")
        return failures

    def set_traffic(self, split: dict[str, int], result: RolloutResult) -> None:
        endpoint = self.client.online_endpoints.get(self.endpoint_name)
        endpoint.traffic = dict(split)
        self.client.online_endpoints.begin_create_or_update(endpoint).result()
        result.traffic_history.append(dict(split))
        self.log(f"traffic: {split}")

    def _restore(self, live: str | None, candidate: str, result: RolloutResult) -> None:
        self.log(f"rolling back: all traffic to {live or 'no slot'}")
        if live is None and not result.traffic_history:
            return  # a first candidate that never took traffic: the endpoint still routes nowhere
        split = {candidate: 0}
        if live is not None:
            split[live] = 100
        self.set_traffic(split, result)
