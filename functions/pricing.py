"""Pricing for the function app, chosen by CARPRICE_SCORING_MODE: the ONNX model in-process (the same
ml.carprice.pricer the web app runs) or the Azure ML online endpoint (Entra ID token, no keys).

Both price a whole batch in one call, and both raise ModelUnavailable when no price can be had, so
the handlers decide what happens to the batch (retry it, or dead-letter it on the last attempt).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from ml.carprice.pricer import CARD_FILE, ONNX_FILE, PricedCar, Pricer
from ml.carprice.schema import CarFeatures

_REFRESH_MARGIN_S = 300


class ModelUnavailable(RuntimeError):
    """No model can price right now (not deployed, not loadable, endpoint down)."""


class BatchPricer(Protocol):
    @property
    def model_version(self) -> str: ...

    def price(self, cars: Sequence[CarFeatures]) -> list[PricedCar]: ...


@dataclass
class LocalPricing:
    """The packaged ONNX model, loaded on first use and again after a failed load (a model deployed
    after the app started is picked up without a restart)."""

    model_dir: Path
    _pricer: Pricer | None = field(default=None, init=False, repr=False)

    def _loaded(self) -> Pricer:
        if self._pricer is None:
            missing = [n for n in (ONNX_FILE, CARD_FILE) if not (self.model_dir / n).is_file()]
            if missing:
                raise ModelUnavailable(f"no model at {self.model_dir} (missing {', '.join(missing)})")
            try:
                self._pricer = Pricer.load(self.model_dir)
            except Exception as exc:  # a corrupt or incompatible model folder
                raise ModelUnavailable(f"the model at {self.model_dir} does not load: {exc}") from exc
        return self._pricer

    @property
    def model_version(self) -> str:
        return self._loaded().model_version

    def price(self, cars: Sequence[CarFeatures]) -> list[PricedCar]:
        return self._loaded().predict(cars)


@dataclass
class RemotePricing:
    """The Azure ML online endpoint (ml/scoring/score.py): one request per batch."""

    url: str
    scope: str
    credential: Any  # azure.core.credentials.TokenCredential
    timeout_s: float = 10.0
    _client: httpx.Client = field(init=False, repr=False)
    _token: tuple[str, float] | None = field(default=None, init=False, repr=False)
    _version: str = field(default="remote", init=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(timeout=httpx.Timeout(self.timeout_s))

    @property
    def model_version(self) -> str:
        return self._version

    def _bearer(self) -> str:
        if self._token is None or self._token[1] - time.time() < _REFRESH_MARGIN_S:
            token = self.credential.get_token(self.scope)
            self._token = (token.token, float(token.expires_on))
        return self._token[0]

    def price(self, cars: Sequence[CarFeatures]) -> list[PricedCar]:
        if not cars:
            return []
        payload = {"data": [car.model_dump(exclude_none=True) for car in cars]}
        try:
            response = self._client.post(self.url, json=payload,
                                         headers={"Authorization": f"Bearer {self._bearer()}"})
        except httpx.HTTPError as exc:
            raise ModelUnavailable(f"the Azure ML endpoint did not answer: {exc}") from exc
        if response.status_code in (401, 403):
            self._token = None
        if response.status_code != 200:
            raise ModelUnavailable(f"the Azure ML endpoint answered HTTP {response.status_code}")
        try:
            body = response.json()
            rows = body["predictions"]
            priced = [PricedCar(float(r["price"]), float(r["low"]), float(r["high"])) for r in rows]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelUnavailable(f"the Azure ML endpoint sent an answer this app cannot read ({exc})") from exc
        if len(priced) != len(cars):
            raise ModelUnavailable(f"the Azure ML endpoint priced {len(priced)} of {len(cars)} cars")
        self._version = str(body.get("model_version") or "remote")
        return priced
