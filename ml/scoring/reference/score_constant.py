"""The inference server's own ceiling (benchmark reference only): parse the body, return a constant."""

from __future__ import annotations

import json


def init() -> None:
    return None


def run(raw: str) -> list[float]:
    json.loads(raw)
    return [10000.0]
