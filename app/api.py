"""The JSON API: price a car, read the history, read batch results (OpenAPI docs at /docs)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.errors import error_response
from app.records import Prediction
from app.scoring import ScoringUnavailable
from app.service import PredictionService, RecordNotKept
from ml.carprice.schema import CarFeatures, Make, RowError, parse_row

router = APIRouter(prefix="/api", tags=["predictions"])

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": RowError.model_json_schema()},
    },
}
_ERROR_RESPONSE = {"content": {"application/json": {"schema": _ERROR_SCHEMA}}}


class PredictionPage(BaseModel):
    items: list[Prediction]
    limit: int
    make: str | None
    store_ok: bool
    pending: int


class BatchResults(BaseModel):
    run: dict | None
    make: str | None
    items: list[dict]


def service_of(request: Request) -> PredictionService:
    return request.app.state.service


def _problem(status: int, detail: str, field: str, reason: str) -> JSONResponse:
    return error_response(status, detail, [RowError(field=field, reason=reason)])


@router.post(
    "/predictions",
    status_code=201,
    response_model=Prediction,
    summary="Price a car",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CarFeatures.model_json_schema()}},
        }
    },
    responses={
        413: {"description": "Body too large", **_ERROR_RESPONSE},
        415: {"description": "Not JSON", **_ERROR_RESPONSE},
        422: {"description": "Invalid car: one entry per bad field, with the reason", **_ERROR_RESPONSE},
        503: {"description": "The model endpoint is unavailable; retry later", **_ERROR_RESPONSE},
    },
)
async def create_prediction(request: Request) -> Response:
    # The body is parsed with the shared schema's parse_row (not FastAPI's own validation), so the app
    # rejects exactly what online and batch scoring reject, with the same field/reason messages.
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        reason = "send the car as JSON (Content-Type: application/json)"
        return _problem(415, "Unsupported media type.", "(body)", reason)
    body = await request.body()
    try:
        raw: Any = json.loads(body)
    except ValueError as exc:
        return _problem(422, "The car's details are not valid.", "(body)", f"not valid JSON: {exc}")
    parsed = parse_row(raw)
    if isinstance(parsed, list):
        return error_response(422, "The car's details are not valid.", parsed)
    try:
        prediction = await service_of(request).predict(parsed)
    except ScoringUnavailable as exc:
        return _problem(503, "The price model is unavailable; please retry shortly.", "(model)", str(exc))
    except RecordNotKept as exc:
        return _problem(503, "The prediction could not be recorded; please retry shortly.", "(store)", str(exc))
    return Response(
        json.dumps(prediction, separators=(",", ":")), status_code=201, media_type="application/json",
        headers={"location": f"/api/predictions/{prediction['id']}"},
    )


@router.get("/predictions", response_model=PredictionPage, summary="Prediction history, newest first")
async def list_predictions(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (1 to 200)")] = 50,
    make: Annotated[Make | None, Query(description="Only this make")] = None,
) -> PredictionPage:
    history = await service_of(request).history(limit, make)
    return PredictionPage(
        items=history.items, limit=limit, make=make, store_ok=history.store_ok, pending=history.pending
    )


@router.get(
    "/batch-results", response_model=BatchResults, summary="Precomputed prices from the last batch scoring run"
)
async def list_batch_results(
    request: Request,
    make: Annotated[Make | None, Query(description="Only this make")] = None,
) -> Response:
    view = await service_of(request).batch(make)
    if not view.store_ok:
        return _problem(503, "Batch results are unavailable right now.", "(store)", "Cosmos DB is not reachable")
    return JSONResponse(BatchResults(run=view.run, make=make, items=view.items).model_dump())
