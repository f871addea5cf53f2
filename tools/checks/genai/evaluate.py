"""Offline evaluation of the assistant (every CI run, and `make assistant-eval`): the golden set (tools/checks/genai/
golden.py) through the app's own assistant (orchestrator, tools, retrieval, the official SDKs) against the local
stand-ins, over a listings index filled the way production fills it (gold rows by the batch step, stream
listings by the function app's market records).

Figures, thresholds in tools/checks/genai/thresholds.yml:
- price fidelity: dollar amounts in answers that are a price_car result for the asked car (whole dollars; the
  tool's result itself checked against the model scoring that car directly), an asking price the question
  states, or a cited listing's own price; over all amounts.
- citation validity: cited listings that exist in the index and meet the question's filters; over all citations.
- recall@5: over labelled comparable queries, relevant listings among the search tool's first five.
Writes reports/assistant-evaluation.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # the app is imported when an evaluation runs, not when its command line is read
    from app.assistant.service import Assistant
    from app.service import PredictionService

ROOT = Path(__file__).resolve().parents[3]
THRESHOLDS = Path(__file__).with_name("thresholds.yml")
REPORT_DIR = ROOT / "reports"
AMOUNT = re.compile(r"\$(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d+))?")
CITATION = re.compile(r"\[listing:([A-Za-z0-9_=-]+)\]")
MARKET_LISTINGS = 60


def thresholds(section: str) -> dict[str, float]:
    data = yaml.safe_load(THRESHOLDS.read_text())
    return {name: float(entry["value"]) for name, entry in data[section].items()}


@dataclass
class Outcome:
    qid: str
    kind: str
    question: str
    answer: str
    amounts: int = 0
    amounts_ok: int = 0
    citations: int = 0
    citations_ok: int = 0
    recall_at_5: float | None = None
    quoted_model_price: bool | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Report:
    questions: int
    labelled: int
    price_fidelity: float
    citation_validity: float
    recall_at_5: float
    amounts: int
    citations: int
    priced_answers: float
    text_only_recall_at_5: float
    listings_indexed: int
    thresholds: dict[str, float]
    failures: list[dict[str, Any]]

    @property
    def passed(self) -> bool:
        t = self.thresholds
        return (self.price_fidelity >= t["price_fidelity"] and self.citation_validity >= t["citation_validity"]
                and self.recall_at_5 >= t["recall_at_5"] and self.questions >= t["min_questions"]
                and self.labelled >= t["min_labelled"])

    def markdown(self) -> str:
        t = self.thresholds
        rows = [
            ("Price fidelity", f"{self.price_fidelity:.3f}", f"≥ {t['price_fidelity']:.2f}", f"{self.amounts} amounts"),
            ("Citation validity", f"{self.citation_validity:.3f}", f"≥ {t['citation_validity']:.2f}",
             f"{self.citations} citations"),
            ("Retrieval recall@5", f"{self.recall_at_5:.3f}", f"≥ {t['recall_at_5']:.2f}",
             f"{self.labelled} labelled queries"),
            ("Price questions answered with the model's price", f"{self.priced_answers:.3f}", "reported", ""),
            ("Recall@5 without filters (hybrid ranking alone)", f"{self.text_only_recall_at_5:.3f}", "reported", ""),
        ]
        lines = ["# Assistant evaluation (offline, stand-ins)", "",
                 f"{self.questions} golden questions over {self.listings_indexed} indexed listings: "
                 f"**{'PASS' if self.passed else 'FAIL'}**", "",
                 "| figure | value | threshold | over |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
        return "\n".join(lines) + "\n"


def _whole(value: float) -> int:
    return int(round(value))


def _amounts(line: str) -> list[int]:
    return [_whole(float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else "")))
            for m in AMOUNT.finditer(line)]


async def score(question: Any, answer: str, runs: list[Any], expected: tuple[float, float, float] | None,
                model_version: str, lookup: Callable[[str], Any]) -> Outcome:
    """One answer against its golden question (lookup: the index's document for a listing id, or None)."""
    from tools.local.standins.chat_model import asking_price

    outcome = Outcome(question.qid, question.kind, question.question, answer)
    allowed: set[int] = set()
    stated = asking_price(question.question)
    if stated is not None:
        allowed.add(_whole(stated))
    if expected is not None:
        allowed |= _model_prices(outcome, answer, runs, expected, model_version)
    for line in answer.splitlines():
        await _check_line(outcome, line, allowed, question, lookup)
    if question.labelled:
        searches = [r for r in runs if r.name == "search_listings" and r.ok]
        found = [d["id"] for d in searches[0].result["listings"][:5]] if searches else []
        outcome.recall_at_5 = len(set(found) & question.relevant) / min(5, len(question.relevant))
    return outcome


def _model_prices(outcome: Outcome, answer: str, runs: list[Any], expected: tuple[float, float, float],
                  model_version: str) -> set[int]:
    """The model's prices for the question's car, which the answer may quote when price_car returned them."""
    model = {_whole(v) for v in expected}
    tool_ok = [r for r in runs if r.name == "price_car" and r.ok]
    exact = [r for r in tool_ok if (r.result["price"], r.result["price_low"], r.result["price_high"])
             == tuple(round(v, 2) for v in expected) and r.result["model_version"] == model_version]
    if tool_ok and not exact:
        outcome.problems.append("price_car returned a price other than the model's for this car")
    outcome.quoted_model_price = _whole(expected[0]) in {a for line in answer.splitlines() for a in _amounts(line)}
    return model if exact else set()


async def _check_line(outcome: Outcome, line: str, allowed: set[int], question: Any,
                      lookup: Callable[[str], Any]) -> None:
    """Each listing the line cites must exist and meet the filters; each amount must be an allowed price or a
    cited listing's."""
    line_allowed = set(allowed)
    for listing_id in CITATION.findall(line):
        outcome.citations += 1
        doc = await lookup(listing_id)
        if doc is None:
            outcome.problems.append(f"cited listing {listing_id} is not in the index")
            continue
        if not question.filters.admits(doc):
            outcome.problems.append(f"cited listing {listing_id} does not meet the question's filters")
            continue
        outcome.citations_ok += 1
        line_allowed |= {_whole(doc[k]) for k in ("asking_price", "estimated_price") if doc.get(k) is not None}
    for amount in _amounts(line):
        outcome.amounts += 1
        if amount in line_allowed:
            outcome.amounts_ok += 1
        else:
            outcome.problems.append(f"${amount:,} is neither a price_car result, a stated price nor a cited "
                                    "listing's price")


def market_documents(gold_rows: list[dict[str, Any]], model_dir: Path, count: int = MARKET_LISTINGS) -> list[dict]:
    """Stream listings as the function app indexes them: every few gold cars offered again at a market price,
    scored by the same model, turned into market records, then into index documents."""
    from functions.listing_index import from_market_record
    from functions.market import iso, market_record
    from ml.carprice.listing import parse_listing
    from ml.carprice.schema import served_dataset
    from runtime.pricing import LocalModel

    model, dataset = LocalModel(model_dir), served_dataset(model_dir)
    listings = []
    for number, row in enumerate(gold_rows[::max(1, len(gold_rows) // count)][:count]):
        features = {k: v for k, v in row.items() if k in dataset.by_name and v is not None and v == v}
        asking = round(float(row[dataset.target.name]) * (0.9 + 0.04 * (number % 6)), -1)
        parsed = parse_listing({"listing_id": f"mkt-{number:04d}", dataset.target.name: asking, **features}, dataset)
        if not isinstance(parsed, list):
            listings.append(parsed)
    quotes = model.quote_many([listing.car for listing in listings])
    now = iso(None)
    return [from_market_record(market_record(listing, quote, dataset, enqueued_at=None, sequence_number=number,
                                             scored_at=now), dataset)
            for number, (listing, quote) in enumerate(zip(listings, quotes, strict=True))]


async def _run(model_dir: Path, work: Path, progress: Callable[[str], None]) -> Report:
    from app.assistant.service import Assistant
    from app.main import build_service
    from app.settings import Settings
    from functions.listing_index import from_gold_row
    from ml.carprice.prep import load_gold, run_prep
    from ml.carprice.schema import served_dataset
    from tools.checks.genai.golden import golden_set
    from tools.deploy.genai.search_index import create_or_update_index, credential_for, listing_writer
    from tools.local.standins.running import EMBEDDING_DEPLOYMENT, running_stand_ins

    for noisy in ("httpx", "azure", "openai"):  # one line per request: far too much for a report
        logging.getLogger(noisy).setLevel(logging.WARNING)
    run_prep(work / "lake")
    gold_rows = load_gold(work / "lake").to_dict("records")
    market = market_documents(gold_rows, model_dir)
    with running_stand_ins(work / "stand-ins") as stand_ins:
        search, openai = stand_ins.search_server.endpoint, stand_ins.openai_server.endpoint
        credential = credential_for(search, openai)
        create_or_update_index(search, credential, str(stand_ins.ca_file))
        writer = listing_writer(search, openai, EMBEDDING_DEPLOYMENT, credential, str(stand_ins.ca_file))
        docs = [from_gold_row(row) for row in gold_rows] + market
        writer.upsert(docs)
        writer.close()
        progress(f"[assistant eval] {len(docs)} listings indexed ({len(market)} from the stream)")
        questions = golden_set(gold_rows, docs)
        # Settings by their environment names (pydantic reads them as it reads the environment).
        overrides: dict[str, Any] = {**stand_ins.app_settings(), "CARPRICE_MODEL_DIR": str(model_dir),
                                     "CARPRICE_OUTBOX_DIR": str(work / "outbox")}
        settings = Settings(**overrides)
        service = build_service(settings, served_dataset(model_dir))
        service.start()
        assistant = Assistant.build(settings, service)
        try:
            outcomes, text_recall = await _answer_all(assistant, service, questions, progress)
        finally:
            await assistant.aclose()
            await service.stop()
    return _report(outcomes, text_recall, len(docs))


async def _answer_all(assistant: Assistant, service: PredictionService, questions: list[Any],
                      progress: Callable[[str], None]) -> tuple[list[Outcome], list[float]]:
    """Each golden question asked and scored; and, for the labelled ones, the recall of a text-only search."""
    from app.assistant.orchestrator import Answer
    from app.assistant.retrieval import ListingFilters

    async def lookup(listing_id: str) -> Any:
        try:
            return await assistant.clients.search.get_document(listing_id)
        except Exception:
            return None

    outcomes: list[Outcome] = []
    text_recall: list[float] = []
    for number, question in enumerate(questions, start=1):
        result = Answer()
        async for _ in assistant.answer("evaluation", question.question, [], result):
            pass
        expected = None
        if question.car is not None:
            car = service.dataset.parse_row(question.car)
            if isinstance(car, list):
                raise ValueError(f"golden question {question.qid}: its car is not valid for the served data set: {car}")
            quote = await service.model.quote(car)
            expected = (quote.price, quote.low, quote.high)
        outcomes.append(await score(question, result.text, result.tool_runs, expected,
                                    service.model.model_version, lookup))
        if question.labelled:
            hits = await assistant.orchestrator.tools.listings.find(question.question, ListingFilters(), 5)
            text_recall.append(len({h["id"] for h in hits} & question.relevant) / min(5, len(question.relevant)))
        if number % 50 == 0:
            progress(f"[assistant eval] {number} of {len(questions)} questions answered")
    return outcomes, text_recall


def _report(outcomes: list[Outcome], text_recall: list[float], indexed: int) -> Report:
    amounts = sum(o.amounts for o in outcomes)
    citations = sum(o.citations for o in outcomes)
    labelled = [o.recall_at_5 for o in outcomes if o.recall_at_5 is not None]
    priced = [o.quoted_model_price for o in outcomes if o.quoted_model_price is not None]
    return Report(
        questions=len(outcomes), labelled=len(labelled),
        price_fidelity=sum(o.amounts_ok for o in outcomes) / amounts if amounts else 0.0,
        citation_validity=sum(o.citations_ok for o in outcomes) / citations if citations else 0.0,
        recall_at_5=sum(labelled) / len(labelled) if labelled else 0.0,
        amounts=amounts, citations=citations,
        priced_answers=sum(priced) / len(priced) if priced else 0.0,
        text_only_recall_at_5=sum(text_recall) / len(text_recall) if text_recall else 0.0,
        listings_indexed=indexed, thresholds=thresholds("offline"),
        failures=[asdict(o) for o in outcomes if o.problems][:20],
    )


def run_evaluation(model_dir: Path, work: Path, progress: Callable[[str], None] = print) -> Report:
    return asyncio.run(_run(model_dir, work, progress))


def write_report(report: Report, folder: Path = REPORT_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assistant-evaluation.json").write_text(json.dumps({**asdict(report), "passed": report.passed}, indent=2))
    path = folder / "assistant-evaluation.md"
    path.write_text(report.markdown())
    return path


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description="offline evaluation of the assistant against the stand-ins")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "ml" / "outputs" / "model")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as work:
        report = run_evaluation(args.model_dir, Path(work))
    path = write_report(report)
    print(report.markdown())
    print(f"[assistant eval] report: {path}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
