"""Price rows with the exported ONNX model. Used in-process by the web app, by score.py inside Azure ML's
inference server and by batch scoring, so it imports only numpy, onnxruntime, pydantic and the declaration.

The model card carries the data set's declaration: a loaded Pricer validates rows with the row model its
model was trained on (`parse_row`), encodes them in Python (ml/carprice/features.py, state from the card)
into one float row each, and runs the ONNX graph (only the models) on that tensor."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from pydantic import BaseModel

from ml.carprice.dataset import RowError, from_card
from ml.carprice.features import Encoding, encode_row

ONNX_FILE = "model.onnx"
CARD_FILE = "model_card.json"


@dataclass(frozen=True)
class Quote:
    """A car's price, the plausible range around it, and the model version that gave them."""

    price: float
    low: float
    high: float
    model_version: str


class Pricer:
    """A loaded model: `predict` validates nothing (`parse_row` already did) and never returns NaN."""

    def __init__(self, session: ort.InferenceSession, card: dict[str, Any]) -> None:
        self._session = session
        self.card = card
        self.model_version: str = str(card["model_version"])
        interval = card["price_interval"]
        self._ratio_low = float(interval["ratio_low"])
        self._ratio_high = float(interval["ratio_high"])
        onnx_card = card["onnx"]
        self.dataset = from_card(card["dataset"])
        self.parse_row: Callable[[Any], BaseModel | list[RowError]] = self.dataset.parse_row
        self._encoding = Encoding.from_dict(onnx_card["encoding"], self.dataset)
        self._input = str(onnx_card["input"])
        self._output = [str(onnx_card["output"])]

    @classmethod
    def load(cls, model_dir: Path) -> Pricer:
        model_dir = Path(model_dir)
        card = json.loads((model_dir / CARD_FILE).read_text())
        options = ort.SessionOptions()
        # One scoring request is tiny: more threads only add hand-off cost (and fight the web workers).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(model_dir / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        return cls(session, card)

    def encode(self, cars: Sequence[BaseModel]) -> np.ndarray:
        """The ONNX input: one float32 row per row (the same floats the scikit-learn pipeline computes)."""
        encoding = self._encoding
        return np.array([encode_row(car, encoding) for car in cars], dtype=np.float32)

    def predict_raw(self, cars: Sequence[BaseModel]) -> np.ndarray:
        """Model prices as a float array (no rounding, no interval)."""
        if not cars:
            return np.zeros(0)
        (prices,) = self._session.run(self._output, {self._input: self.encode(cars)})
        return np.asarray(prices, dtype=np.float64).reshape(-1)

    def predict(self, cars: Sequence[BaseModel]) -> list[Quote]:
        if not cars:
            return []
        (prices,) = self._session.run(self._output, {self._input: self.encode(cars)})
        ratio_low, ratio_high, version = self._ratio_low, self._ratio_high, self.model_version
        out = []
        for value in prices.ravel().tolist():  # Python floats: cheaper than numpy scalars for a few rows
            # The model ends in exp(), so a finite input gives a positive price; guard anyway (NaN fails too).
            if not 0.0 < value < math.inf:
                value = 1.0
            out.append(Quote(round(value), round(min(value * ratio_low, value)),
                             round(max(value * ratio_high, value)), version))
        return out
