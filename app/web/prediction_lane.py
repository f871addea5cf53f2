"""POST /api/predictions, the hot path, as plain ASGI.

CarPriceApp (app/main.py) hands `POST /api/predictions` straight to PredictionLane, ahead of
FastAPI's middleware stack and router: request objects, routing, exception and telemetry layers
and their per-message send wrappers cost more than validating, scoring and committing a car.
This is the operation's only handler; app/web/openapi.py describes it in the OpenAPI document.

Behaviour is the API's: 413 for a body over the limit (declared or counted), 415 unless JSON, 422
with field/reason from the shared schema (ml/carprice/request_body.py, ml.carprice.schema.parse_row), 503
when the model or the outbox fails, 201 with a Location once the record is committed to the outbox. Security headers
ride on every answer (app/web/security.py).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from app.service import PredictionService, RecordNotKept
from app.web.errors import error_body, one_error, too_large_body
from app.web.security import NO_STORE, SECURITY_HEADERS
from ml.carprice.request_body import BodyError, decode_json, parse_car
from runtime.pricing import ModelUnavailable

log = logging.getLogger(__name__)

PATH = "/api/predictions"
_JSON = (b"content-type", b"application/json")
_INVALID = "The car's details are not valid."


def is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


async def price_car(service: PredictionService, content_type: str, body: bytes) -> tuple[int, bytes, str | None]:
    """(status, JSON body, id of the new prediction or None) for one POST /api/predictions."""
    if not is_json(content_type):
        reason = "send the car as JSON (Content-Type: application/json)"
        return 415, one_error("Unsupported media type.", "(body)", reason), None
    try:
        raw = decode_json(body)
    except BodyError as exc:
        return 422, one_error(_INVALID, "(body)", str(exc)), None
    parsed = parse_car(raw, service.dataset)
    if isinstance(parsed, list):
        return 422, error_body(_INVALID, parsed), None
    try:
        prediction = await service.predict(parsed)
    except ModelUnavailable as exc:
        return 503, one_error("The price model is unavailable; please retry shortly.", "(model)", str(exc)), None
    except RecordNotKept as exc:
        return 503, one_error("The prediction could not be recorded; please retry shortly.", "(store)", str(exc)), None
    return 201, orjson.dumps(prediction), prediction["id"]


class _TooLarge(Exception):
    pass


class PredictionLane:
    def __init__(self, service_of: Any, max_body_bytes: int) -> None:
        self._service_of = service_of  # () -> PredictionService: it exists only once the lifespan ran
        self._limit = max_body_bytes

    @staticmethod
    def handles(scope: Scope) -> bool:
        return scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type, declared = "", None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                declared = int(value) if value.isdigit() else None
        try:
            if declared is not None and declared > self._limit:
                raise _TooLarge
            body = await self._read_body(receive)
            if body is None:
                return  # the client went away
            status, payload, new_id = await price_car(self._service_of(), content_type, body)
        except _TooLarge:
            status, payload, new_id = 413, too_large_body(self._limit), None
        except Exception:  # what FastAPI's ServerErrorMiddleware would do: log it, answer 500
            log.exception("POST %s failed", PATH)
            status, payload, new_id = 500, one_error("Internal server error.", "(server)", "unexpected error"), None
        headers = [_JSON, (b"content-length", str(len(payload)).encode()), NO_STORE, *SECURITY_HEADERS]
        if new_id is not None:
            headers.append((b"location", f"{PATH}/{new_id}".encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._limit:  # chunked uploads have no Content-Length: count what arrives
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
