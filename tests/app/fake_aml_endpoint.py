"""Fakes for the Azure boundary of remote scoring: an Azure ML online endpoint (a local HTTP server on
127.0.0.1 that runs the project's real ml/scoring/score.py behind a bearer-token check) and an Entra ID
token credential. Tests that use them say so in their names."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from azure.core.credentials import AccessToken

from tools.local.emulators import LOOPBACK


@dataclass
class FakeTokenCredential:
    """Stands in for DefaultAzureCredential: hands out numbered tokens, records the scopes asked for."""

    scopes: list[tuple[str, ...]] = field(default_factory=list)

    def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(f"fake-token-{len(self.scopes)}", int(time.time()) + 3600)


@dataclass
class FakeAmlEndpoint:
    """Answers like an Azure ML managed online endpoint; `script` scripts failures (HTTP status or a delay)."""

    run: object  # ml.scoring.score.run
    script: list[int | float] = field(default_factory=list)  # int: answer that status; float: sleep seconds
    requests: list[dict] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/score"

    def __enter__(self) -> FakeAmlEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                endpoint.requests.append({"authorization": self.headers.get("authorization"), "body": json.loads(raw)})
                step = endpoint.script.pop(0) if endpoint.script else None
                if isinstance(step, float):
                    time.sleep(step)
                if isinstance(step, int):
                    self._reply(step, {"error": "scripted failure"})
                elif not (self.headers.get("authorization") or "").startswith("Bearer fake-token-"):
                    self._reply(401, {"error": "no token"})
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

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
