"""A tabular data set, declared in one YAML file: its columns (type, unit, allowed values or range, optional
or required, form label, source header or one-hot columns), the target, the id rule and the engineered
features. The keys are ml/carprice/declaration.py's models (reference: docs/dataset-reference.md).

Everything that knows a column reads it from here: prep (typing, validation, the lake tables), the encoding
(ml/carprice/features.py), the model card, ONNX serving, score.py, the web app's API schema and form. The
declaration travels inside the model card, so a served model validates rows exactly as its training did.

A bad declaration raises DatasetError naming the file and the key (`automobile.yml: columns.make.values: ...`).
Select another data set with CARPRICE_DATASET=<path> (`make train DATASET=<path>`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ml.carprice.declaration import ColumnSpec, DeclarationSpec, TargetSpec, reference_link
from ml.carprice.expressions import ExpressionError, compile_features

DATASET_ENV = "CARPRICE_DATASET"
DEFAULT_DECLARATION = Path(__file__).resolve().parents[1] / "data" / "automobile.yml"
TRUE_TEXT = frozenset({"1", "1.0", "true", "yes", "y", "t"})  # a one-hot cell that says "this one"
FALSE_TEXT = frozenset({"0", "0.0", "false", "no", "n", "f", ""})


def json_text(value: Any, limit: int = 60) -> str:
    """A value as JSON writes it (`null`, `"toyota\\u0000"`), shortened: how error messages quote input."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = json_type_name(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_type_name(value: Any) -> str:
    """A JSON value's type in the API's words (not Python's), for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


class DatasetError(ValueError):
    """The declaration is not usable; the message names the file and the key, and where the reference
    (docs/dataset-reference.md) describes that key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(f"{message} (see {reference_link(key)})" if key else message)
        self.key = key


def _fail(where: str, key: str, message: str) -> DatasetError:
    return DatasetError(f"{where}: {key}: {message}", key)


class RowError(BaseModel):
    """Why one input row cannot be used: one entry per bad field."""

    field: str
    reason: str


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    label: str
    required: bool
    source: str
    unit: str
    unit_short: str
    minimum: float | None
    maximum: float | None
    values: tuple[str, ...]
    value_labels: dict[str, str]
    numbers: dict[str, float]
    one_hot: dict[str, str] = field(default_factory=dict)  # value -> the source header that is 1 for it

    @property
    def is_category(self) -> bool:
        return self.type == "category"

    def spellings(self) -> tuple[str, ...]:
        """The headers a source row may give this column under (feeds turn "-" into "_")."""
        return tuple(dict.fromkeys((self.name, self.source, self.source.replace("-", "_"))))

    def from_one_hot(self, row: Mapping[str, str], missing: tuple[str, ...]) -> str:
        """The value whose one-hot cell is set; "" when none is; the set values joined by "+" when several
        are (or a cell is not 0/1), which the row model then refuses with the reason (`row_errors`)."""
        chosen, unreadable = [], []
        for value, header in self.one_hot.items():
            text = next((row[k] for k in (header, header.replace("-", "_")) if k in row), "")
            text = "" if text in missing else str(text).strip().lower()
            if text in TRUE_TEXT:
                chosen.append(value)
            elif text not in FALSE_TEXT:
                unreadable.append(f"{header}={text}")
        return "+".join(chosen + unreadable)


