"""The OpenAPI document: FastAPI's description of its routes, plus POST /api/predictions, whose only
handler is the plain-ASGI lane (app/web/prediction_lane.py) and so is invisible to FastAPI's router."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from app.records import Prediction
from app.web.errors import ErrorBody
from app.web.prediction_lane import PATH

_REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _add_schema(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(ErrorBody)}}}


def _price_a_car(car: type[BaseModel]) -> dict[str, Any]:
    return {
        "tags": ["predictions"],
        "summary": "Price a car",
        "description": (
            "Validates the car with the shared schema (the same field/reason messages as online and batch "
            "scoring), prices it and keeps the record before answering. The `Location` header is the new "
            "prediction's URL."
        ),
        "operationId": "create_prediction",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(car)}}},
        "responses": {
            "201": {
                "description": "Priced and recorded",
                "headers": {"Location": {"description": "URL of the new prediction", "schema": {"type": "string"}}},
                "content": {"application/json": {"schema": _ref(Prediction)}},
            },
            "413": _error("Body too large"),
            "415": _error("Not JSON"),
            "422": _error("Invalid car: one entry per bad field, with the reason"),
            "503": _error("The model or the prediction store is unavailable; retry later"),
        },
    }


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, summary=app.summary, description=app.description,
            routes=app.routes,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        car = app.state.dataset.row_model  # the served data set's row model (app.main.create_app)
        for model in (car, Prediction, ErrorBody):
            _add_schema(schemas, model)
        doc["paths"].setdefault(PATH, {})["post"] = _price_a_car(car)
        app.openapi_schema = doc
    return app.openapi_schema
