"""Stable row ids: a hash of a row's values in the declared id columns, so the same row gets the same id in
the lake and in batch output, and identical rows share one id (which is how silver deduplicates).

Values are compared as what they mean, not as they were written: the same car arrives as CSV text
("13495", "9.00", "?") and as JSON from the stream (13495.0, 9, absent), and must get one id."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any


def canonical(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if text in ("", "?"):  # the data set's "unknown" and an absent value are the same
        return ""
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(number) if math.isfinite(number) else text


def row_id(values: Mapping[str, Any], columns: Sequence[str]) -> str:
    text = "\x1f".join(canonical(values.get(c)) for c in columns)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def car_id(values: Mapping[str, Any]) -> str:
    """The id of a row of the selected data set."""
    from ml.carprice.dataset import active

    return row_id(values, active().id_columns)
