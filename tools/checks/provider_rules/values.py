"""What the evaluator turns Go expressions into, and the Go facts it needs that the source does not state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VALIDATION_PACKAGES = (
    "github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation",
    "github.com/hashicorp/terraform-provider-azurerm/internal/tf/validation",
)
# Provider switches whose value is fixed for a 4.x release (FivePointOh reads ARM_FIVEPOINTZERO_BETA, unset in use).
KNOWN_CALLS = {"internal/features.FivePointOh": False}
# Plugin SDK enums declared with iota, kept by name.
SDK_ENUM_NAMES = {"TypeBool", "TypeInt", "TypeFloat", "TypeString", "TypeList", "TypeMap", "TypeSet",
                  "SchemaConfigModeAuto", "SchemaConfigModeAttr", "SchemaConfigModeBlock"}
CONVERSIONS = {"string", "int", "int32", "int64", "float32", "float64", "bool"}
GO_CONSTANTS = {
    "math.MaxInt8": 2**7 - 1, "math.MaxInt16": 2**15 - 1, "math.MaxInt32": 2**31 - 1, "math.MaxInt64": 2**63 - 1,
    "math.MaxInt": 2**63 - 1, "math.MaxUint8": 2**8 - 1, "math.MaxUint16": 2**16 - 1, "math.MaxUint32": 2**32 - 1,
    "math.MinInt32": -(2**31), "math.MinInt64": -(2**63),
}
MAX_DEPTH = 40


@dataclass(frozen=True)
class Opaque:
    """An expression whose value cannot be known statically."""

    source: str


@dataclass
class Struct:
    type: str
    fields: dict[str, Any]
    where: str


@dataclass(frozen=True)
class FuncRef:
    """A function used as a value, e.g. `ValidateFunc: validate.WorkspaceName`."""

    name: str


@dataclass(frozen=True)
class Regex:
    pattern: str


@dataclass
class Validator:
    """A call into the SDK's validation package: `validation.IntBetween(1, 10)`."""

    name: str
    args: list[Any]


@dataclass(frozen=True)
class Spread:
    """A slice passed as `xs...` to a variadic parameter."""

    items: list[Any]
