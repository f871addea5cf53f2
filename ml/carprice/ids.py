"""Stable car ids: a hash of a row's values, so the same car gets the same id in the lake and in batch
output, and identical rows share one id (which is how silver deduplicates)."""

from __future__ import annotations

import hashlib

from ml.carprice.schema import FEATURES, TARGET

ID_COLUMNS = (*FEATURES, TARGET)


def car_id(values: dict[str, str]) -> str:
    text = "\x1f".join(str(values.get(c, "") or "") for c in ID_COLUMNS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
