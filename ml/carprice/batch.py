"""Batch scoring: a CSV of rows in, `predictions.csv` out (the contract the web app's importer loads).

Output columns: car_id, every declared column of the model's data set (as given), price, price_low,
price_high, model_version, scored_at (ISO-8601 UTC), error (JSON list of {field, reason}; empty price when set).
The input may use the declared names or the source file's headers; rows are validated with the declaration
the model card carries.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from ml.carprice.dataset import Dataset, RowError
from ml.carprice.ids import row_id
from ml.carprice.pricer import Pricer

OUTPUT_FILE = "predictions.csv"
RESULT_COLUMNS = ("price", "price_low", "price_high", "model_version", "scored_at", "error")
ID = "car_id"
CHUNK = 2048  # rows per ONNX call: large enough to amortise, small enough to stream


def output_columns(dataset: Dataset) -> tuple[str, ...]:
    return (ID, *dataset.features, *RESULT_COLUMNS)


def _names(dataset: Dataset, row: dict[str, str]) -> dict[str, str]:
    """The row under declared names (source headers and one-hot columns as prep reads them, the row's own id
    kept); `?`-style missing markers blank."""
    stripped = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
    missing = dataset.spec.source.missing
    named = {k: "" if v in missing else v for k, v in dataset.source_values(stripped).items()}
    return named | ({ID: stripped[ID]} if stripped.get(ID) else {})


def row_to_input(dataset: Dataset, row: dict[str, str]) -> dict[str, object]:
    """Blank cells are missing. Columns the declaration does not name (an id, the target, a listing reference)
    are left out, as prep leaves them out of the lake, so a file prep accepts scores the same rows."""
    declared = dataset.by_name
    return {name: dataset.typed_value(name, text) for name, text in _names(dataset, row).items()
            if name in declared and text != ""}


def score_rows(pricer: Pricer, rows: Iterable[dict[str, str]], scored_at: str | None = None) -> Iterator[dict]:
    stamp = scored_at or datetime.now(UTC).isoformat(timespec="seconds")
    dataset = pricer.dataset
    batch: list[tuple[dict[str, str], BaseModel | list[RowError]]] = []

    def flush() -> Iterator[dict]:
        cars = [parsed for _, parsed in batch if not isinstance(parsed, list)]
        prices = iter(pricer.predict(cars))
        for raw, parsed in batch:
            normalized = _names(dataset, raw)
            record: dict[str, object] = {ID: normalized.get(ID) or row_id(normalized, dataset.id_columns),
                      "model_version": pricer.model_version, "scored_at": stamp,
                      **{f: normalized.get(f, "") for f in dataset.features}}
            if isinstance(parsed, list):
                record.update(price="", price_low="", price_high="",
                              error=json.dumps([e.model_dump() for e in parsed]))
            else:
                priced = next(prices)
                record.update(price=priced.price, price_low=priced.low, price_high=priced.high, error="")
            yield record
        batch.clear()

    for row in rows:
        batch.append((row, pricer.parse_row(row_to_input(dataset, row))))
        if len(batch) >= CHUNK:
            yield from flush()
    yield from flush()


def score_file(model_dir: Path, input_csv: Path, output_csv: Path, *, pricer: Pricer | None = None) -> int:
    """Score every row of `input_csv` into `output_csv`; returns the number of rows written."""
    pricer = pricer or Pricer.load(Path(model_dir))
    columns = output_columns(pricer.dataset)
    output_csv = Path(output_csv)
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with Path(input_csv).open(newline="") as source, output_csv.open("w", newline="") as sink:
        writer = csv.DictWriter(sink, fieldnames=columns)
        writer.writeheader()
        for record in score_rows(pricer, csv.DictReader(source)):
            writer.writerow(record)
            written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse

    from ml.carprice.training import DEFAULT_MODEL_DIR

    parser = argparse.ArgumentParser(description="score a CSV of rows into predictions.csv")
    parser.add_argument("input", type=Path)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR.parent / "batch" / OUTPUT_FILE)
    args = parser.parse_args(argv)
    rows = score_file(args.model_dir, args.input, args.out)
    print(f"{rows} rows scored -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
