"""The assistant's gate in Azure, before the app swap: probe questions to the staging slot's assistant, judged by
azure-ai-evaluation's GroundednessEvaluator and RelevanceEvaluator (the deployed chat model as judge, Entra token),
plus the versioned safety probes of tools/checks/genai/probes.yml (safety.py): jailbreaks, and indirect
prompt injections in seller text and in a listing planted in the index, which must be refused or not followed.

    python -m tools.checks.genai.gate --app-url https://<app>-staging.azurewebsites.net \\
        --judge-endpoint https://<account>.openai.azure.com --judge-deployment <chat deployment> \\
        [--search-endpoint https://<service>.search.windows.net]   # plants the probe listing; skipped without

Thresholds: tools/checks/genai/thresholds.yml (`azure`). As with the ML gate, a miss is a decision, not an error: exit 3
holds the swap back with a warning (the pipeline step reports it and skips the swap), 0 lets it go on, 2 means the
gate could not decide (app unreachable, judge failing): the swap does not happen by default.
azure-ai-evaluation needs pandas < 3, which the project's own environment does not allow, so the pipeline runs
this step from its own environment (tools/checks/genai/requirements-gate.txt).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tools.checks.genai.safety import ListingPlanter, ProbeSet, load_probes, run_probes

THRESHOLDS = Path(__file__).with_name("thresholds.yml")
GATE_HELD_EXIT, CANNOT_DECIDE_EXIT = 3, 2
QUESTIONS = (
    "Is $14,500 a fair price for a 1985 BMW sedan with two doors? Details: fuel type gas, aspiration std, drive "
    "wheels rwd, engine size 164, curb weight 2710, city mpg 21, highway mpg 28, horsepower 121. What else is on "
    "the market like it?",
    "What is a 1985 Toyota hatchback with two doors worth? Details: fuel type gas, aspiration std, drive wheels "
    "fwd, engine size 92, curb weight 2015, city mpg 31, highway mpg 38, horsepower 62.",
    "Show me Volvo sedan listings from 1983 to 1987 under $20,000.",
)


def thresholds() -> dict[str, float]:
    return {k: float(v["value"]) for k, v in yaml.safe_load(THRESHOLDS.read_text())["azure"].items()}


@dataclass
class Probe:
    question: str
    status: int
    answer: str = ""
    context: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False


def ask(client: httpx.Client, question: str) -> Probe:
    """One question to the app's assistant API, read to the end of its stream."""
    with client.stream("POST", "/api/assistant/messages", json={"message": question}, timeout=120) as response:
        if response.status_code != 200:
            response.read()
            reason = ""
            with contextlib.suppress(ValueError, KeyError, IndexError):
                reason = response.json()["errors"][0]["reason"]
            return Probe(question, response.status_code, refused=reason == "content_filter")
        probe = Probe(question, 200)
        for line in response.iter_lines():
            if not line:
                continue
            event = json.loads(line)
            if event["type"] == "delta":
                probe.answer += event["text"]
            elif event["type"] == "tool" and "result" in event:
                probe.context.append({"tool": event["name"], "result": event["result"]})
            elif event["type"] == "refused":
                probe.refused = True
        return probe


Judge = Callable[..., dict[str, Any]]


def azure_credential() -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def azure_judges(endpoint: str, deployment: str, credential: Any) -> tuple[Judge, Judge]:
    """azure-ai-evaluation's evaluators, judged by the deployed chat model with an Entra token (no key)."""
    from azure.ai.evaluation import AzureOpenAIModelConfiguration, GroundednessEvaluator, RelevanceEvaluator

    config = AzureOpenAIModelConfiguration(azure_endpoint=endpoint, azure_deployment=deployment)
    return GroundednessEvaluator(config, credential=credential), RelevanceEvaluator(config, credential=credential)


@dataclass
class GateResult:
    groundedness: float
    relevance: float
    jailbreak_resistance: float
    indirect_attack_resistance: float
    thresholds: dict[str, float]
    probes: list[dict[str, Any]]
    safety_probes: list[dict[str, Any]] = field(default_factory=list)
    probe_set_version: int = 0
    skipped_probes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(getattr(self, name) >= value for name, value in self.thresholds.items())

    def summary(self) -> str:
        rows = [f"  {name:<24} {getattr(self, name):.2f}  (threshold {value:.2f})"
                for name, value in self.thresholds.items()]
        if self.skipped_probes:
            rows.append(f"  safety probes not run (no index to plant into): {', '.join(self.skipped_probes)}")
        verdict = "swap may go on" if self.passed else "WARNING: below threshold, the swap is held back"
        return (f"assistant gate (safety probe set v{self.probe_set_version}):\n" + "\n".join(rows)
                + f"\n  -> {verdict}")


def evaluate(client: httpx.Client, groundedness: Judge, relevance: Judge, probes: ProbeSet | None = None,
             planter: ListingPlanter | None = None) -> GateResult:
    grounded, relevant, answered = [], [], []
    for question in QUESTIONS:
        probe = ask(client, question)
        if probe.status != 200 or not probe.answer:
            raise RuntimeError(f"the assistant did not answer a probe (HTTP {probe.status}): {question[:60]}")
        context = json.dumps(probe.context)
        grounded.append(float(groundedness(query=question, response=probe.answer, context=context)["groundedness"]))
        relevant.append(float(relevance(query=question, response=probe.answer)["relevance"]))
        answered.append(asdict(probe))
    safety = run_probes(lambda message: ask(client, message), probes or load_probes(), planter)
    return GateResult(sum(grounded) / len(grounded), sum(relevant) / len(relevant), safety.resistance("jailbreak"),
                      safety.resistance("indirect"), thresholds(), answered, safety.probes, safety.version,
                      safety.skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the assistant's evaluation gate (before the app swap)")
    parser.add_argument("--app-url", required=True)
    parser.add_argument("--judge-endpoint", required=True)
    parser.add_argument("--judge-deployment", required=True)
    parser.add_argument("--search-endpoint", default="", help="the listings index to plant the probe listing in")
    parser.add_argument("--report", type=Path, default=Path("reports/assistant-gate.json"))
    args = parser.parse_args(argv)
    try:
        credential = azure_credential()
        judges = azure_judges(args.judge_endpoint, args.judge_deployment, credential)
        planter = ListingPlanter(args.search_endpoint, credential) if args.search_endpoint else None
        with httpx.Client(base_url=args.app_url) as client:
            result = evaluate(client, *judges, planter=planter)
    except Exception as exc:  # unreachable app or judge: no decision, so no swap
        print(f"assistant gate: cannot decide, stopping: {type(exc).__name__}: {exc}", file=sys.stderr)
        return CANNOT_DECIDE_EXIT
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({**asdict(result), "passed": result.passed}, indent=2))
    print(result.summary())
    if not result.passed:
        print("##vso[task.logissue type=warning]assistant gate: below threshold; the app swap is held back")
    return 0 if result.passed else GATE_HELD_EXIT


if __name__ == "__main__":
    sys.exit(main())
