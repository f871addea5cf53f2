"""Scoring through an Azure ML online endpoint, authenticated with an Entra ID token.

The token comes from DefaultAzureCredential (the web app's managed identity in Azure): no endpoint
keys in code or settings. Each call has a timeout; transient failures (connection errors, timeouts,
429 and 5xx answers) are retried with exponential backoff; when the endpoint stays down the caller
gets ScoringUnavailable, which the API turns into a clear 503.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_exception, stop_after_attempt, wait_exponential

from app.scoring.scorer import Quote, ScoringUnavailable
from app.settings import Settings
from ml.carprice.schema import CarFeatures

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_REFRESH_MARGIN_S = 300  # renew a token five minutes before it expires


class _Transient(Exception):
    """A failure worth retrying (network trouble or a 'try again' status)."""


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _Transient | httpx.TransportError)


@dataclass
class RemoteScorer:
    url: str
    scope: str
    credential: Any  # azure.core.credentials.TokenCredential
    timeout_s: float = 5.0
    attempts: int = 3
    backoff_s: float = 0.2
    kind: str = "remote"
    _client: httpx.AsyncClient = field(init=False, repr=False)
    _token: tuple[str, float] | None = field(default=None, init=False, repr=False)
    _version: str = field(default="remote", init=False)
    _token_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError("remote scoring needs the endpoint URL (CARPRICE_ENDPOINT_URL)")
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s))

    @classmethod
    def from_settings(cls, settings: Settings, credential: Any = None) -> RemoteScorer:
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(managed_identity_client_id=settings.managed_identity_client_id or None)
        return cls(
            url=settings.endpoint_url, scope=settings.endpoint_scope, credential=credential,
            timeout_s=settings.endpoint_timeout_s, attempts=settings.endpoint_attempts,
        )

    @property
    def model_version(self) -> str:
        return self._version

    @property
    def model_card(self) -> dict:
        return {"model_version": self._version, "endpoint": self.url}

    def is_ready(self) -> bool:
        return True  # readiness must not depend on a network call per probe; failures surface as 503s

    async def _bearer(self) -> str:
        async with self._token_lock:
            if self._token is None or self._token[1] - time.time() < _REFRESH_MARGIN_S:
                # get_token may hit the network (IMDS / Entra ID): keep it off the event loop.
                token = await asyncio.to_thread(self.credential.get_token, self.scope)
                self._token = (token.token, float(token.expires_on))
            return self._token[0]

    async def quote(self, car: CarFeatures) -> Quote:
        payload = {"data": [car.model_dump(exclude_none=True)]}
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=self.backoff_s, max=2.0),
                retry=retry_if_exception(_is_transient),
                reraise=False,
            ):
                with attempt:
                    return await self._call(payload)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise ScoringUnavailable(
                f"the Azure ML endpoint did not answer after {self.attempts} attempts ({_describe(cause)})"
            ) from cause
        except ScoringUnavailable:
            raise
        raise ScoringUnavailable("the Azure ML endpoint gave no answer")  # pragma: no cover - loop always returns

    async def _call(self, payload: dict) -> Quote:
        headers = {"Authorization": f"Bearer {await self._bearer()}", "Content-Type": "application/json"}
        response = await self._client.post(self.url, json=payload, headers=headers)
        if response.status_code in _RETRY_STATUS:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code in (401, 403):
            self._token = None  # a revoked or expired token: fetch a new one next time
            raise ScoringUnavailable(f"the Azure ML endpoint refused the app's identity (HTTP {response.status_code})")
        if response.status_code != 200:
            raise ScoringUnavailable(f"the Azure ML endpoint answered HTTP {response.status_code}")
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> Quote:
        # ml/scoring/score.py answers {"model_version": ..., "predictions": [{"price", "low", "high"} | {"errors"}]}.
        try:
            body = response.json()
            row = body["predictions"][0]
            if "errors" in row:  # the app validated with the same schema, so this means the two disagree
                raise ScoringUnavailable(f"the Azure ML endpoint rejected the car: {row['errors']}")
            version = str(body.get("model_version") or response.headers.get("azureml-model-deployment") or "remote")
            self._version = version
            return Quote(float(row["price"]), float(row["low"]), float(row["high"]), version)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ScoringUnavailable(f"the Azure ML endpoint sent an answer the app cannot read ({exc})") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    return str(exc) or type(exc).__name__
