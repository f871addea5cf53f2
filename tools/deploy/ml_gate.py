"""The promotion gate as the pipeline sees it: read the evaluation's metrics file and stop on a rejection.

The ML project's evaluation decides (it knows the thresholds); this module only reads that decision and
refuses to go on when the file is missing, unreadable or says nothing clear: a rollout never happens by
default. `python -m tools.deploy.ml_gate <metrics.json>` exits 0 to promote, 3 when the gate rejects.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METRIC_NAMES = ("mae", "rmse", "r2")
GATE_REJECTED_EXIT = 3
_PASS_WORDS = {"pass", "passed", "promote", "accept", "accepted", "approve", "approved"}


class GateFileError(Exception):
    """The metrics file cannot be read as an evaluation result; the rollout must not start."""


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reasons: tuple[str, ...]
    candidate: dict[str, float]
    baseline: dict[str, float]

    def summary(self) -> str:
        rows = [f"{'metric':<6} {'candidate':>12} {'baseline':>12}"]
        for metric in METRIC_NAMES:
            rows.append(f"{metric:<6} {self.candidate.get(metric, math.nan):>12.4f} "
                        f"{self.baseline.get(metric, math.nan):>12.4f}")
        verdict = "PROMOTE" if self.passed else "REJECT"
        return "\n".join([*rows, f"gate: {verdict}", *(f"  - {reason}" for reason in self.reasons)])

    def as_tags(self) -> dict[str, str]:
        """Model registry tags, so the registered version carries the numbers that let it through."""
        tags = {f"candidate_{k}": f"{v:.6g}" for k, v in self.candidate.items()}
        tags.update({f"baseline_{k}": f"{v:.6g}" for k, v in self.baseline.items()})
        tags["gate"] = "passed" if self.passed else "rejected"
        return tags


def _metrics(block: Any, which: str, path: Path) -> dict[str, float]:
    if not isinstance(block, dict):
        raise GateFileError(f"{path}: '{which}' metrics are missing")
    values = {}
    for name in METRIC_NAMES:
        value = block.get(name, block.get(name.upper()))
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise GateFileError(f"{path}: {which} metric '{name}' is missing or not a finite number")
        values[name] = float(value)
    return values


def _passed(gate: Any, path: Path) -> tuple[bool, tuple[str, ...]]:
    if isinstance(gate, bool):
        return gate, ()
    if isinstance(gate, str):
        return gate.strip().lower() in _PASS_WORDS, ()
    if isinstance(gate, dict):
        reasons = gate.get("reasons") or gate.get("reason") or ()
        reasons = (reasons,) if isinstance(reasons, str) else tuple(str(r) for r in reasons)
        for key in ("promoted", "passed", "promote", "accepted"):
            if isinstance(gate.get(key), bool):
                return gate[key], reasons
        if isinstance(gate.get("decision"), str):
            return gate["decision"].strip().lower() in _PASS_WORDS, reasons
    raise GateFileError(f"{path}: no gate decision (expected 'gate': {{'promoted': true|false, ...}})")


def read_gate(path: Path) -> GateDecision:
    """Parse the evaluation output (metrics JSON or model_card.json: candidate, baseline, gate)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GateFileError(f"{path}: cannot read the evaluation metrics ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise GateFileError(f"{path}: not valid JSON ({exc.msg})") from exc
    if not isinstance(document, dict):
        raise GateFileError(f"{path}: expected a JSON object")
    metrics = document.get("metrics", document)
    candidate = _metrics(metrics.get("candidate"), "candidate", path)
    baseline = _metrics(metrics.get("baseline"), "baseline", path)
    passed, reasons = _passed(document.get("gate", metrics.get("gate")), path)
    return GateDecision(passed, reasons, candidate, baseline)


def find_metrics(path: Path) -> Path:
    """The metrics file itself, or the first metrics.json / model_card.json under a downloaded folder."""
    if path.is_file():
        return path
    for name in ("model_card.json", "metrics.json"):  # the card carries the gate; metrics.json may not
        matches = sorted(path.rglob(name))
        if matches:
            return matches[0]
    raise GateFileError(f"no metrics.json or model_card.json under {path}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.deploy.ml_gate <metrics.json | evaluation folder>", file=sys.stderr)
        return 2
    try:
        decision = read_gate(find_metrics(Path(args[0])))
    except GateFileError as exc:
        print(f"gate: cannot decide, stopping: {exc}", file=sys.stderr)
        return 2
    print(decision.summary())
    return 0 if decision.passed else GATE_REJECTED_EXIT


if __name__ == "__main__":
    sys.exit(main())
