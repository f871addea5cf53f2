"""A request body to a car, for every HTTP entry point that prices one (the web app's POST /api/predictions,
the function app's `price`): JSON decoding with reasons in the API's words, and JSON Schema's number
semantics (3.0 is an integer) applied before the shared schema validates it, so both answer a bad body
with the same 422."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import orjson

from ml.carprice.dataset import Dataset, RowError
from ml.carprice.schema import parse_row

if TYPE_CHECKING:
    from ml.carprice.schema import CarFeatures

MAX_DEPTH_REASON = "not valid JSON: nested too deeply (a car is one flat JSON object)"
_MAX_INT_DIGITS = 18  # beyond a 64-bit integer: read as a float, which the schema's bounds then reject


class BodyError(ValueError):
    """Why the body is not a JSON document; the message speaks to the API's user."""


def _int_or_float(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else float(text)


def decode_json(body: bytes) -> Any:
    """The parsed body. orjson is strict (no NaN/Infinity, 64-bit integers): the standard parser then
    decides, so such numbers still reach the schema and get a 422 naming their field."""
    if not body.strip():
        raise BodyError("not valid JSON: the body is empty; send the car as a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise BodyError(MAX_DEPTH_REASON) from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("not valid JSON: the body is not UTF-8 text") from None
    try:
        return json.loads(text, parse_int=_int_or_float)
    except RecursionError:
        raise BodyError(MAX_DEPTH_REASON) from None
    except json.JSONDecodeError as exc:
        raise BodyError(f"not valid JSON: {exc.msg.lower()} at line {exc.lineno}, column {exc.colno}") from None


def parse_car(raw: Any, dataset: Dataset | None = None) -> CarFeatures | list[RowError]:
    return parse_row(raw, dataset)


def read_number(text: str) -> int | float | None:
    """A number written as a JSON body writes it (an HTML form's field, read as the API reads a body), or None:
    `1_22`, Arabic-Indic or full-width digits and `+1` are refused here exactly as the API refuses them."""
    try:
        value = decode_json(text.encode("utf-8", "replace"))
    except BodyError:
        return None
    return None if isinstance(value, bool) or not isinstance(value, int | float) else value
