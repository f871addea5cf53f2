"""Price cars with the exported ONNX model. Used in-process by the web app, by score.py inside Azure ML's
inference server and by batch scoring, so it imports only numpy, onnxruntime, pydantic and the schema.

A car is encoded in Python (ml/carprice/features.py, state from the model card) into one float row;
the ONNX graph is only the trees and the ridge on that tensor, which keeps a single-row call cheap."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ml.carprice.features import Encoding, encode_row
from ml.carprice.schema import CarFeatures

ONNX_FILE = "model.onnx"
CARD_FILE = "model_card.json"


@dataclass(frozen=True)
class PricedCar:
    price: float
    low: float
    high: float


class Pricer:
    """A loaded model: `predict` validates nothing (CarFeatures already did) and never returns NaN."""

    def __init__(self, session: ort.InferenceSession, card: dict[str, Any]) -> None:
        self._session = session
        self.card = card
        self.model_version: str = str(card["model_version"])
        interval = card["price_interval"]
        self._ratio_low = float(interval["ratio_low"])
        self._ratio_high = float(interval["ratio_high"])
        onnx_card = card["onnx"]
        self._encoding = Encoding.from_dict(onnx_card["encoding"])
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

    def encode(self, cars: Sequence[CarFeatures]) -> np.ndarray:
        """The ONNX input: one float32 row per car (the same floats the scikit-learn pipeline computes)."""
        encoding = self._encoding
        return np.array([encode_row(car, encoding) for car in cars], dtype=np.float32)

    def predict_raw(self, cars: Sequence[CarFeatures]) -> np.ndarray:
        """Model prices as a float array (no rounding, no interval)."""
        if not cars:
            return np.zeros(0)
        (prices,) = self._session.run(self._output, {self._input: self.encode(cars)})
        return np.asarray(prices, dtype=np.float64).reshape(-1)

    def predict(self, cars: Sequence[CarFeatures]) -> list[PricedCar]:
        if not cars:
            return []
        (prices,) = self._session.run(self._output, {self._input: self.encode(cars)})
        ratio_low, ratio_high = self._ratio_low, self._ratio_high
        out = []
        for value in prices.ravel().tolist():  # Python floats: cheaper than numpy scalars for a few rows
            # The model ends in exp(), so a finite input gives a positive price; guard anyway (NaN fails too).
            if not 0.0 < value < math.inf:
                value = 1.0
            out.append(PricedCar(round(value), round(min(value * ratio_low, value)),
                                 round(max(value * ratio_high, value))))
        return out
