"""The API's one error shape, built in one place: {"detail": ..., "errors": [{"field": ..., "reason": ...}]},
with the same field/reason pairs online and batch scoring produce (ml.carprice.schema.RowError)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ml.carprice.dataset import json_text
from ml.carprice.schema import RowError


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the API (documented in the OpenAPI schema under this name)."""

    detail: str = Field(description="What went wrong, for a person")
    errors: list[RowError] = Field(description="One entry per bad field, or (body), (request), (model), (store)")


def documented(status: int, description: str) -> dict[int | str, dict]:
    """A `responses=` entry for FastAPI routes: this status answers with the error shape."""
    return {status: {"model": ErrorBody, "description": description}}


# Declaring 422 keeps FastAPI from documenting its own (different) validation-error body.
INVALID_PARAMETERS = documented(422, "Invalid parameter: one entry per bad parameter, with the reason")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit} bytes")
        self.limit = limit


def error_body(detail: str, errors: Iterable[RowError]) -> bytes:
    return orjson.dumps({"detail": detail, "errors": [{"field": e.field, "reason": e.reason} for e in errors]})


def one_error(detail: str, field: str, reason: str) -> bytes:
    return error_body(detail, [RowError(field=field, reason=reason)])


def too_large_body(limit: int) -> bytes:
    return one_error("Request body too large.", "(body)", f"the request body must be at most {limit} bytes")


def error_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _reason(item: dict) -> str:
    kind, message = item.get("type", ""), item.get("msg", "invalid value")
    if kind == "literal_error":  # the values as JSON writes them, as the body's errors say it
        allowed = ", ".join(re.findall(r"'([^']*)'", str((item.get("ctx") or {}).get("expected", ""))))
        return f"unknown value {json_text(item.get('input'))}" + (f"; allowed: {allowed}" if allowed else "")
    return message


async def on_request_validation_error(_: Request, exc: RequestValidationError) -> Response:
    # Query parameters (limit, make): FastAPI validated them; reshape to field/reason.
    errors = [
        RowError(
            field=".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path")) or "(request)",
            reason=_reason(item),
        )
        for item in exc.errors()
    ]
    return error_response(422, error_body("The request is not valid.", errors))


async def on_body_too_large(_: Request, exc: BodyTooLarge) -> Response:
    return error_response(413, too_large_body(exc.limit))
