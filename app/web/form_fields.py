"""The predictor form, derived from the shared schema: dropdowns offer exactly the values the model
knows, number inputs carry the schema's bounds, and a submitted form is turned into the JSON-shaped
dict that ml.carprice.schema.parse_row validates (so the page and the API reject the same things)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from ml.carprice.schema import CATEGORICAL_FEATURES, REQUIRED_FEATURES, CarFeatures, RowError, allowed_values

LABELS = {
    "make": "Make", "body_style": "Body style", "fuel_type": "Fuel type", "aspiration": "Aspiration",
    "num_of_doors": "Doors", "drive_wheels": "Drive wheels", "engine_size": "Engine size",
    "horsepower": "Horsepower", "curb_weight": "Curb weight", "city_mpg": "City mileage",
    "highway_mpg": "Highway mileage", "symboling": "Insurance risk rating", "normalized_losses": "Normalized losses",
    "engine_location": "Engine location", "wheel_base": "Wheel base", "length": "Length", "width": "Width",
    "height": "Height", "engine_type": "Engine type", "num_of_cylinders": "Cylinders",
    "fuel_system": "Fuel system", "bore": "Bore", "stroke": "Stroke", "compression_ratio": "Compression ratio",
    "peak_rpm": "Peak rpm",
}
UNITS = {
    "engine_size": "cu in", "horsepower": "hp", "curb_weight": "lb", "city_mpg": "mpg", "highway_mpg": "mpg",
    "wheel_base": "in", "length": "in", "width": "in", "height": "in", "bore": "in", "stroke": "in",
    "compression_ratio": ": 1", "peak_rpm": "rpm",
}
VALUE_LABELS = {
    "std": "Standard", "turbo": "Turbo", "fwd": "Front-wheel drive", "rwd": "Rear-wheel drive",
    "4wd": "Four-wheel drive", "two": "Two", "four": "Four", "gas": "Gas", "diesel": "Diesel",
    "bmw": "BMW", "alfa-romero": "Alfa Romeo", "mercedes-benz": "Mercedes-Benz", "peugot": "Peugeot",
    "dohc": "DOHC", "dohcv": "DOHCV", "l": "L", "ohc": "OHC", "ohcf": "OHCF", "ohcv": "OHCV", "rotor": "Rotary",
}


def value_label(value: str) -> str:
    return VALUE_LABELS.get(value, value.replace("-", " ").title() if value.isalpha() or "-" in value else value)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    required: bool
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for dropdowns
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: str = ""

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    @property
    def hint(self) -> str:
        if self.is_choice:
            return ""
        return f"{self.minimum:g} to {self.maximum:g}{' ' + self.unit if self.unit else ''}"


@cache
def form_fields() -> tuple[FormField, ...]:
    props = CarFeatures.model_json_schema()["properties"]
    fields = []
    for name, prop in props.items():
        spec = next((p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"), prop)
        common = {"name": name, "label": LABELS.get(name, name), "required": name in REQUIRED_FEATURES}
        if name in CATEGORICAL_FEATURES:
            choices = tuple((v, value_label(v)) for v in allowed_values(name))
            fields.append(FormField(**common, choices=choices))
        else:
            fields.append(FormField(
                **common, minimum=spec.get("minimum"), maximum=spec.get("maximum"),
                integer=spec.get("type") == "integer", unit=UNITS.get(name, ""),
            ))
    # Required first, in the order a person reads a car's spec sheet (the schema's order).
    return tuple(sorted(fields, key=lambda f: not f.required))


def form_to_row(form: dict[str, str]) -> tuple[dict, list[RowError]]:
    """Strings from an HTML form to typed values; empty optional fields are left out."""
    row: dict = {}
    errors: list[RowError] = []
    for field in form_fields():
        text = (form.get(field.name) or "").strip()
        if not text:
            continue  # a missing required field is reported by parse_row, in its words
        if field.is_choice:
            row[field.name] = text
            continue
        try:
            number = float(text)
        except ValueError:
            errors.append(RowError(field=field.name, reason=f"{text!r} is not a number"))
            continue
        row[field.name] = int(number) if field.integer and number.is_integer() else number
    return row, errors


def _number(value: object) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else ""


def describe_car(car: Mapping[str, object]) -> tuple[str, str]:
    """(title, details) a person recognises a car by: "Audi sedan", "four doors · gas turbo · 109 cu in,
    five cylinders · 102 hp" (whatever of these the record has)."""
    def label(name: str) -> str:
        value = car.get(name)
        return value_label(value) if isinstance(value, str) and value else ""

    title = " ".join(p for p in (label("make"), label("body_style").lower()) if p) or "Car"
    doors = f"{label('num_of_doors').lower()} doors" if label("num_of_doors") else ""
    fuel = " ".join(p for p in (label("fuel_type").lower(), "turbo" if car.get("aspiration") == "turbo" else "") if p)
    engine = f"{_number(car.get('engine_size'))} cu in" if _number(car.get("engine_size")) else ""
    if engine and label("num_of_cylinders"):
        engine += f", {label('num_of_cylinders').lower()} cylinders"
    power = f"{_number(car.get('horsepower'))} hp" if _number(car.get("horsepower")) else ""
    return title, " · ".join(p for p in (doors, fuel, engine, power) if p)
