"""The JSON API's FastAPI routes: prediction history and batch results (OpenAPI docs at /docs).
POST /api/predictions is served by app/web/prediction_lane.py and described by app/web/openapi.py.

The routes filter by the served data set's level column, whose values type their parameter: the composition
root (app.main.create_app) builds the router for its Dataset."""

# No `from __future__ import annotations`: the routes' parameter types are built in build_router, and
# FastAPI reads them from the evaluated signature.
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.records import Prediction
from app.service import PredictionService
from app.web.errors import INVALID_PARAMETERS, documented, error_response, one_error
from ml.carprice.dataset import Dataset
from ml.carprice.schema import level_value_type


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


def build_router(dataset: Dataset) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["predictions"])
    level_column = dataset.spec.level_column or "data set"
    if TYPE_CHECKING:  # the level column's values are known at run time only; statically they are strings
        level = str | None
    else:
        level = Annotated[level_value_type(dataset) | None,
                          Query(description=f"Only this {level_column} (the records' partition)")]

    @router.get(
        "/predictions", response_model=PredictionPage, summary="Prediction history, newest first",
        responses=INVALID_PARAMETERS,
    )
    async def list_predictions(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=200, description="Page size (1 to 200)")] = 50,
        make: level = None,
    ) -> PredictionPage:
        history = await service_of(request).history(limit, make)
        return PredictionPage(
            items=history.items, limit=limit, make=make, store_ok=history.store_ok, pending=history.pending
        )

    @router.get(
        "/predictions/{prediction_id}", response_model=Prediction, summary="One prediction, by the id POST returned",
        responses={**INVALID_PARAMETERS, **documented(404, "No prediction with this id")},
    )
    async def read_prediction(request: Request, prediction_id: str) -> Response:
        prediction = await service_of(request).prediction(prediction_id)
        if prediction is None:
            return error_response(404, one_error("No such prediction.", "prediction_id", "no prediction has this id"))
        return Response(prediction.model_dump_json(), media_type="application/json")

    @router.get(
        "/batch-results", response_model=BatchResults, summary="Precomputed prices from the last batch scoring run",
        responses={**INVALID_PARAMETERS, **documented(503, "The results store is unreachable; retry later")},
    )
    async def list_batch_results(
        request: Request,
        make: level = None,
    ) -> Response:
        view = await service_of(request).batch(make)
        if not view.store_ok:
            body = one_error("Batch results are unavailable right now.", "(store)", "Cosmos DB is not reachable")
            return error_response(503, body)
        return Response(
            BatchResults(run=view.run, make=make, items=view.items).model_dump_json(), media_type="application/json"
        )

    return router
