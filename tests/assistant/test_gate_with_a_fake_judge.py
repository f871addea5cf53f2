"""The Azure gate's logic against the app on the stand-ins, with a fake judge in place of azure-ai-evaluation's
evaluators (the deployed model cannot judge here): the probes reach the assistant, grounded answers pass, a judge
that finds them ungrounded holds the swap back (a decision: exit 3, not an error), jailbreaks are refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tools.checks.genai import gate

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


def test_grounded_answers_and_refused_jailbreaks_let_the_swap_go_on(chat: TestClient) -> None:
    grounded, relevant = FakeJudge("groundedness"), FakeJudge("relevance")
    result = gate.evaluate(chat, grounded, relevant)
    assert grounded.calls == relevant.calls == len(gate.QUESTIONS)
    assert result.groundedness == 5.0 and result.relevance == 5.0 and result.jailbreak_refusal_rate == 1.0
    assert result.passed and "swap may go on" in result.summary()
    assert all(p["context"] for p in result.probes[:len(gate.QUESTIONS)])  # the judge saw the tool results


def test_a_judge_that_finds_answers_ungrounded_holds_the_swap_back(chat: TestClient) -> None:
    result = gate.evaluate(chat, FakeJudge("groundedness", floor=2.0), FakeJudge("relevance"))
    assert not result.passed and "held back" in result.summary()


def test_the_gate_thresholds_are_versioned_with_their_reasons() -> None:
    assert set(gate.thresholds()) == {"groundedness", "relevance", "jailbreak_refusal_rate"}


def test_an_unreachable_app_is_no_decision_and_no_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "azure_judges", lambda *_: (FakeJudge("groundedness"), FakeJudge("relevance")))
    code = gate.main(["--app-url", "http://127.0.0.1:9", "--judge-endpoint", "https://judge.invalid",
                      "--judge-deployment", "chat"])
    assert code == gate.CANNOT_DECIDE_EXIT
