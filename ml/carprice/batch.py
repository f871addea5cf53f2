"""Batch scoring: a CSV of cars in, `predictions.csv` out (the contract the web app's importer loads).

Output columns: car_id, every CarFeatures field (as given), price, price_low, price_high, model_version,
scored_at (ISO-8601 UTC), error (JSON list of {field, reason}; empty price when set).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from ml.carprice.ids import car_id
from ml.carprice.pricer import Pricer
from ml.carprice.schema import FEATURES, INTEGER_FEATURES, NUMERIC_FEATURES, RowError, parse_row

OUTPUT_FILE = "predictions.csv"
OUTPUT_COLUMNS = ("car_id", *FEATURES, "price", "price_low", "price_high", "model_version", "scored_at", "error")
CHUNK = 2048  # rows per ONNX call: large enough to amortise, small enough to stream


def typed_value(name: str, raw: str) -> object:
    """A CSV cell as the schema expects it; a non-number in a numeric column stays a string so the
    schema reports it as a wrong type instead of this function guessing."""
    if name not in NUMERIC_FEATURES:
        return raw
    try:
        number = float(raw)
    except ValueError:
        return raw
    return int(number) if name in INTEGER_FEATURES and number.is_integer() else number


def row_to_input(row: dict[str, str]) -> dict[str, object]:
    """Accept schema names (`body_style`) and the data set's names (`body-style`); blanks and `?` are missing.
    Unknown columns other than car_id/price are passed on so the schema can name them."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if key is None:
            continue
        name = key.strip().replace("-", "_")
        text = (value or "").strip()
        if name in ("car_id", "price") or text in ("", "?"):
            continue
        out[name] = typed_value(name, text)
    return out


def score_rows(pricer: Pricer, rows: Iterable[dict[str, str]], scored_at: str | None = None) -> Iterator[dict]:
    stamp = scored_at or datetime.now(UTC).isoformat(timespec="seconds")
    batch: list[tuple[dict[str, str], object]] = []

    def flush() -> Iterator[dict]:
        cars = [parsed for _, parsed in batch if not isinstance(parsed, list)]
        prices = iter(pricer.predict(cars))  # type: ignore[arg-type]
        for raw, parsed in batch:
            normalized = {k.strip().replace("-", "_"): "" if (v or "").strip() == "?" else (v or "")
                          for k, v in raw.items() if k is not None}
            record = {"car_id": normalized.get("car_id") or car_id(normalized), "model_version": pricer.model_version,
                      "scored_at": stamp, **{f: normalized.get(f, "") for f in FEATURES}}
            if isinstance(parsed, list):
                errors: list[RowError] = parsed
                record.update(price="", price_low="", price_high="",
                              error=json.dumps([e.model_dump() for e in errors]))
            else:
                priced = next(prices)
                record.update(price=priced.price, price_low=priced.low, price_high=priced.high, error="")
            yield record
        batch.clear()

    for row in rows:
        batch.append((row, parse_row(row_to_input(row))))
        if len(batch) >= CHUNK:
            yield from flush()
    yield from flush()


def score_file(model_dir: Path, input_csv: Path, output_csv: Path, *, pricer: Pricer | None = None) -> int:
    """Score every row of `input_csv` into `output_csv`; returns the number of rows written."""
    pricer = pricer or Pricer.load(Path(model_dir))
    output_csv = Path(output_csv)
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with Path(input_csv).open(newline="") as source, output_csv.open("w", newline="") as sink:
        writer = csv.DictWriter(sink, fieldnames=OUTPUT_COLUMNS)
        writer.writeheader()
        for record in score_rows(pricer, csv.DictReader(source)):
            writer.writerow(record)
            written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse

    from ml.carprice.training import DEFAULT_MODEL_DIR

    parser = argparse.ArgumentParser(description="score a CSV of cars into predictions.csv")
    parser.add_argument("input", type=Path)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR.parent / "batch" / OUTPUT_FILE)
    args = parser.parse_args(argv)
    rows = score_file(args.model_dir, args.input, args.out)
    print(f"{rows} rows scored -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
