"""Fakes for the Azure boundary of remote scoring: an Azure ML Kubernetes online endpoint with its token action (a
local HTTP server on 127.0.0.1 that runs the project's real ml/scoring/score.py, or any `run`, behind an
`aml_token` check) and an Entra ID token credential. Tests that use them say so in their names.

What the fake holds to, as Azure ML does (Learn how-to-authenticate-online-endpoint, REST
OnlineEndpoints_GetToken): the token action (`POST .../onlineEndpoints/<name>/token`) takes the caller's Entra ID
token for Resource Manager and answers `accessToken`, `expiryTimeUtc`, `refreshAfterTimeUtc` (Unix seconds); the
scoring route of a Kubernetes endpoint admits only a token the action issued, unexpired, and refuses an Entra ID
token (aad_token is for managed endpoints only)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken

from tools.local.emulators import LOOPBACK

ENTRA_TOKEN_PREFIX = "fake-token-"
AML_TOKEN_PREFIX = "aml-token-"
TOKEN_PATH = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw/" \
             "onlineEndpoints/carprice-online-test/token"


@dataclass
class FakeTokenCredential:
    """Stands in for DefaultAzureCredential: hands out numbered tokens, records the scopes asked for."""

    scopes: list[tuple[str, ...]] = field(default_factory=list)

    def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(f"{ENTRA_TOKEN_PREFIX}{len(self.scopes)}", int(time.time()) + 3600)


@dataclass
class FakeAmlEndpoint:
    """Answers like an Azure ML Kubernetes online endpoint and its token action.

    `script` scripts scoring failures (int: answer that status; float: sleep seconds first), `token_script` the
    token action's (int statuses). Tokens live `token_lifetime_s` and ask to be renewed after `refresh_after_s`.
    """

    run: Callable[[bytes], object]  # ml.scoring.score.run, or a stand-in with its answer shape
    script: list[int | float] = field(default_factory=list)
    token_script: list[int] = field(default_factory=list)
    token_lifetime_s: int = 3600
    refresh_after_s: int | None = 1800
    requests: list[dict] = field(default_factory=list)  # scoring calls: authorization and body
    token_requests: list[str | None] = field(default_factory=list)  # token action calls: authorization
    issued: list[str] = field(default_factory=list)  # every aml token handed out, in order
    valid: dict[str, float] = field(default_factory=dict)  # aml token -> expiry (Unix seconds)
    _server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/score"

    @property
    def token_url(self) -> str:
        return f"{self.base}{TOKEN_PATH}?api-version=2024-10-01"

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (as when the endpoint's keys are regenerated)."""
        self.valid.clear()

    def _issue(self) -> dict[str, object]:
        now = int(time.time())
        token = f"{AML_TOKEN_PREFIX}{len(self.issued) + 1}"
        self.issued.append(token)
        self.valid[token] = now + self.token_lifetime_s
        answer: dict[str, object] = {"accessToken": token, "tokenType": "Bearer",
                                     "expiryTimeUtc": now + self.token_lifetime_s}
        if self.refresh_after_s is not None:
            answer["refreshAfterTimeUtc"] = now + self.refresh_after_s
        return answer

    def _admits(self, authorization: str | None) -> bool:
        token = (authorization or "").removeprefix("Bearer ")
        return token in self.valid and time.time() < self.valid[token]

    def __enter__(self) -> FakeAmlEndpoint:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    def __init__(self, endpoint: FakeAmlEndpoint) -> None:
        self.endpoint = endpoint
        super().__init__((LOOPBACK, 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    """The token action and the scoring route of the fake endpoint the server holds."""

    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        if urlsplit(self.path).path == TOKEN_PATH:
            self._token()
        else:
            self._score(raw)

    def _token(self) -> None:
        endpoint = self.server.endpoint
        authorization = self.headers.get("authorization")
        endpoint.token_requests.append(authorization)
        step = endpoint.token_script.pop(0) if endpoint.token_script else None
        if step is not None:
            self._reply(step, {"error": {"code": "scripted failure"}})
        elif not (authorization or "").startswith(f"Bearer {ENTRA_TOKEN_PREFIX}"):
            self._reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
        else:
            self._reply(200, endpoint._issue())

    def _score(self, raw: bytes) -> None:
        endpoint = self.server.endpoint
        authorization = self.headers.get("authorization")
        endpoint.requests.append({"authorization": authorization, "body": json.loads(raw)})
        step = endpoint.script.pop(0) if endpoint.script else None
        if isinstance(step, float):
            time.sleep(step)
        if isinstance(step, int):
            self._reply(step, {"error": "scripted failure"})
        elif not endpoint._admits(authorization):  # an Entra ID token included: Kubernetes refuses it
            self._reply(401, {"error": "not a valid token for this endpoint"})
        else:
            self._reply(200, endpoint.run(raw))

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        return None
