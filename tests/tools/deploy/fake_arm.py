"""A fake Azure Resource Manager at the HTTP transport boundary: the real SDK clients run, no request leaves.

Routes are (method, path regex) -> (status, JSON body); every request is recorded so a test can assert
what the SDK sent (method, path, body).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from azure.core.pipeline.transport._requests_basic import RequestsTransportResponse
from azure.core.rest._requests_basic import RestRequestsTransportResponse


class FakeCredential:
    """Stands in for Entra ID: hands out a token that only the fake transport ever sees."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("fake-token", 4_102_444_800)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("fake-token", 4_102_444_800)


@dataclass
class Recorded:
    method: str
    path: str
    body: Any


@dataclass
class FakeArmTransport(HttpTransport):
    routes: list[tuple[str, str, int, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    def route(self, method: str, path_regex: str, status: int, body: Any = None) -> FakeArmTransport:
        # Newest route wins, so a test can override a default.
        self.routes.insert(0, (method, path_regex, status, body))
        return self

    def send(self, request: Any, **kwargs: Any) -> Any:
        path = urlparse(request.url).path
        raw = request.content if hasattr(request, "content") else request.data
        body = json.loads(raw) if raw else None
        self.requests.append(Recorded(request.method, path, body))
        for method, pattern, status, payload in self.routes:
            if method == request.method and re.fullmatch(pattern, path, flags=re.IGNORECASE):
                return self._response(request, status, payload)
        error = {"error": {"code": "NotFound", "message": f"fake ARM has no route for {request.method} {path}"}}
        return self._response(request, 404, error)

    @staticmethod
    def _response(request: Any, status: int, payload: Any) -> Any:
        response = requests.Response()
        response.status_code = status
        # The SDK streams the body from `raw`, as it would from a socket.
        response.raw = io.BytesIO(b"" if payload is None else json.dumps(payload).encode())
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        if hasattr(request, "content"):
            return RestRequestsTransportResponse(request=request, internal_response=response)
        return RequestsTransportResponse(request, response)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("PUT", "PATCH", "POST", "DELETE")]

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeArmTransport:
        return self

    def __exit__(self, *args: Any) -> None:
        pass
