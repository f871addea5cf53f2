"""Scoring in-process with the ONNX model the ML project exported (the default; no network hop).

Requests that arrive together are scored together: each `quote` joins a pending list and the event
loop scores the whole list in one ONNX run on its next turn. Per-run overhead (feeds, session call)
is paid once per batch instead of once per car, and a lone request waits for nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from app.scoring.scorer import Quote
from ml.carprice.pricer import Pricer
from ml.carprice.schema import CarFeatures

MAX_BATCH = 64


@dataclass
class LocalScorer:
    pricer: Pricer
    kind: str = "local"
    _pending: list[tuple[CarFeatures, asyncio.Future[Quote]]] = field(default_factory=list, init=False, repr=False)

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
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Quote] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._score_pending)
        self._pending.append((car, done))
        return await done

    def _score_pending(self) -> None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._score_pending)
        try:
            priced = self.pricer.predict([car for car, _ in batch])
        except Exception as exc:  # every waiting request gets the error, none hangs
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for (_, done), result in zip(batch, priced, strict=True):
            if not done.done():
                done.set_result(Quote(result.price, result.low, result.high, self.model_version))

    async def aclose(self) -> None:
        return None