@dataclass(frozen=True)
class Dataset:
    """A validated declaration. `raw` is the declaration as plain data (what the model card stores)."""

    raw: dict[str, Any] = field(repr=False)
    origin: str  # the file it came from, for error messages
    spec: DeclarationSpec = field(repr=False)
    columns: tuple[Column, ...] = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def target(self) -> TargetSpec:
        return self.spec.target

    @property
    def source_path(self) -> Path:
        return Path(self.origin).parent / self.spec.source.file

    @property
    def table(self) -> str:
        return self.spec.table

    @property
    def gold_table(self) -> str:
        return self.spec.gold_table or f"{self.spec.table}_features"

    @cached_property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @cached_property
    def features(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @cached_property
    def integers(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.type == "integer")

    @cached_property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.is_category)

    @cached_property
    def numeric(self) -> tuple[str, ...]:
        """Columns the model reads as numbers (booleans as 0/1), in declaration order."""
        return tuple(c.name for c in self.columns if not c.is_category)

    @cached_property
    def summary(self) -> tuple[Column, ...]:
        names = self.spec.summary or self.required[:4]
        return tuple(self.by_name[n] for n in names)

    @cached_property
    def id_columns(self) -> tuple[str, ...]:
        chosen = self.spec.id
        return (*self.features, self.target.name) if chosen == "all" else tuple(chosen)

    @cached_property
    def digest(self) -> str:
        """Identifies the data the declaration reads (its gate settings are not part of it)."""
        data = {k: v for k, v in self.raw.items() if k != "gate"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]

    def source_values(self, row: Mapping[str, Any]) -> dict[str, str]:
        """A source row (a CSV line, a feed record) as text under the declared names, target included: a
        column is read under its name or its `source` header, a one-hot category from its indicator columns.
        Columns the declaration does not name are left out; an absent column is ""."""
        missing = self.spec.source.missing
        out: dict[str, str] = {}
        for column in self.columns:
            found = next((row[k] for k in column.spellings() if k in row), None)
            if found is None and column.one_hot:
                found = column.from_one_hot(row, missing)
            out[column.name] = "" if found is None else str(found).strip()
        target = self.target
        spellings = (target.name, *((target.source, target.source.replace("-", "_")) if target.source else ()))
        out[target.name] = str(next((row[k] for k in spellings if k in row), "") or "").strip()
        return out

    @cached_property
    def engineered(self) -> tuple[tuple[str, ...], tuple[str, ...], Any]:
        """(feature names, the columns they read, a function of those columns' values -> the features)."""
        spec = self.spec
        bounds = {c.name: _bounds(c) for c in self.columns if not c.is_category or c.numbers}
        return compile_features(spec.engineered, bounds)

    @cached_property
    def row_model(self) -> type[BaseModel]:
        """The pydantic model one input row must satisfy (strict: "111" is not a number; unknown fields refused)."""
        fields: dict[str, Any] = {}
        for c in self.columns:
            kind: Any
            if c.is_category:
                kind = Literal[c.values]  # type: ignore[valid-type]
            elif c.type == "boolean":
                kind = bool
            else:
                base = int if c.type == "integer" else float
                described = f"{c.unit}, {c.minimum:g} to {c.maximum:g}" if c.unit else None
                kind = Annotated[base, Field(ge=c.minimum, le=c.maximum, allow_inf_nan=False, description=described)]
            annotated = Annotated[kind, Field(title=c.label)]
            fields[c.name] = (annotated, ...) if c.required else (annotated | None, None)
        config = ConfigDict(extra="forbid", strict=True, frozen=True, title=self.spec.title)
        return create_model(_class_name(self.spec.title), __config__=config, **fields)

    def allowed_values(self, name: str) -> tuple[str, ...]:
        return self.by_name[name].values

    def row_errors(self, error: ValidationError) -> list[RowError]:
        out = []
        for item in error.errors():
            name = ".".join(str(p) for p in item["loc"]) or "(row)"
            kind = item["type"]
            if kind == "missing":
                reason = "required field is missing"
                if name in self.by_name and self.by_name[name].one_hot:
                    reason += f" (none of its one-hot columns {', '.join(self.by_name[name].one_hot.values())} is set)"
            elif kind == "extra_forbidden":
                reason = f"unknown field; allowed fields are {', '.join(self.features)}"
            elif kind == "literal_error":
                reason = self._value_error(name, item.get("input"))
            else:
                reason = item["msg"]
            out.append(RowError(field=name, reason=reason))
        return out

    def _value_error(self, name: str, given: Any) -> str:
        column = self.by_name[name]
        several = given if isinstance(given, list) else str(given).split("+") if column.one_hot else [given]
        if len(several) > 1:
            shown = ", ".join(map(str, several))
            return f"one value expected, got {len(several)} ({shown}); a {self.spec.title.lower()} has one " \
                   f"{column.label.lower()}"
        return f"unknown value {json_text(given)}; allowed: {', '.join(column.values)}"

    def parse_row(self, raw: Any) -> BaseModel | list[RowError]:
        """Validate one row; the row model or the list of per-field errors (never raises for bad data).
        An integral float is an integer (JSON Schema: 3.0 is the integer 3), so every client's JSON is read alike."""
        if not isinstance(raw, dict):
            return [RowError(field="(row)", reason=f"expected a JSON object, got {json_type_name(raw)}")]
        integral = {name: int(v) for name in self.integers if isinstance(v := raw.get(name), float) and v.is_integer()}
        try:
            return self.row_model.model_validate(raw | integral if integral else raw)
        except ValidationError as exc:
            return self.row_errors(exc)

    def typed_value(self, name: str, text: str) -> Any:
        """A source file's cell as the row model expects it; a value that does not convert stays text, so the
        row model names the field and the reason instead of this function guessing."""
        column = self.by_name.get(name)
        if column is None or column.is_category:
            return text
        if column.type == "boolean":
            return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(
                text.lower(), text)
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if column.type == "integer" and number.is_integer() else number

    def card(self) -> dict[str, Any]:
        """The declaration as the model card stores it (`from_card` rebuilds the same Dataset)."""
        return {"origin": Path(self.origin).name, **self.raw}


