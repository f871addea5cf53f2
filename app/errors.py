"""One error shape for every rejected request: {"detail": ..., "errors": [{"field": ..., "reason": ...}]},
the same field/reason pairs online and batch scoring produce (ml.carprice.schema.RowError)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from app.security import BodyTooLarge, too_large_body
from ml.carprice.schema import RowError


def error_response(status: int, detail: str, errors: Iterable[RowError]) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, "errors": [e.model_dump() for e in errors]},
        status_code=status,
    )


async def on_request_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    # Query parameters (limit, make): FastAPI validated them; reshape to field/reason.
    errors = []
    for item in exc.errors():
        loc = [str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path")]
        reason = item.get("msg", "invalid value")
        if item.get("type") == "literal_error":
            reason = f"unknown value {item.get('input')!r}; {reason[0].lower()}{reason[1:]}"
        errors.append(RowError(field=".".join(loc) or "(request)", reason=reason))
    return error_response(422, "The request is not valid.", errors)


async def on_body_too_large(_: Request, exc: BodyTooLarge) -> Response:
    return Response(too_large_body(exc.limit), status_code=413, media_type="application/json")
