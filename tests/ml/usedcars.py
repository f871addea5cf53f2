"""A third data set the tests build themselves, shaped like the public used-car sets a newcomer brings: a `Price`
target column, capitalised headers, and make and body spread over one-hot columns (`Buick, Cadillac, ...`,
`convertible, coupe, ...` holding 0/1), declared as two category fields with `one_hot:`. Generated from a
known multiplicative formula plus noise, so a model can learn it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import yaml

MAKES = {"buick": ("Buick", 0.0), "cadillac": ("Cadillac", 0.55), "chevrolet": ("Chevy", -0.2),
         "pontiac": ("Pontiac", -0.1), "saab": ("Saab", 0.35), "saturn": ("Saturn", -0.25)}
BODIES = {"convertible": 0.3, "coupe": 0.05, "hatchback": -0.12, "sedan": 0.0, "wagon": 0.02}

DECLARATION = {
    "name": "used-cars",
    "title": "Car",
    "description": "Asking price (USD) of a used car; synthetic data with one-hot make and body, built by the tests.",
    "source": {"file": "cars.csv"},
    "table": "used_cars",
    "target": {"name": "price", "source": "Price", "label": "Price", "unit": "US dollars", "min": 1000,
               "max": 150000},
    "level_column": "make",
    "grouped_evaluation": {"label": "make-body pair", "columns": ["make", "body"]},
    "columns": {
        "make": {"type": "category", "label": "Make", "required": True,
                 "one_hot": {value: header for value, (header, _) in MAKES.items()}},
        "body": {"type": "category", "label": "Body", "required": True, "one_hot": {b: b for b in BODIES}},
        "mileage": {"type": "number", "label": "Mileage", "required": True, "source": "Mileage", "unit": "miles",
                    "min": 0, "max": 100000},
        "liter": {"type": "number", "label": "Engine", "required": True, "source": "Liter", "unit": "litres",
                  "unit_short": "l", "min": 0.5, "max": 8},
        "cylinders": {"type": "integer", "label": "Cylinders", "source": "Cylinder", "min": 2, "max": 12},
        "cruise": {"type": "boolean", "label": "Cruise control", "source": "Cruise"},
        "leather": {"type": "boolean", "label": "Leather seats", "source": "Leather"},
    },
    "engineered": {"log_liter": "log(liter)", "thousand_miles": "mileage / 1000"},
}
HEADERS = ["Price", "Mileage", "Cylinder", "Liter", "Cruise", "Leather", *(h for h, _ in MAKES.values()), *BODIES]


def _row(rng: np.random.Generator) -> dict[str, str]:
    make, body = str(rng.choice(list(MAKES))), str(rng.choice(list(BODIES)))
    cylinders = int(rng.choice([4, 6, 8]))
    liter = float(np.clip(rng.normal(0.6 * cylinders, 0.3), 1.2, 6.5))
    mileage = float(rng.uniform(300, 50000))
    cruise, leather = bool(rng.random() < 0.7), bool(rng.random() < 0.5)
    log_price = (np.log(17000) + MAKES[make][1] + BODIES[body] + 0.45 * np.log(liter) - 0.000008 * mileage
                 + 0.05 * cruise + 0.04 * leather + rng.normal(0, 0.05))
    row = {"Price": f"{np.exp(log_price):.2f}", "Mileage": f"{mileage:.0f}", "Cylinder": str(cylinders),
           "Liter": f"{liter:.1f}", "Cruise": str(int(cruise)), "Leather": str(int(leather))}
    row |= {header: str(int(value == make)) for value, (header, _) in MAKES.items()}
    return row | {b: str(int(b == body)) for b in BODIES}


def write_usedcars(folder: Path, rows: int = 260, seed: int = 11, declaration: dict | None = None) -> Path:
    """Write cars.csv and used-cars.yml into `folder`; returns the declaration's path."""
    rng = np.random.default_rng(seed)
    records = [_row(rng) for _ in range(rows)]
    records[3] |= {"Buick": "1", "Cadillac": "1"}  # two makes at once: rejected with the reason
    records[4] |= {h: "0" for h, _ in MAKES.values()}  # no make: rejected (make is required)
    records[5]["Price"] = ""  # no target: set aside as unlabelled
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "cars.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADERS)
        writer.writeheader()
        writer.writerows(records)
    path = folder / "used-cars.yml"
    path.write_text(yaml.safe_dump(declaration or DECLARATION, sort_keys=False))
    return path
