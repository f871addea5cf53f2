"""Stable row ids: a hash of a row's values in the declared id columns, so the same row gets the same id in
the lake and in batch output, and identical rows share one id (which is how silver deduplicates)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any


def row_id(values: Mapping[str, Any], columns: Sequence[str]) -> str:
    text = "\x1f".join(str(values.get(c, "") or "") for c in columns)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def car_id(values: Mapping[str, Any]) -> str:
    """The id of a row of the selected data set."""
    from ml.carprice.dataset import active

    return row_id(values, active().id_columns)
