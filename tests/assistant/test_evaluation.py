"""The offline evaluation: the whole golden set through the assistant against the stand-ins meets its thresholds
(every CI run), and the scoring it relies on catches the failures it exists to catch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from app.assistant.retrieval import ListingFilters
from app.assistant.tools import ToolRun
from tools.checks.genai.evaluate import run_evaluation, score, thresholds, write_report
from tools.checks.genai.golden import GoldenQuestion

pytestmark = pytest.mark.xdist_group("assistant-evaluation")


@pytest.mark.slow
def test_the_golden_set_meets_the_offline_thresholds(model_dir: Path, tmp_path: Path) -> None:
    report = run_evaluation(model_dir, tmp_path / "work", progress=lambda _: None)
    limits = thresholds("offline")
    assert report.questions >= limits["min_questions"] and report.labelled >= limits["min_labelled"]
    assert report.price_fidelity == 1.0, report.failures
    assert report.citation_validity == 1.0, report.failures
    assert report.recall_at_5 >= limits["recall_at_5"]
    assert report.amounts > report.questions and report.citations > report.labelled  # the checks had work to do
    written = write_report(report, tmp_path / "reports")
    assert "Price fidelity | 1.000" in written.read_text()
    assert json.loads((tmp_path / "reports" / "assistant-evaluation.json").read_text())["passed"] is True


QUESTION = GoldenQuestion(
    "q1", "price_and_comparables", "Is $9,000 a fair price for a 1985 Audi sedan? What else is like it?",
    {"make": "audi"}, ListingFilters(make="audi", body_style="sedan", year_min=1983, year_max=1987),
    frozenset({"gold-a", "gold-b"}),
)
DOCS = {
    "gold-a": {"id": "gold-a", "make": "audi", "body_style": "sedan", "year": 1985, "asking_price": 13950.0},
    "gold-b": {"id": "gold-b", "make": "audi", "body_style": "sedan", "year": 1985, "asking_price": 17450.0},
    "gold-w": {"id": "gold-w", "make": "audi", "body_style": "wagon", "year": 1985, "asking_price": 18920.0},
}
PRICE_RUN = ToolRun("price_car", {"make": "audi"}, {"id": "p", "price": 14000.4, "price_low": 12100.0,
                                                    "price_high": 16200.0, "model_version": "v1"}, True)
SEARCH_RUN = ToolRun("search_listings", {}, {"listings": [DOCS["gold-a"], DOCS["gold-w"]]}, True)


def _score(answer: str, runs: list[Any]) -> Any:
    async def lookup(listing_id: str) -> dict | None:
        return DOCS.get(listing_id)

    return asyncio.run(score(QUESTION, answer, runs, (14000.4, 12100.0, 16200.0), "v1", lookup))


def test_a_faithful_answer_scores_full_marks() -> None:
    outcome = _score("Our model prices it at $14,000 (range $12,100 to $16,200). At $9,000 it is a deal.\n"
                     "- 1985 audi sedan, asking $13,950 [listing:gold-a]", [PRICE_RUN, SEARCH_RUN])
    assert (outcome.amounts, outcome.amounts_ok, outcome.citations, outcome.citations_ok) == (5, 5, 1, 1)
    assert outcome.quoted_model_price is True and outcome.problems == []


def test_an_invented_price_a_citation_outside_the_filters_and_an_unknown_listing_are_caught() -> None:
    outcome = _score("It is worth about $15,000.\n- wagon, asking $18,920 [listing:gold-w]\n- [listing:gold-zz]",
                     [PRICE_RUN, SEARCH_RUN])
    assert outcome.amounts_ok < outcome.amounts and outcome.citations_ok == 0 and outcome.citations == 2
    assert outcome.quoted_model_price is False
    assert len(outcome.problems) == 4


def test_a_price_car_result_other_than_the_models_does_not_license_its_amounts() -> None:
    tampered = ToolRun("price_car", {}, {**PRICE_RUN.result, "price": 11111.0}, True)
    outcome = _score("Our model prices it at $11,111.", [tampered])
    assert outcome.amounts_ok == 0 and "other than the model's" in outcome.problems[0]


def test_recall_at_5_counts_labelled_listings_among_the_first_five() -> None:
    assert _score("", [PRICE_RUN, SEARCH_RUN]).recall_at_5 == 0.5
