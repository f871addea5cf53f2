"""The one input schema for a car to be priced: used by training (gold columns), online scoring
(score.py), batch scoring, and the web app's API (so a bad request gets the same error everywhere).

Allowed values are those of the UCI Automobile data set the model is trained on; numeric bounds
are physically plausible ranges slightly wider than the data, so an absurd value is rejected
with a reason instead of being extrapolated into a meaningless price.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Make = Literal[
    "alfa-romero", "audi", "bmw", "chevrolet", "dodge", "honda", "isuzu", "jaguar", "mazda",
    "mercedes-benz", "mercury", "mitsubishi", "nissan", "peugot", "plymouth", "porsche", "renault",
    "saab", "subaru", "toyota", "volkswagen", "volvo",
]
FuelType = Literal["diesel", "gas"]
Aspiration = Literal["std", "turbo"]
Doors = Literal["two", "four"]
BodyStyle = Literal["convertible", "hardtop", "hatchback", "sedan", "wagon"]
DriveWheels = Literal["4wd", "fwd", "rwd"]
EngineLocation = Literal["front", "rear"]
EngineType = Literal["dohc", "dohcv", "l", "ohc", "ohcf", "ohcv", "rotor"]
Cylinders = Literal["two", "three", "four", "five", "six", "eight", "twelve"]
FuelSystem = Literal["1bbl", "2bbl", "4bbl", "idi", "mfi", "mpfi", "spdi", "spfi"]


def _num(low: float, high: float, unit: str) -> Any:
    return Field(ge=low, le=high, description=f"{unit}, {low:g} to {high:g}", allow_inf_nan=False)


class CarFeatures(BaseModel):
    """A car's attributes. Field names are the data set's column names with `_` for `-`."""

    # strict: "111" is a wrong type, not a number; an int is still accepted where a float is expected.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # Required: what a buyer or field agent knows about any car (the app's form).
    make: Make
    body_style: BodyStyle
    fuel_type: FuelType
    aspiration: Aspiration
    num_of_doors: Doors
    drive_wheels: DriveWheels
    engine_size: Annotated[float, _num(40, 400, "cubic inches")]
    horsepower: Annotated[float, _num(30, 400, "hp")]
    curb_weight: Annotated[float, _num(1000, 5000, "lb")]
    city_mpg: Annotated[float, _num(5, 70, "miles per gallon")]
    highway_mpg: Annotated[float, _num(5, 80, "miles per gallon")]
    # Optional: imputed by the model's pipeline when missing.
    symboling: Annotated[int, Field(ge=-3, le=3)] | None = None
    normalized_losses: Annotated[float, _num(30, 300, "relative loss payment")] | None = None
    engine_location: EngineLocation | None = None
    wheel_base: Annotated[float, _num(70, 140, "inches")] | None = None
    length: Annotated[float, _num(120, 230, "inches")] | None = None
    width: Annotated[float, _num(55, 80, "inches")] | None = None
    height: Annotated[float, _num(40, 70, "inches")] | None = None
    engine_type: EngineType | None = None
    num_of_cylinders: Cylinders | None = None
    fuel_system: FuelSystem | None = None
    bore: Annotated[float, _num(2, 5, "inches")] | None = None
    stroke: Annotated[float, _num(1.5, 5, "inches")] | None = None
    compression_ratio: Annotated[float, _num(5, 30, ":1")] | None = None
    peak_rpm: Annotated[float, _num(3000, 8000, "rpm")] | None = None


FEATURES: tuple[str, ...] = tuple(CarFeatures.model_fields)
REQUIRED_FEATURES: tuple[str, ...] = tuple(n for n, f in CarFeatures.model_fields.items() if f.is_required())
CATEGORICAL_FEATURES: tuple[str, ...] = (
    "make", "body_style", "fuel_type", "aspiration", "num_of_doors", "drive_wheels",
    "engine_location", "engine_type", "num_of_cylinders", "fuel_system",
)
NUMERIC_FEATURES: tuple[str, ...] = tuple(n for n in FEATURES if n not in CATEGORICAL_FEATURES)
INTEGER_FEATURES: tuple[str, ...] = ("symboling",)  # numeric fields that must be whole numbers
TARGET = "price"


def allowed_values(feature: str) -> tuple[str, ...]:
    """The values a categorical feature accepts (for dropdowns and error messages)."""
    annotation = CarFeatures.model_fields[feature].annotation
    args = getattr(annotation, "__args__", ())
    literal = next((a for a in args if getattr(a, "__args__", None)), annotation)
    return tuple(literal.__args__)  # type: ignore[union-attr]


class RowError(BaseModel):
    """Why one input row cannot be priced: one entry per bad field."""

    field: str
    reason: str


def row_errors(error: ValidationError) -> list[RowError]:
    out = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(row)"
        kind = item["type"]
        if kind == "missing":
            reason = "required field is missing"
        elif kind == "extra_forbidden":
            reason = f"unknown field; allowed fields are {', '.join(FEATURES)}"
        elif kind == "literal_error":
            reason = f"unknown value {item.get('input')!r}; allowed: {', '.join(allowed_values(field))}"
        else:
            reason = item["msg"]
        out.append(RowError(field=field, reason=reason))
    return out


def parse_row(raw: Any) -> CarFeatures | list[RowError]:
    """Validate one row; return the car or the list of per-field errors (never raises for bad data)."""
    if not isinstance(raw, dict):
        return [RowError(field="(row)", reason=f"expected a JSON object, got {type(raw).__name__}")]
    try:
        return CarFeatures.model_validate(raw)
    except ValidationError as exc:
        return row_errors(exc)
