"""The OpenAPI document: FastAPI's description of its routes, plus POST /api/predictions, whose only
handler is the plain-ASGI lane (app/web/prediction_lane.py) and so is invisible to FastAPI's router, and the
assistant's two JSON routes (app/web/assistant.py), which read their bodies by hand to answer as a stream."""

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


_UNAVAILABLE = "The assistant is not configured here, or Azure OpenAI / AI Search is unavailable; retry later"


def _assistant_paths() -> dict[str, Any]:
    cookie = "An anonymous session: the HttpOnly `carprice_chat` cookie, set on the first answer"
    turn = {"type": "object", "properties": {
        "id": {"type": "string"}, "created_at": {"type": "string"}, "question": {"type": "string"},
        "answer": {"type": ["string", "null"]}, "outcome": {"type": ["string", "null"]},
        "citations": {"type": ["array", "null"], "items": {"type": "string"}},
        "prices": {"type": ["array", "null"], "items": {"type": "object"}},
    }}
    return {
        "/api/assistant/messages": {"post": {
            "tags": ["assistant"], "summary": "Ask the car-buying assistant",
            "description": (
                "The answer streams back as NDJSON events (`tool`, `delta`, `refused`, `error`, `done`): prices "
                "quoted come from the price model, listings are cited as `[listing:<id>]`. " + cookie + "."
            ),
            "operationId": "ask_assistant",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["message"],
                "properties": {"message": {"type": "string", "minLength": 1, "pattern": "\\S",
                                           "description": "The question (at most 2,000 characters by default)"}},
            }}}},
            "responses": {
                "200": {"description": "The answer, one JSON event per line",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "413": _error("The conversation is too long for the model, even without earlier turns"),
                "415": _error("Not JSON"),
                "422": _error("Invalid question, or blocked by the content safety filter (reason `content_filter`)"),
                "429": _error("Rate-limited by Azure OpenAI; the Retry-After header says when to try again"),
                "503": _error(_UNAVAILABLE),
            },
        }},
        "/api/assistant/history": {"get": {
            "tags": ["assistant"], "summary": "The session's recent turns",
            "description": cookie + "; without it the list is empty.",
            "operationId": "assistant_history",
            "responses": {
                "200": {"description": "Oldest first", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"turns": {"type": "array", "items": turn}}}}}},
                "503": _error(_UNAVAILABLE),
            },
        }},
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
        doc["paths"].update(_assistant_paths())
        app.openapi_schema = doc
    return app.openapi_schema
