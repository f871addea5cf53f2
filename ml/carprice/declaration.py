"""The keys of a data set declaration, as pydantic models: what `ml/carprice/dataset.py` validates a YAML file
against, and what docs/dataset-reference.md is generated from (`make dataset-reference`), so the reference
cannot drift from the code. Each key's description is the reference's text."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NAME = r"^[a-z][a-z0-9_]*$"  # usable as a Python name in expressions and as a Delta column
REFERENCE = "docs/dataset-reference.md"
Name = Annotated[str, Field(pattern=NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """One input column (a feature the model reads and the API and form ask for)."""

    type: Literal["category", "number", "integer", "boolean"] = Field(
        description="`category` (one of `values`), `number`, `integer` or `boolean` (true/false, yes/no, 1/0).")
    label: str = Field(description="What the form and the API schema call the field.")
    required: bool = Field(False, description="Rows without it are rejected (else the model imputes it).")
    source: str | None = Field(None, description="The column's header in the source file when it differs from "
                                                 "the name (e.g. `engine-size`, `Mileage`).")
    one_hot: dict[str, str] | None = Field(
        None, description="A category built from one-hot columns: value -> the source header that is 1 for it "
                          "(e.g. `{buick: Buick, cadillac: Cadillac}`). A row with none of them set has no value "
                          "(rejected when required); a row with two set is rejected. `values` defaults to these.")
    unit: str = Field("", description="Unit in words (form hints, API schema).")
    unit_short: str = Field("", description="Unit as the form shows it (default: `unit`).")
    min: float | None = Field(None, description="number/integer: the lowest value accepted (required for them).")
    max: float | None = Field(None, description="number/integer: the highest value accepted (required for them).")
    values: dict[str, str | None] | None = Field(
        None, description="category: allowed value -> display label (null: the value, title-cased).")
    numbers: dict[str, float] | None = Field(
        None, description="category: a number per value, so engineered features can use it as a quantity.")


class TargetSpec(_Strict):
    """What the model predicts."""

    name: Name = Field(description="The target's column name in the lake (a lower-case identifier).")
    source: str | None = Field(None, description="Its header in the source file when it differs (e.g. `Price`).")
    label: str = Field(description="What the app calls the predicted value.")
    unit: str = Field("", description="Unit in words.")
    min: float = Field(description="Rows with a target below it are rejected.")
    max: float = Field(description="Rows with a target above it are rejected.")
    log: bool = Field(True, description="Learn log(target): errors proportional to the value (prices, rents).")


class SourceSpec(_Strict):
    """The file prep seeds bronze with."""

    file: str = Field(description="CSV file with a header row, relative to the declaration.")
    missing: tuple[str, ...] = Field(("",), description="Cell texts that mean 'no value' (e.g. `?`, `n/a`).")


class GroupSpec(_Strict):
    """Grouped evaluation: rows sharing these columns' values stay in one fold."""

    label: str = Field(description="What one group is called in the card and dashboard (e.g. `platform`).")
    columns: tuple[str, ...] = Field(description="Declared columns whose values together name a group.")


class DeclarationSpec(_Strict):
    """A data set declaration: one YAML file next to its source file."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", description="The data set's name (lower-case, dashes).")]
    title: str = Field(description="What one row is (`Car`): the API schema's name and the form's heading.")
    description: str = Field(description="One sentence for the model card.")
    source: SourceSpec = Field(description="The source file (see below).")
    table: Name = Field(description="The bronze and silver table name.")
    gold_table: Name | None = Field(None, description="The gold table name (default `<table>_features`).")
    id: tuple[str, ...] | Literal["all"] = Field(
        "all", description="Columns whose values identify a row (`all`: every column and the target).")
    target: TargetSpec = Field(description="What the model predicts (see below).")
    columns: dict[Name, ColumnSpec] = Field(description="Input columns by name, in form order (see below).")
    level_column: str | None = Field(
        None, description="A category column whose out-of-fold mean target the model learns; the app also "
                          "partitions and filters its records by it.")
    engineered: dict[Name, str] = Field(
        default_factory=dict, description="Engineered features: name -> arithmetic expression over number columns "
                                          "(+ - * /, log, sqrt, exp), range-checked when the file is read.")
    grouped_evaluation: GroupSpec | None = Field(
        None, description="Evaluate also with rows of one group kept in one fold (see below).")
    summary: tuple[str, ...] | None = Field(
        None, description="The columns a listing of rows shows (default: the first 4 required).")
    gate: dict[str, Any] | str | None = Field(
        None, description="The promotion gate's settings for this data set: a mapping of gate keys (each "
                          "`{value, why}`) or the name of a gate file beside the declaration. Keys not set "
                          "keep the defaults of ml/carprice/gate.yml (listed below).")


SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("top-level keys", DeclarationSpec), ("source", SourceSpec), ("target", TargetSpec), ("columns", ColumnSpec),
    ("grouped_evaluation", GroupSpec))


def reference_link(key: str) -> str:
    """Where the reference describes a dotted key (`columns.make.values` -> docs/dataset-reference.md#columns)."""
    head = key.split(".", 1)[0]
    section = head if head in {name for name, _ in SECTIONS} | {"gate"} else "top-level-keys"
    return f"{REFERENCE}#{section.replace(' ', '-')}"
