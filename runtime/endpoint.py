"""The Azure ML online endpoint as a price model, authenticated with the endpoint's own short-lived token (no
endpoint keys): the app's identity exchanges its Entra ID token for it (runtime/endpoint_token.py), because the
Kubernetes online endpoint on the attached AKS refuses Entra ID tokens.

One request per batch (ml/scoring/score.py answers {"model_version", "predictions": [{"price", "low",
"high"} | {"errors"}]}). Each call has a timeout; transient failures (connection errors, timeouts, 408, 429
and 5xx answers, a busy token action) are retried with exponential backoff; a refused token (401) is dropped
and the call retried with a new one; when the endpoint stays down the caller gets ModelUnavailable. The URLs
are settings (CARPRICE_ENDPOINT_URL, CARPRICE_ENDPOINT_TOKEN_URL), so any endpoint that speaks score.py's
contract and takes `aml_token` auth (managed or on AKS) can serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import AsyncRetrying, RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from runtime.endpoint_token import RETRY_STATUS, EndpointToken, TokenServiceBusy, describe_transport
from runtime.pricing import ModelUnavailable, Quote

if TYPE_CHECKING:
    from pydantic import BaseModel


class _Transient(Exception):
    """A failure worth retrying (a 'try again' status)."""


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _Transient | TokenServiceBusy | httpx.TransportError)


def _describe(exc: BaseException | None) -> str:
    return describe_transport(exc) if exc is not None else "no answer"


class EndpointModel:
    kind = "remote"

    def __init__(self, url: str, token_url: str, scope: str, credential: Any, *, timeout_s: float = 5.0,
                 attempts: int = 3, backoff_s: float = 0.2) -> None:
        if not url:
            raise ValueError("remote scoring needs the endpoint URL (CARPRICE_ENDPOINT_URL)")
        if not token_url:
            raise ValueError("remote scoring needs the endpoint's token URL (CARPRICE_ENDPOINT_TOKEN_URL)")
        self.url = url
        self.token = EndpointToken(token_url, credential, scope, timeout_s=timeout_s)
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._version = "remote"
        self._client: httpx.Client | None = None
        self._async_client: httpx.AsyncClient | None = None

    @property
    def model_version(self) -> str:
        return self._version

    @property
    def model_card(self) -> dict[str, Any]:
        return {"model_version": self._version, "endpoint": self.url}

    def is_ready(self) -> bool:
        return True  # readiness must not cost a network call per probe; failures surface as 503s

    def _retry_policy(self) -> dict[str, Any]:
        return {"stop": stop_after_attempt(self.attempts), "reraise": False,
                "wait": wait_exponential(multiplier=self.backoff_s, max=2.0),
                "retry": retry_if_exception(_is_transient)}

    def _gave_up(self, exc: RetryError) -> ModelUnavailable:
        cause = exc.last_attempt.exception()
        return ModelUnavailable(f"the Azure ML endpoint did not answer after {self.attempts} attempts "
                                f"({_describe(cause)})")

    # --- the synchronous face (the function app) ------------------------------------------------------
    def quote_many(self, cars: Sequence[BaseModel]) -> list[Quote]:
        if not cars:
            return []
        if self._client is None:
            self._client = httpx.Client(timeout=httpx.Timeout(self.timeout_s))
        payload = _payload(cars)
        try:
            for attempt in Retrying(**self._retry_policy()):
                with attempt:
                    headers = _headers(self.token.get())
                    return self._read(self._client.post(self.url, json=payload, headers=headers), len(cars))
        except RetryError as exc:
            raise self._gave_up(exc) from exc.last_attempt.exception()
        raise ModelUnavailable("the Azure ML endpoint gave no answer")  # pragma: no cover - the loop returns

    # --- the async face (the web app) -----------------------------------------------------------------
    async def quote(self, car: BaseModel) -> Quote:
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s))
        payload = _payload([car])
        try:
            async for attempt in AsyncRetrying(**self._retry_policy()):
                with attempt:
                    headers = _headers(await self.token.aget())
                    response = await self._async_client.post(self.url, json=payload, headers=headers)
                    return self._read(response, 1)[0]
        except RetryError as exc:
            raise self._gave_up(exc) from exc.last_attempt.exception()
        raise ModelUnavailable("the Azure ML endpoint gave no answer")  # pragma: no cover - the loop returns

    # --- shared -----------------------------------------------------------------------------------------
    def _read(self, response: httpx.Response, expected: int) -> list[Quote]:
        status = response.status_code
        if status in RETRY_STATUS:
            raise _Transient(f"HTTP {status}")
        if status == 401:
            self.token.forget()  # a revoked or lapsed token: the retry exchanges a new one
            raise _Transient("its token was refused, HTTP 401")
        if status == 403:
            raise ModelUnavailable("the Azure ML endpoint refused the app's token (HTTP 403)")
        if status != 200:
            raise ModelUnavailable(f"the Azure ML endpoint answered HTTP {status}")
        try:
            body = response.json()
            rows = body["predictions"]
            rejected = [row["errors"] for row in rows if "errors" in row]
            if rejected:  # the app validated with the same schema, so this means the two disagree
                raise ModelUnavailable(f"the Azure ML endpoint rejected the car: {rejected[0]}")
            version = str(body.get("model_version") or response.headers.get("azureml-model-deployment") or "remote")
            quotes = [Quote(float(r["price"]), float(r["low"]), float(r["high"]), version) for r in rows]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ModelUnavailable(f"the Azure ML endpoint sent an answer the app cannot read ({exc})") from exc
        if len(quotes) != expected:
            raise ModelUnavailable(f"the Azure ML endpoint priced {len(quotes)} of {expected} cars")
        self._version = version
        return quotes

    def close(self) -> None:
        self.token.close()
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        self.close()
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None


def _payload(cars: Sequence[BaseModel]) -> dict[str, list[dict]]:
    return {"data": [car.model_dump(exclude_none=True) for car in cars]}


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
