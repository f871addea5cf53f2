"""Online scoring for Azure ML's inference server (managed online and Kubernetes endpoints).

Contract: `init()` loads the model from AZUREML_MODEL_DIR; `run(raw)` takes a JSON body — a list of rows,
one row, or {"data": [...]} / {"input_data": [...]} — and returns one result per row, in order:
{"price", "low", "high"} or {"errors": [{field, reason}]}. A bad row never fails the request; a body that
is not JSON at all gets a 400 with the reason. Rows are validated with the data set declaration the model
card carries (the one the model was trained on). Model time is the ONNX run only (see ml/carprice/pricer.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# The deployment uploads ml/ as the code folder; its parent holds the `ml` package (locally: the repo root).
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
if _PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, _PACKAGE_PARENT)

from ml.carprice.pricer import CARD_FILE, Pricer  # noqa: E402

MAX_ROWS = 1000  # per request; bigger jobs belong on the batch endpoint
pricer: Pricer | None = None


def find_model_dir(root: Path) -> Path:
    """AZUREML_MODEL_DIR is the model folder locally, and its parent on Azure (…/<version>/<folder>)."""
    if (root / CARD_FILE).exists():
        return root
    for card in sorted(root.glob(f"*/{CARD_FILE}")):
        return card.parent
    raise FileNotFoundError(f"no {CARD_FILE} in {root} or its subfolders")


def init() -> None:
    global pricer
    pricer = Pricer.load(find_model_dir(Path(os.environ["AZUREML_MODEL_DIR"])))


def _rows(body: Any) -> list[Any]:
    if isinstance(body, dict):
        for key in ("data", "input_data"):
            if key in body:
                inner = body[key]
                return inner if isinstance(inner, list) else [inner]
        return [body]
    if isinstance(body, list):
        return body
    return [body]


def _bad_request(message: str) -> Any:
    from azureml.contrib.services.aml_response import AMLResponse

    return AMLResponse({"error": message}, 400, json_str=True)


def score(rows: list[Any]) -> dict[str, Any]:
    assert pricer is not None, "init() was not called"
    parse = pricer.parse_row
    parsed = [parse(row) for row in rows]
    prices = iter(pricer.predict([p for p in parsed if not isinstance(p, list)]))  # type: ignore[misc]
    results: list[dict[str, Any]] = []
    for item in parsed:
        if isinstance(item, list):
            results.append({"errors": [e.model_dump() for e in item]})
        else:
            priced = next(prices)
            results.append({"price": priced.price, "low": priced.low, "high": priced.high})
    return {"model_version": pricer.model_version, "predictions": results}


def run(raw: str | bytes) -> Any:
    try:
        body = json.loads(raw)
    except (TypeError, ValueError) as exc:
        return _bad_request(f"body is not JSON: {exc}")
    rows = _rows(body)
    if len(rows) > MAX_ROWS:
        return _bad_request(f"{len(rows)} rows in one request; at most {MAX_ROWS} (use the batch endpoint)")
    return score(rows)
