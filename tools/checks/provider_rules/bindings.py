"""The arguments the pinned cdktn-provider-azurerm bindings accept, to cross-check the extracted table.

The bindings are generated from the provider's own schema dump, so their argument names (nested blocks
included) are a second, independent reading of the same provider version. An argument the bindings have
but the table lacks means the extractor missed code that builds the schema, and may have missed its rules.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from typing import Any

TERRAFORM_META = {"connection", "count", "depends_on", "for_each", "lifecycle", "provider", "provisioners"}
IGNORED = {"id", "timeouts"}  # every resource's optional id and the timeouts block: not provider arguments


def normalize(path: str) -> str:
    """Binding names differ in spelling only: `global_` for `global`, `on30_days` for `on_30_days`."""
    return ".".join(part.rstrip("_").replace("_", "") for part in path.split("."))


def config_class(tf_type: str) -> type | None:
    module = importlib.import_module(f"cdktn_provider_azurerm.{tf_type.removeprefix('azurerm_')}")
    for name in dir(module):
        cls = getattr(module, name)
        if inspect.isclass(cls) and getattr(cls, "TF_RESOURCE_TYPE", None) == tf_type:
            found = getattr(module, f"{name}Config", None)
            return found if inspect.isclass(found) else None
    return None


def _structs(annotation: Any, module: str) -> list[type]:
    """Binding struct classes inside a type hint such as Union[Block, Sequence[Block], IResolvable]."""
    found, pending = [], [annotation]
    while pending:
        hint = pending.pop()
        pending.extend(typing.get_args(hint))
        if inspect.isclass(hint) and hint.__module__ == module and "__init__" in vars(hint):
            found.append(hint)
    return found


def binding_arguments(tf_type: str) -> set[str] | None:
    """Normalized argument paths (`network_rules.default_action` -> `networkrules.defaultaction`)."""
    config = config_class(tf_type)
    if config is None:
        return None
    arguments: set[str] = set()

    def walk(cls: type, prefix: str, seen: frozenset[type]) -> None:
        init = vars(cls)["__init__"]  # generated structs declare their own keyword-only __init__
        hints = typing.get_type_hints(init)
        for name in inspect.signature(init).parameters:
            if name == "self" or (not prefix and name in TERRAFORM_META | IGNORED):
                continue
            path = f"{prefix}{name}"
            arguments.add(normalize(path))
            for struct in _structs(hints.get(name), cls.__module__):
                if struct not in seen:
                    walk(struct, f"{path}.", seen | {struct})

    walk(config, "", frozenset({config}))
    return arguments


def table_arguments(resource: dict[str, Any]) -> set[str]:
    return {normalize(a) for a in resource["arguments"] if a.split(".")[0] not in IGNORED}


def differences(table: dict[str, Any], tf_types: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    """tf_type -> (only in the bindings, only in the table), for the types where they disagree."""
    found = {}
    for tf_type in tf_types:
        bound = binding_arguments(tf_type)
        if bound is None:
            continue
        extracted = table_arguments(table["resources"][tf_type])
        if bound != extracted:
            found[tf_type] = (sorted(bound - extracted), sorted(extracted - bound))
    return found
