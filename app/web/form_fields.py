"""The predictor form, derived from the data set's declaration (ml/carprice/schema.py): labels, units, the
values a dropdown offers and the bounds of a number input all come from it, and a submitted form is turned
into the JSON-shaped dict that parse_row validates (so the page and the API reject the same things). The
Dataset comes from the composition root (app.main.create_app), as the data set the served model was
trained on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ml.carprice.dataset import Dataset, RowError, json_text
from ml.carprice.request_body import read_number

BOOLEAN_CHOICES = (("true", "Yes"), ("false", "No"))


def value_label(dataset: Dataset, value: str, column: str | None = None) -> str:
    """A category value as the declaration labels it (the level column's, unless another column is named)."""
    found = dataset.by_name.get(column or dataset.spec.level_column or "")
    return found.value_labels.get(value, value) if found is not None else value


def level_label(dataset: Dataset) -> str:
    """What the level column's values are called ("make"), or "data set" when it declares none."""
    level = dataset.spec.level_column
    return dataset.by_name[level].label.lower() if level else "data set"


def summary_columns(dataset: Dataset) -> list[tuple[str, str]]:
    """(name, heading with its unit) of the declaration's summary columns."""
    return [(c.name, c.label + (f" ({c.unit_short})" if c.unit_short else "")) for c in dataset.summary]


def cell(dataset: Dataset, value: object, column: str) -> str:
    """A row's value for display: a category by its declared label, a boolean as Yes/No, a number compactly."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"
    return value_label(dataset, str(value), column)


def summary_text(dataset: Dataset, features: dict) -> str:
    """A row in one line, from the declaration's summary columns (e.g. "Audi, Sedan, Gas, 109, 102")."""
    return ", ".join(text for c in dataset.summary if (text := cell(dataset, features.get(c.name), c.name)))


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


def form_fields(dataset: Dataset) -> tuple[FormField, ...]:
    fields = []
    for column in dataset.columns:
        common = FormField(name=column.name, label=column.label, required=column.required)
        if column.is_category:
            fields.append(replace(common, choices=tuple((v, column.value_labels[v]) for v in column.values)))
        elif column.type == "boolean":
            fields.append(replace(common, choices=BOOLEAN_CHOICES, boolean=True))
        else:
            fields.append(replace(common, minimum=column.minimum, maximum=column.maximum,
                                  integer=column.type == "integer", unit=column.unit_short))
    # Required first, each group in the declaration's order.
    return tuple(sorted(fields, key=lambda f: not f.required))


def form_to_row(dataset: Dataset, form: dict[str, str]) -> tuple[dict, list[RowError]]:
    """Strings from an HTML form to typed values; empty optional fields are left out. Numbers are read as the
    API reads them (JSON's number syntax: ASCII digits, no `1_22`), so the form and the API accept the same."""
    row: dict = {}
    errors: list[RowError] = []
    for field in form_fields(dataset):
        text = (form.get(field.name) or "").strip()
        if not text:
            continue  # a missing required field is reported by parse_row, in its words
        if field.boolean:
            row[field.name] = text == "true" if text in ("true", "false") else text
            continue
        if field.is_choice:
            row[field.name] = text
            continue
        number = read_number(text)
        if number is None:
            errors.append(RowError(field=field.name, reason=f"expected a number, got {json_text(text)}"))
            continue
        row[field.name] = number
    return row, errors


def describe_row(dataset: Dataset, row: Mapping[str, object]) -> tuple[str, str]:
    """(title, details) a person recognises a row by, from the declaration's summary columns: the first two
    make the title ("Audi sedan"), the rest the details with their units ("gas · 109 cu in · 102 hp")."""
    parts = []
    for column in dataset.summary:
        text = cell(dataset, row.get(column.name), column.name)
        if text and column.unit_short and not column.values:
            text = f"{text} {column.unit_short}"
        parts.append(text)
    head, rest = parts[:2], parts[2:]
    title = " ".join(p if i == 0 else p.lower() for i, p in enumerate(head) if p) or dataset.spec.title
    return title, " · ".join(p.lower() if p and not p[0].isdigit() else p for p in rest if p)


def distinguishing(dataset: Dataset, rows: Sequence[Mapping[str, object]]) -> list[str]:
    """For each row, the fields that tell it apart from rows that describe_row shows alike ("" when none
    looks like it): e.g. "Curb weight 2,337 lb · Horsepower 102 hp" for two "Audi sedan" rows of one price list."""
    looks = [describe_row(dataset, row) for row in rows]
    groups: dict[tuple[str, str], list[int]] = {}
    for index, look in enumerate(looks):
        groups.setdefault(look, []).append(index)
    out = [""] * len(rows)
    for members in groups.values():
        if len(members) < 2:
            continue
        differing = [c for c in dataset.columns if len({str(rows[i].get(c.name)) for i in members}) > 1]
        for i in members:
            parts = []
            for column in differing:
                text = cell(dataset, rows[i].get(column.name), column.name) or "–"
                unit = f" {column.unit_short}" if column.unit_short and not column.values and text != "–" else ""
                parts.append(f"{column.label} {text}{unit}")
            out[i] = " · ".join(parts)
    return out
