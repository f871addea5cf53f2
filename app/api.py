"""The JSON API: price a car, read the history, read batch results (OpenAPI docs at /docs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.errors import error_response
from app.prediction_lane import price_car
from app.records import Prediction
from app.service import PredictionService
from ml.carprice.schema import CarFeatures, Make, RowError

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
    # HTTP requests for this operation are served by app/prediction_lane.py ahead of FastAPI's stack
    # (CarPriceApp in app/main.py); this route documents it and runs the same code if ever reached.
    # The body is parsed with the shared schema's parse_row (not FastAPI's own validation), so the app
    # rejects exactly what online and batch scoring reject, with the same field/reason messages.
    status, payload, new_id = await price_car(
        service_of(request), request.headers.get("content-type", ""), await request.body()
    )
    headers = {"location": f"/api/predictions/{new_id}"} if new_id else None
    return Response(payload, status_code=status, media_type="application/json", headers=headers)


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
