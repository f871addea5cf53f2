"""A second tabular data set the tests build themselves, structurally unlike the UCI cars: flat rents, with
booleans, an ordinal category, source headers that differ from the column names (the target's too), a source
column the model does not use (listing_ref), a partial id rule, no group figure and another target. Generated
from a known formula plus noise, so a model can learn it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import yaml

DISTRICTS = {"centre": 0.6, "north": 0.1, "south": -0.2, "east": 0.0, "west": 0.25, "harbour": 0.45}
ENERGY = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7}

DECLARATION = {
    "name": "flat-rents",
    "title": "Flat",
    "description": "Monthly rent (EUR) of a flat from its listing; synthetic data built by the test suite.",
    "source": {"file": "rents.csv", "missing": ["", "n/a"]},
    "table": "flats",
    "id": ["district", "floor_area", "rooms", "minutes_to_station", "monthly_rent"],
    "target": {"name": "monthly_rent", "source": "Rent (EUR)", "label": "Monthly rent", "unit": "EUR", "min": 100,
               "max": 20000},
    "level_column": "district",
    "columns": {
        "district": {"type": "category", "label": "District", "required": True,
                     "values": {name: None for name in DISTRICTS}},
        "floor_area": {"type": "number", "label": "Floor area", "required": True, "source": "Floor area (m2)",
                       "unit": "square metres", "unit_short": "m²", "min": 15, "max": 300},
        "rooms": {"type": "integer", "label": "Rooms", "required": True, "min": 1, "max": 9},
        "balcony": {"type": "boolean", "label": "Balcony"},
        "energy_class": {"type": "category", "label": "Energy class", "values": {k: None for k in ENERGY},
                         "numbers": ENERGY},
        "minutes_to_station": {"type": "number", "label": "Walk to the station", "unit": "minutes",
                               "min": 0, "max": 90},
    },
    "engineered": {"area_per_room": "floor_area / rooms", "log_area": "log(floor_area)",
                   "energy_penalty": "energy_class * floor_area / 100"},
}


def _row(rng: np.random.Generator, ref: int) -> dict[str, str]:
    district = str(rng.choice(list(DISTRICTS)))
    rooms = int(rng.integers(1, 7))
    area = float(np.clip(rng.normal(22 + 20 * rooms, 10), 18, 280))
    balcony = bool(rng.random() < 0.4)
    energy = str(rng.choice(list(ENERGY)))
    minutes = float(rng.uniform(1, 40))
    log_rent = (np.log(11.0 * area ** 0.85) + DISTRICTS[district] + 0.06 * balcony - 0.05 * ENERGY[energy]
                - 0.006 * minutes + rng.normal(0, 0.04))
    row = {"listing_ref": str(ref), "district": district, "Floor area (m2)": f"{area:.1f}", "rooms": str(rooms),
           "balcony": "yes" if balcony else "no", "energy_class": energy, "minutes_to_station": f"{minutes:.0f}",
           "Rent (EUR)": f"{np.exp(log_rent):.0f}"}
    for optional in ("balcony", "energy_class", "minutes_to_station"):
        if rng.random() < 0.08:
            row[optional] = "n/a"  # optional columns are sometimes missing, in training and in requests
    return row


def write_rentals(folder: Path, rows: int = 240, seed: int = 3) -> Path:
    """Write rents.csv and flat-rents.yml into `folder`; returns the declaration's path."""
    rng = np.random.default_rng(seed)
    records = [_row(rng, 1000 + i) for i in range(rows)]
    records[5]["Rent (EUR)"] = ""  # no target: set aside as unlabelled
    records[6]["rooms"] = "0"  # out of the declared range: rejected with the reason
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "rents.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    path = folder / "flat-rents.yml"
    path.write_text(yaml.safe_dump(DECLARATION, sort_keys=False))
    return path
