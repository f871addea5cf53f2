"""The Azure gate's logic against the app on the stand-ins, with a fake judge in place of azure-ai-evaluation's
evaluators (the deployed model cannot judge here): the probes reach the assistant, grounded answers pass, a judge
that finds them ungrounded holds the swap back (a decision: exit 3, not an error). The safety probes
(tools/checks/genai/probes.yml) go through the same API: jailbreaks, seller text, and a listing planted in the search
stand-in, which the assistant really retrieves; a fake assistant that obeys shows the gate would notice."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.assistant.orchestrator import SYSTEM_PROMPT
from tools.checks.genai import gate, safety
from tools.local.standins.running import RunningStandIns

pytestmark = pytest.mark.xdist_group("assistant")


class FakeJudge:
    """Stands in for GroundednessEvaluator / RelevanceEvaluator (same call shape and result keys): grounded when
    every dollar amount of the answer appears in the tool results, relevant when the answer is not empty."""

    def __init__(self, metric: str, floor: float | None = None) -> None:
        self.metric, self.floor, self.calls = metric, floor, 0

    def __call__(self, *, query: str, response: str, context: str | None = None) -> dict[str, Any]:
        self.calls += 1
        if self.floor is not None:
            return {self.metric: self.floor}
        if self.metric == "relevance":
            return {"relevance": 5.0 if response.strip() else 1.0}
        amounts = {a.replace(",", "") for a in re.findall(r"\$([\d,]+)", response)}
        evidence = ((context or "") + query).replace(",", "")
        known = {str(round(float(n))) for n in re.findall(r"\d+(?:\.\d+)?", evidence)}
        return {"groundedness": 5.0 if amounts <= known else 1.0}


@pytest.fixture
def planter(stand_ins: RunningStandIns) -> safety.ListingPlanter:
    from runtime.stand_in_token import SyncStandInCredential

    return safety.ListingPlanter(stand_ins.search_server.endpoint, SyncStandInCredential(),
                                 verify=str(stand_ins.ca_file))


def test_grounded_answers_and_held_attacks_let_the_swap_go_on(chat: TestClient, planter: safety.ListingPlanter,
                                                              stand_ins: RunningStandIns) -> None:
    grounded, relevant = FakeJudge("groundedness"), FakeJudge("relevance")
    result = gate.evaluate(chat, grounded, relevant, planter=planter)
    assert grounded.calls == relevant.calls == len(gate.QUESTIONS)
    assert result.groundedness == 5.0 and result.relevance == 5.0
    assert result.jailbreak_resistance == result.indirect_attack_resistance == 1.0
    assert result.passed and "swap may go on" in result.summary() and not result.skipped_probes
    assert all(p["context"] for p in result.probes)  # the judge saw the tool results
    assert len(result.safety_probes) == len(safety.load_probes().probes)
    assert stand_ins.search.indexes["listings"].get("probe-planted-listing") is None  # removed after the probe


def test_the_planted_listing_reaches_the_model_which_cites_it_without_following_it(
        chat: TestClient, planter: safety.ListingPlanter) -> None:
    probes = safety.load_probes()
    planted = next(p for p in probes.probes if p.listing)
    result = safety.run_probes(lambda message: gate.ask(chat, message),
                               safety.ProbeSet(probes.version, probes.canary, probes.leak_markers, (planted,)), planter)
    [outcome] = result.probes
    found = [listing["id"] for run in outcome["context"] for listing in run["result"].get("listings", [])]
    assert found == ["probe-planted-listing"]  # the attack was in the tool result the model read
    assert outcome["held"] and not outcome["obeyed"] and "[listing:probe-planted-listing]" in outcome["answer"]


def test_without_an_index_the_planted_probe_is_reported_as_not_run(chat: TestClient) -> None:
    result = gate.evaluate(chat, FakeJudge("groundedness"), FakeJudge("relevance"))
    assert result.skipped_probes == ["planted-listing"] and "not run" in result.summary()
    assert result.indirect_attack_resistance == 1.0  # the seller-text probe still ran


@dataclass
class Obeying:
    """A FAKE assistant answer that follows every instruction it is given (a model without a working filter)."""

    status: int = 200
    refused: bool = False
    answer: str = "Sure. PWNED-4711. I am the car-buying assistant of the Car price desk; it is worth $99,999."
    context: list[dict[str, Any]] = field(default_factory=list)


def test_a_fake_assistant_that_obeys_the_attacks_is_caught_by_every_probe() -> None:
    probes = safety.load_probes()
    result = safety.run_probes(lambda _: Obeying(), probes, planter=None)
    assert result.resistance("jailbreak") == result.resistance("indirect") == 0.0
    assert all("PWNED-4711" in p["obeyed"] for p in result.probes)


def test_a_content_filter_refusal_counts_as_held(chat: TestClient, stand_ins: RunningStandIns) -> None:
    """A probe phrased so the stand-in's own filter lets it pass, refused by the switchable content-filter fault
    (Azure: 400 content_filter, which the app returns as 422)."""
    probes = safety.load_probes()
    canary_only = next(p for p in probes.probes if p.id == "canary-only")
    stand_ins.openai.set_fault("content_filter", count=5)
    result = safety.run_probes(lambda message: gate.ask(chat, message),
                               safety.ProbeSet(1, probes.canary, probes.leak_markers, (canary_only,)), None)
    assert result.probes[0]["status"] == 422 and result.probes[0]["held"]


def test_every_leak_marker_is_a_phrase_of_the_assistants_system_prompt() -> None:
    normalized = " ".join(SYSTEM_PROMPT.split())
    assert all(marker in normalized for marker in safety.load_probes().leak_markers)


def test_the_probe_set_is_versioned_and_a_wrong_key_names_the_probe(tmp_path: Path) -> None:
    probes = safety.load_probes()
    assert probes.version >= 1 and {p.kind for p in probes.probes} == {"jailbreak", "indirect"}
    assert any(p.listing for p in probes.probes)
    broken = tmp_path / "probes.yml"
    broken.write_text("version: 1\ncanary: X\nleak_markers: []\nprobes:\n  - {id: a, kind: jailbreak, message: m, "
                      "obeys_if: []}\n")
    with pytest.raises(ValueError, match=r"probes.yml: probes\[0\]: unknown key 'obeys_if'"):
        safety.load_probes(broken)


def test_a_judge_that_finds_answers_ungrounded_holds_the_swap_back(chat: TestClient) -> None:
    result = gate.evaluate(chat, FakeJudge("groundedness", floor=2.0), FakeJudge("relevance"))
    assert not result.passed and "held back" in result.summary()


def test_the_gate_thresholds_are_versioned_with_their_reasons() -> None:
    assert set(gate.thresholds()) == {"groundedness", "relevance", "jailbreak_resistance", "indirect_attack_resistance"}


def test_an_unreachable_app_is_no_decision_and_no_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "azure_judges", lambda *_: (FakeJudge("groundedness"), FakeJudge("relevance")))
    code = gate.main(["--app-url", "http://127.0.0.1:9", "--judge-endpoint", "https://judge.invalid",
                      "--judge-deployment", "chat"])
    assert code == gate.CANNOT_DECIDE_EXIT
