"""The online endpoint's own token (`aml_token`), the credential a Kubernetes online endpoint admits.

A Kubernetes online endpoint takes a key or an Azure ML token, never an Entra ID token (`aad_token` is for managed
endpoints only; Learn how-to-authenticate-online-endpoint). So the caller's managed identity gets an Entra ID
token for Azure Resource Manager and exchanges it at the endpoint's token action (REST OnlineEndpoints_GetToken,
`POST .../onlineEndpoints/<name>/token`, which needs `onlineEndpoints/token/action`). The answer carries
`accessToken`, `expiryTimeUtc` and `refreshAfterTimeUtc` (Unix seconds): the token is renewed at its refresh
time (or a margin before expiry), shared by every caller, and dropped when the endpoint refuses it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import httpx

from contract import ML_ENDPOINT_TOKEN_ACTION
from runtime.credentials import TOKEN_REFRESH_MARGIN_S, BearerToken, CachedToken
from runtime.pricing import ModelUnavailable

# Answers of the token action worth asking again (Resource Manager throttling and server errors).
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def describe_transport(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    return str(exc) or type(exc).__name__


class TokenServiceBusy(Exception):
    """The token action failed in a way worth retrying (a 'try again' status, or no answer)."""


class EndpointToken(CachedToken):
    """The endpoint's `aml_token` for one token action URL, fetched with the caller's Entra ID identity."""

    def __init__(self, token_url: str, credential: Any, scope: str, *, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.url = token_url
        self.identity = BearerToken(credential, scope)  # the Resource Manager token the exchange is made with
        self.timeout_s = timeout_s
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _renew(self) -> tuple[str, float]:
        """Exchange the identity's Entra ID token at the token action."""
        if self._client is None:
            self._client = httpx.Client(timeout=httpx.Timeout(self.timeout_s))
        headers = {"Authorization": f"Bearer {self.identity.get()}", "Content-Length": "0"}
        try:
            response = self._client.post(self.url, headers=headers)
        except httpx.TransportError as exc:
            raise TokenServiceBusy(f"the endpoint's token action: {describe_transport(exc)}") from exc
        status = response.status_code
        if status in RETRY_STATUS:
            raise TokenServiceBusy(f"the endpoint's token action answered HTTP {status}")
        if status in (401, 403):
            self.identity.forget()  # a lapsed identity token is renewed; a missing role stays refused
            raise ModelUnavailable(f"Azure ML refused the app's identity a token for the endpoint (HTTP {status}): "
                                   f"it needs {ML_ENDPOINT_TOKEN_ACTION} on the workspace")
        if status != 200:
            raise ModelUnavailable(f"the endpoint's token action answered HTTP {status}")
        return self._read(response)

    def _read(self, response: httpx.Response) -> tuple[str, float]:
        try:
            body = response.json()
            token, expiry = body["accessToken"], float(body["expiryTimeUtc"])
            refresh = float(body.get("refreshAfterTimeUtc") or expiry)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelUnavailable(f"the endpoint's token action sent an answer the app cannot read ({exc})") from exc
        now = self.clock()
        if not isinstance(token, str) or not token or not math.isfinite(expiry) or expiry <= now:
            raise ModelUnavailable("the endpoint's token action sent no usable token (empty or already expired)")
        # Renew at the service's refresh time, and in any case a margin before expiry (half the lifetime of a
        # short-lived token), so no request leaves with a token that lapses on the way.
        margin = min(TOKEN_REFRESH_MARGIN_S, (expiry - now) / 2)
        return token, min(refresh, expiry - margin)