def _class_name(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", title.title()) or "Row"


def _bounds(column: Column) -> tuple[float, float] | None:
    if column.numbers:
        return min(column.numbers.values()), max(column.numbers.values())
    if column.type == "boolean":
        return 0.0, 1.0
    if column.minimum is None or column.maximum is None:
        return None
    return column.minimum, column.maximum


def _label(value: str) -> str:
    return value.replace("-", " ").replace("_", " ").title() if value.replace("-", "").isalpha() else value


def _column(name: str, spec: ColumnSpec, where: str) -> Column:
    def fail(key: str, message: str) -> DatasetError:
        return _fail(where, f"columns.{name}.{key}", message)

    if spec.one_hot is not None:
        spec = _one_hot_values(spec, fail)
    if spec.type == "category":
        _check_category(spec, fail)
    else:
        _check_range(spec, fail)
    values = tuple(str(v) for v in spec.values or ())
    labels = {str(v): (text or _label(str(v))) for v, text in (spec.values or {}).items()}
    return Column(name, spec.type, spec.label, spec.required, spec.source or name, spec.unit,
                  spec.unit_short or spec.unit, spec.min, spec.max, values, labels, dict(spec.numbers or {}),
                  dict(spec.one_hot or {}))


_ColumnFailure = Callable[[str, str], DatasetError]


def _one_hot_values(spec: ColumnSpec, fail: _ColumnFailure) -> ColumnSpec:
    """A one-hot column's values are its one_hot keys (labelled by their source headers unless it lists them)."""
    one_hot = spec.one_hot or {}
    if spec.type != "category" or spec.source is not None or len(one_hot) < 2:
        raise fail("one_hot", "a category column's values -> their one-hot source headers (at least two; "
                              "no `source` beside it)")
    if spec.values is not None and set(spec.values) != set(one_hot):
        raise fail("one_hot", "must name one source header for each of the column's values, and no other")
    headers_as_labels = {v: (h if h != v else None) for v, h in one_hot.items()}
    return spec.model_copy(update={"values": spec.values or headers_as_labels})


def _check_category(spec: ColumnSpec, fail: _ColumnFailure) -> None:
    if not spec.values:
        raise fail("values", "a category column lists its allowed values")
    for key in ("min", "max"):
        if getattr(spec, key) is not None:
            raise fail(key, "a category column has values, not a range")
    unknown = sorted(set(spec.numbers or {}) - set(spec.values))
    if unknown:
        raise fail("numbers", f"{', '.join(unknown)} not among the column's values")


def _check_range(spec: ColumnSpec, fail: _ColumnFailure) -> None:
    """A number column declares an increasing range; only a category column has values (a boolean, neither)."""
    for key in ("values", "numbers"):
        if getattr(spec, key) is not None:
            raise fail(key, f"only a category column has {key}")
    if spec.type == "boolean":
        return
    if spec.min is None or spec.max is None:
        raise fail("min" if spec.min is None else "max", f"a {spec.type} column declares its range")
    if spec.min >= spec.max:
        raise fail("max", f"{spec.max:g} is not above min {spec.min:g}")


def from_mapping(raw: Mapping[str, Any], origin: str) -> Dataset:
    """Validate a declaration already read into plain data."""
    where = Path(origin).name
    spec = _declaration_spec(raw, where)
    columns = tuple(_column(name, c, where) for name, c in spec.columns.items())
    _check_references(spec, columns, where)
    dataset = Dataset(json.loads(json.dumps(dict(raw))), str(origin), spec, columns)
    try:
        dataset.engineered  # noqa: B018 - compiles and range-checks every expression now, not at first use
    except ExpressionError as exc:
        raise _fail(where, f"engineered.{exc.feature}", f"{exc}") from None
    return dataset


def _declaration_spec(raw: Mapping[str, Any], where: str) -> DeclarationSpec:
    """The declaration's shape; the first problem named by its key (and how many more there are)."""
    try:
        return DeclarationSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = first["msg"]
        if first["type"] == "string_pattern_mismatch":
            message = f"{first.get('input')!r} is not a lower-case name (letters, digits, _); name the " \
                      "source header in `source:` instead"
        raise _fail(where, key, f"{message}{more}") from None


def _check_references(spec: DeclarationSpec, columns: tuple[Column, ...], where: str) -> None:
    """Every name the declaration refers to (target, level column, id, groups, summary) against its columns."""
    names = {c.name for c in columns}
    if not spec.columns:
        raise _fail(where, "columns", "declare at least one column")
    if spec.target.name in names:
        raise _fail(where, "target.name", f"{spec.target.name!r} is also declared as a column")
    if spec.target.min >= spec.target.max or (spec.target.log and spec.target.min <= 0):
        raise _fail(where, "target.min", "the range must be increasing (and above 0 for log: true)")
    if spec.level_column is not None and spec.level_column not in {c.name for c in columns if c.is_category}:
        raise _fail(where, "level_column", f"{spec.level_column!r} is not a category column")
    _check_declared(where, "id", () if spec.id == "all" else spec.id, names | {spec.target.name})
    grouped = spec.grouped_evaluation.columns if spec.grouped_evaluation is not None else ()
    _check_declared(where, "grouped_evaluation.columns", grouped, names)
    _check_declared(where, "summary", spec.summary or (), names)
    clash = sorted(set(spec.engineered) & names)
    if clash:
        raise _fail(where, f"engineered.{clash[0]}", "the name is already a column")


def _check_declared(where: str, key: str, listed: Iterable[str], declared: set[str]) -> None:
    for name in listed:
        if name not in declared:
            raise _fail(where, key, f"{name!r} is not a declared column")


def load(path: str | Path) -> Dataset:
    import yaml  # only reading a declaration file needs YAML (serving rebuilds it from the model card)

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the data set declaration ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path.name}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise DatasetError(f"{path.name}: expected a mapping of keys (name, columns, target, ...)")
    raw.pop("origin", None)
    return from_mapping(raw, str(path.resolve()))


_CARD_CACHE: dict[str, Dataset] = {}


def from_card(card: Mapping[str, Any]) -> Dataset:
    """The Dataset a model card (or a fitted encoder) carries; cached, as serving rebuilds it per model."""
    key = json.dumps(card, sort_keys=True)
    if key not in _CARD_CACHE:
        raw = {k: v for k, v in card.items() if k != "origin"}
        _CARD_CACHE[key] = from_mapping(raw, str(card.get("origin", "model card")))
    return _CARD_CACHE[key]


def declaration_path() -> Path:
    chosen = os.environ.get(DATASET_ENV)
    return Path(chosen) if chosen else DEFAULT_DECLARATION


_ACTIVE: dict[Path, Dataset] = {}


def active() -> Dataset:
    """The selected data set (CARPRICE_DATASET, else the UCI Automobile declaration)."""
    path = declaration_path().resolve()
    if path not in _ACTIVE:
        _ACTIVE[path] = load(path)
    return _ACTIVE[path]
