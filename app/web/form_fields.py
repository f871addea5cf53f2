"""The predictor form, derived from the data set's declaration (ml/carprice/schema.py): labels, units, the
values a dropdown offers and the bounds of a number input all come from it, and a submitted form is turned
into the JSON-shaped dict that parse_row validates (so the page and the API reject the same things)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from ml.carprice.schema import DATASET, LEVEL_COLUMN, RowError

BOOLEAN_CHOICES = (("true", "Yes"), ("false", "No"))


def value_label(value: str, column: str | None = LEVEL_COLUMN) -> str:
    """A category value as the declaration labels it (the level column's, unless another column is named)."""
    found = DATASET.by_name.get(column or "")
    return found.value_labels.get(value, value) if found is not None else value


def cell(value: object, column: str) -> str:
    """A row's value for display: a category by its declared label, a boolean as Yes/No, a number compactly."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"
    return value_label(str(value), column)


def summary_text(features: dict) -> str:
    """A row in one line, from the declaration's summary columns (e.g. "Audi, Sedan, Gas, 109, 102")."""
    return ", ".join(text for c in DATASET.summary if (text := cell(features.get(c.name), c.name)))


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    required: bool
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for dropdowns
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    boolean: bool = False
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
    fields = []
    for column in DATASET.columns:
        common = {"name": column.name, "label": column.label, "required": column.required}
        if column.is_category:
            fields.append(FormField(**common, choices=tuple((v, column.value_labels[v]) for v in column.values)))
        elif column.type == "boolean":
            fields.append(FormField(**common, choices=BOOLEAN_CHOICES, boolean=True))
        else:
            fields.append(FormField(**common, minimum=column.minimum, maximum=column.maximum,
                                    integer=column.type == "integer", unit=column.unit_short))
    # Required first, each group in the declaration's order.
    return tuple(sorted(fields, key=lambda f: not f.required))


def form_to_row(form: dict[str, str]) -> tuple[dict, list[RowError]]:
    """Strings from an HTML form to typed values; empty optional fields are left out."""
    row: dict = {}
    errors: list[RowError] = []
    for field in form_fields():
        text = (form.get(field.name) or "").strip()
        if not text:
            continue  # a missing required field is reported by parse_row, in its words
        if field.boolean:
            row[field.name] = text == "true" if text in ("true", "false") else text
            continue
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


def describe_row(row: Mapping[str, object]) -> tuple[str, str]:
    """(title, details) a person recognises a row by, from the declaration's summary columns: the first two
    make the title ("Audi sedan"), the rest the details with their units ("gas · 109 cu in · 102 hp")."""
    parts = []
    for column in DATASET.summary:
        text = cell(row.get(column.name), column.name)
        if text and column.unit_short and not column.values:
            text = f"{text} {column.unit_short}"
        parts.append(text)
    head, rest = parts[:2], parts[2:]
    title = " ".join(p if i == 0 else p.lower() for i, p in enumerate(head) if p) or DATASET.spec.title
    return title, " · ".join(p.lower() if p and not p[0].isdigit() else p for p in rest if p)
