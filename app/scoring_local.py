"""Scoring in-process with the ONNX model the ML project exported (the default; no network hop)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.scoring import Quote
from ml.carprice.pricer import Pricer
from ml.carprice.schema import CarFeatures


@dataclass
class LocalScorer:
    pricer: Pricer
    kind: str = "local"

    @classmethod
    def load(cls, model_dir: Path) -> LocalScorer:
        if not (Path(model_dir) / "model.onnx").is_file():
            raise FileNotFoundError(
                f"no model at {model_dir}: run `make train` (or set CARPRICE_MODEL_DIR to a model directory)"
            )
        return cls(Pricer.load(Path(model_dir)))

    @property
    def model_version(self) -> str:
        return self.pricer.model_version

    @property
    def model_card(self) -> dict:
        return self.pricer.card

    def is_ready(self) -> bool:
        return True

    async def quote(self, car: CarFeatures) -> Quote:
        # One ONNX run for one row takes well under a millisecond: cheaper inline than a thread hop.
        priced = self.pricer.predict([car])[0]
        return Quote(price=priced.price, low=priced.low, high=priced.high, model_version=self.model_version)

    async def aclose(self) -> None:
        return None
