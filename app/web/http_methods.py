"""HEAD and OPTIONS for every route, and a 405 in the API's error shape that names the allowed methods.

FastAPI routes declare GET only, so HEAD would be a 405; OPTIONS would list only what FastAPI's router
knows, missing POST /api/predictions (served ahead of the router, app/web/prediction_lane.py). This layer
answers from the routes themselves: HEAD runs the GET and drops its body, OPTIONS answers 204 with
`Allow`. It sends no CORS headers: cross-origin scripts still get no permission (app/web/security.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.errors import one_error

_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def flat_routes(routes: Iterable[BaseRoute]) -> list[BaseRoute]:
    """The app's routes with included routers expanded (FastAPI keeps an included router as one entry)."""
    flat: list[BaseRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        flat.extend(flat_routes(inner.routes) if inner is not None else [route])
    return flat


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope, extra: dict[str, set[str]]) -> set[str]:
    """Methods some route accepts at this path (empty: no route has the path)."""
    allowed = set(extra.get(scope["path"], ()))
    probe = {**scope, "method": "GET"}
    for route in routes:
        match, _ = route.matches(probe)
        if match is Match.NONE:
            continue
        methods = getattr(route, "methods", None)
        allowed |= set(methods) if methods else ({"GET"} if isinstance(route, Mount) else set())
    if "GET" in allowed:
        allowed.add("HEAD")
    return allowed | {"OPTIONS"} if allowed else set()


def _allow_header(methods: set[str]) -> bytes:
    return ", ".join(m for m in _ORDER if m in methods).encode()


class MethodsMiddleware:
    def __init__(self, app: ASGIApp, routes: Callable[[], Iterable[BaseRoute]], extra: dict[str, set[str]]) -> None:
        self.app = app
        self._routes_of = routes  # read on first request: routes are added after the middleware
        self._routes: list[BaseRoute] | None = None
        self._extra = extra  # paths served outside the router, with their methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if self._routes is None:
            self._routes = flat_routes(self._routes_of())
        allowed = allowed_methods(self._routes, scope, self._extra)
        if not allowed:
            await self.app(scope, receive, send)  # the router's 404
            return
        if method == "OPTIONS":
            await _reply(send, 204, b"", allowed)
        elif method not in allowed:
            reason = f"{method} is not allowed here; allowed: {', '.join(m for m in _ORDER if m in allowed)}"
            await _reply(send, 405, one_error("Method not allowed.", "(request)", reason), allowed)
        elif method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        else:
            await self.app(scope, receive, send)


def _without_body(send: Send) -> Send:
    """The GET's response start (headers, Content-Length included) and an empty body."""
    body_sent = False

    async def send_head(message: Message) -> None:
        nonlocal body_sent
        if message["type"] == "http.response.body":
            if body_sent:
                return
            body_sent = True
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_head


async def _reply(send: Send, status: int, body: bytes, allowed: set[str]) -> None:
    headers = [(b"allow", _allow_header(allowed)), (b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
