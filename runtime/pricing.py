"""The price model a deployed app serves, whichever way it is reached.

Vocabulary, the same in every deployable:
- `Quote`: a car's price, its plausible range and the model version that gave them (ml.carprice.pricer).
- `PriceModel`: what quotes cars; `LocalModel` runs the exported ONNX model in process (ml.carprice.pricer's
  `Pricer`), `EndpointModel` (runtime/endpoint.py) calls the Azure ML online endpoint.
- `ModelUnavailable`: no price can be had right now (no model, a model that does not load, the endpoint down);
  the web app answers 503, the function app retries the batch or dead-letters it on the last attempt.

Both faces of a model: `quote_many` prices a batch synchronously (the function app's handlers), `quote` prices
one car from async code (the web app), joined with the other cars that arrive on the same event-loop turn.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ml.carprice.pricer import CARD_FILE, ONNX_FILE, Pricer, Quote

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["MAX_BATCH", "LocalModel", "ModelUnavailable", "PriceModel", "Quote"]

MAX_BATCH = 64  # cars per ONNX run when requests arrive together


class ModelUnavailable(RuntimeError):
    """No model can price right now; the caller may retry."""


class PriceModel(Protocol):
    kind: str

    @property
    def model_version(self) -> str: ...

    @property
    def model_card(self) -> dict[str, Any]: ...

    def is_ready(self) -> bool: ...

    def quote_many(self, cars: Sequence[BaseModel]) -> list[Quote]: ...

    async def quote(self, car: BaseModel) -> Quote: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


class LocalModel:
    """The exported ONNX model of one folder, loaded on first use and again after a failed load (a model
    deployed after the app started is picked up without a restart).

    `quote` joins a pending list and the event loop prices the whole list in one ONNX run on its next turn:
    per-run overhead is paid once per batch instead of once per car, and a lone request waits for nothing."""

    kind = "local"

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        self._pricer: Pricer | None = None
        self._load_lock = threading.Lock()
        self._pending: list[tuple[BaseModel, asyncio.Future[Quote]]] = []

    @classmethod
    def load(cls, model_dir: Path) -> LocalModel:
        """Loaded now: a deployable that cannot price without it fails at start with the reason."""
        model = cls(model_dir)
        model.pricer()
        return model

    def pricer(self) -> Pricer:
        if self._pricer is None:
            with self._load_lock:
                if self._pricer is None:
                    self._pricer = self._load()
        return self._pricer

    def _load(self) -> Pricer:
        missing = [name for name in (ONNX_FILE, CARD_FILE) if not (self.model_dir / name).is_file()]
        if missing:
            raise ModelUnavailable(f"no model at {self.model_dir} (missing {', '.join(missing)}): run `make train` "
                                   "or set CARPRICE_MODEL_DIR to a model folder")
        try:
            return Pricer.load(self.model_dir)
        except Exception as exc:  # a corrupt or incompatible model folder
            raise ModelUnavailable(f"the model at {self.model_dir} does not load: {exc}") from exc

    @property
    def model_version(self) -> str:
        return self.pricer().model_version

    @property
    def model_card(self) -> dict[str, Any]:
        return self.pricer().card

    def is_ready(self) -> bool:
        try:
            self.pricer()
        except ModelUnavailable:
            return False
        return True

    def quote_many(self, cars: Sequence[BaseModel]) -> list[Quote]:
        return self.pricer().predict(cars) if cars else []

    async def quote(self, car: BaseModel) -> Quote:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Quote] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._quote_pending)
        self._pending.append((car, done))
        return await done

    def _quote_pending(self) -> None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._quote_pending)
        try:
            quotes = self.pricer().predict([car for car, _ in batch])
        except Exception as exc:  # every waiting request gets the error, none hangs
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for (_, done), quote in zip(batch, quotes, strict=True):
            if not done.done():
                done.set_result(quote)

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
