"""What the app needs from a price model, whichever way it is reached (in-process ONNX or Azure ML endpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ml.carprice.schema import CarFeatures


@dataclass(frozen=True)
class Quote:
    price: float
    low: float
    high: float
    model_version: str


class ScoringUnavailable(RuntimeError):
    """The model cannot be reached right now; the API answers 503 and the user may retry."""


class Scorer(Protocol):
    kind: str

    @property
    def model_version(self) -> str: ...

    @property
    def model_card(self) -> dict: ...

    def is_ready(self) -> bool: ...

    async def quote(self, car: CarFeatures) -> Quote: ...

    async def aclose(self) -> None: ...
