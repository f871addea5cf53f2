"""A small interpreter for the Go expressions and statements that build provider schemas.

It evaluates literals, constants, `[]string{...}` and `map[...]...{...}` literals, struct literals
(`pluginsdk.Schema{...}`), calls to schema helpers anywhere in the provider or its vendored modules
(`commonschema.Location()`, `workspaces.PossibleValuesForIsolationMode()`), and the statements those
helpers use: `x := ...`, `x["k"] = ...`, `if !features.FivePointOh() {...}`, `delete(...)`, `return ...`.
Calls into the plugin SDK's validation package are kept as `Validator` values for the extractor to read.
Anything else becomes `Opaque`: the extractor records it as unresolved instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from tools.checks.provider_rules.gosource import Decl, Package, Source, find_all, package_directory, text
from tools.checks.provider_rules.values import (
    CONVERSIONS,
    GO_CONSTANTS,
    KNOWN_CALLS,
    MAX_DEPTH,
    SDK_ENUM_NAMES,
    VALIDATION_PACKAGES,
    FuncRef,
    Opaque,
    Regex,
    Spread,
    Struct,
    Validator,
)


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Frame:
    package: Package
    decl: Decl
    locals: dict[str, Any] = field(default_factory=dict)
    receiver: str | None = None
    receiver_type: str | None = None

    @property
    def imports(self) -> dict[str, str]:
        return self.decl.imports

    def where(self, node: Node) -> str:
        return f"{self.decl.file}:{node.start_point[0] + 1}"


def go_string(node: Node) -> str:
    raw = text(node)
    if node.type == "raw_string_literal":
        return raw[1:-1]
    try:
        return str(json.loads(raw))
    except ValueError:
        return raw[1:-1]


class Evaluator:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.depth = 0
        self._values: dict[tuple[str, str], Any] = {}
        # One handler per Go node kind; a kind without one is not followed (statements) or Opaque (expressions).
        self._statements: dict[str, Callable[[Node, Frame], None]] = {
            "return_statement": self._return,
            "short_var_declaration": self._assignment,
            "assignment_statement": self._assignment,
            "var_declaration": self._var_declaration,
            "if_statement": self._if,
            "expression_statement": self._expression_statement,
            "block": self.run_block,
            "for_statement": self._for,
            "expression_switch_statement": self._taint,
            "type_switch_statement": self._taint,
            "select_statement": self._taint,
        }
        self._expressions: dict[str, Callable[[Node, Frame], Any]] = {
            "interpreted_string_literal": lambda node, _: go_string(node),
            "raw_string_literal": lambda node, _: go_string(node),
            "int_literal": self._int,
            "float_literal": lambda node, _: float(text(node)),
            "true": lambda *_: True,
            "false": lambda *_: False,
            "nil": lambda *_: None,
            "variadic_argument": self._variadic,
            # x.(*pluginsdk.Resource) is x
            "type_assertion_expression": lambda node, frame: self.eval(node.child_by_field_name("operand"), frame),  # type: ignore[arg-type]
            "parenthesized_expression": lambda node, frame: self.eval(node.named_children[0], frame),
            "literal_element": lambda node, frame: self.eval(node.named_children[0], frame),
            "identifier": lambda node, frame: self._identifier(text(node), frame),
            "selector_expression": lambda node, frame: self._selector(node, frame, None),
            "call_expression": self._call,
            "composite_literal": lambda node, frame: self._composite(
                node.child_by_field_name("type"), node.child_by_field_name("body"), frame),  # type: ignore[arg-type]
            "literal_value": lambda node, frame: self._composite(None, node, frame),
            "unary_expression": self._unary,
            "binary_expression": self._binary,
            "index_expression": self._index,
            "func_literal": lambda node, frame: FuncRef(f"inline function at {frame.where(node)}"),
        }

    # ---- declarations -------------------------------------------------------------------------
    def call_function(self, package: Package, decl: Decl, args: list[Any], receiver: Any = None) -> Any:
        node = decl.node
        if self.depth >= MAX_DEPTH:
            return Opaque(f"recursion limit in {decl.file}")
        frame = Frame(package, decl)
        if node.type == "method_declaration":
            receiver_params = node.child_by_field_name("receiver")
            names = [text(n) for p in receiver_params.named_children for n in p.children_by_field_name("name")]  # type: ignore[union-attr]
            frame.receiver = names[0] if names else None
            frame.receiver_type = text(receiver_params).strip("()").split()[-1].lstrip("*")  # type: ignore[arg-type]
        self._bind(node.child_by_field_name("parameters"), args, frame)
        body = node.child_by_field_name("body")
        if body is None:
            return Opaque(f"no body: {decl.file}")
        self.depth += 1
        try:
            self.run_block(body, frame)
        except _Return as done:
            return done.value
        finally:
            self.depth -= 1
        return Opaque(f"no return reached in {decl.file}:{node.start_point[0] + 1}")

    @staticmethod
    def _bind(params: Node | None, args: list[Any], frame: Frame) -> None:
        """Parameters to arguments; a variadic `xs ...T` takes the rest (or the slice spread as `xs...`)."""
        position = 0
        for declaration in params.named_children if params is not None else []:
            for name in declaration.children_by_field_name("name"):
                if declaration.type == "variadic_parameter_declaration":
                    rest = args[position:]
                    spread = len(rest) == 1 and isinstance(rest[0], Spread)
                    frame.locals[text(name)] = list(rest[0].items) if spread else rest
                    return
                frame.locals[text(name)] = args[position] if position < len(args) else Opaque(text(name))
                position += 1

    def package_value(self, package: Package, name: str) -> Any:
        key = (package.directory, name)
        if key not in self._values:
            self._values[key] = Opaque(f"{package.directory}.{name}")  # guards self-reference
            decl = package.values[name]
            names = [text(n) for n in decl.node.children_by_field_name("name")]
            values = decl.node.child_by_field_name("value")
            if values is None or len(values.named_children) != len(names):
                self._values[key] = Opaque(f"{package.directory}.{name} (iota or implicit value)")
            else:
                frame = Frame(package, decl)
                self._values[key] = self.eval(values.named_children[names.index(name)], frame)
        return self._values[key]

    def _qualified(self, package: Package, name: str, args: list[Any] | None) -> Any:
        if args is not None and f"{package.directory}.{name}" in KNOWN_CALLS:
            return KNOWN_CALLS[f"{package.directory}.{name}"]
        if name in package.values and args is None:
            return self.package_value(package, name)
        if name in package.funcs:
            if args is None:
                return FuncRef(f"{package.directory.rsplit('/', 1)[-1]}.{name}")
            return self.call_function(package, package.funcs[name], args)
        return Opaque(f"{package.directory}.{name}")

    # ---- statements ---------------------------------------------------------------------------
    def run_block(self, block: Node, frame: Frame) -> None:
        for statement in block.named_children:
            if statement.type == "statement_list":
                self.run_block(statement, frame)
            else:
                self.run(statement, frame)

    def run(self, node: Node, frame: Frame) -> None:
        statement = self._statements.get(node.type)
        if statement is not None:
            statement(node, frame)

    def _return(self, node: Node, frame: Frame) -> None:
        values = node.named_children
        raise _Return(self.eval(values[0].named_children[0], frame) if values else None)

    def _assignment(self, node: Node, frame: Frame) -> None:
        left = node.child_by_field_name("left").named_children  # type: ignore[union-attr]
        right = node.child_by_field_name("right").named_children  # type: ignore[union-attr]
        operator = node.child_by_field_name("operator")
        if operator is not None and text(operator) not in ("=", ":="):
            return
        for target, value in zip(left, right, strict=False):
            self.assign(target, self.eval(value, frame), frame)

    def _var_declaration(self, node: Node, frame: Frame) -> None:
        for spec in node.named_children:
            initial = spec.child_by_field_name("value")
            names = spec.children_by_field_name("name")
            for i, name in enumerate(names):
                frame.locals[text(name)] = (
                    self.eval(initial.named_children[i], frame) if initial and i < len(initial.named_children)
                    else Opaque(f"zero value of {text(name)}")
                )

    def _if(self, node: Node, frame: Frame) -> None:
        initializer = node.child_by_field_name("initializer")
        if initializer is not None:
            self.run(initializer, frame)
        condition = self.eval(node.child_by_field_name("condition"), frame)  # type: ignore[arg-type]
        if condition is True:
            self.run_block(node.child_by_field_name("consequence"), frame)  # type: ignore[arg-type]
        elif condition is False and (alternative := node.child_by_field_name("alternative")) is not None:
            if alternative.type == "block":
                self.run_block(alternative, frame)
            else:
                self.run(alternative, frame)
        elif not isinstance(condition, bool):
            self._taint(node, frame)

    def _expression_statement(self, node: Node, frame: Frame) -> None:
        call = node.named_children[0]
        if call.type == "call_expression" and text(call.child_by_field_name("function")) == "delete":  # type: ignore[arg-type]
            target, key = (self.eval(a, frame) for a in call.child_by_field_name("arguments").named_children)  # type: ignore[union-attr]
            if isinstance(target, dict):
                target.pop(key, None)

    def _for(self, node: Node, frame: Frame) -> None:
        if not self._copy_loop(node, frame):
            self._taint(node, frame)

    def _taint(self, node: Node, frame: Frame) -> None:
        """Variables a statement we do not follow may change (a loop, an unknown branch) become unknown."""
        for assignment in find_all(node, "assignment_statement", "short_var_declaration"):
            for target in assignment.child_by_field_name("left").named_children:  # type: ignore[union-attr]
                if target.type == "identifier" and text(target) in frame.locals:
                    frame.locals[text(target)] = Opaque(f"{text(target)}, changed at {frame.where(node)}")

    def _copy_loop(self, node: Node, frame: Frame) -> bool:
        """`for k, v := range src { dst[k] = v }`: the one loop shape schema builders use to merge maps."""
        clause = next((c for c in node.named_children if c.type == "range_clause"), None)
        body = node.child_by_field_name("body")
        if clause is None or body is None or clause.child_by_field_name("left") is None:
            return False
        names = [text(n) for n in clause.child_by_field_name("left").named_children]  # type: ignore[union-attr]
        source = self.eval(clause.child_by_field_name("right"), frame)  # type: ignore[arg-type]
        statements = find_all(body, "assignment_statement")
        if not isinstance(source, dict) or len(names) != 2 or len(statements) != 1:
            return False
        for key, value in list(source.items()):
            frame.locals[names[0]], frame.locals[names[1]] = key, value
            self.run_block(body, frame)
        return True

    def assign(self, target: Node, value: Any, frame: Frame) -> None:
        if target.type == "identifier":
            frame.locals[text(target)] = value
        elif target.type == "index_expression":
            container = self.eval(target.child_by_field_name("operand"), frame)  # type: ignore[arg-type]
            key = self.eval(target.child_by_field_name("index"), frame)  # type: ignore[arg-type]
            if isinstance(container, dict) and isinstance(key, str):
                container[key] = value
        elif target.type == "selector_expression":
            owner = self.eval(target.child_by_field_name("operand"), frame)  # type: ignore[arg-type]
            if isinstance(owner, Struct):
                owner.fields[text(target.child_by_field_name("field"))] = value  # type: ignore[arg-type]

    # ---- expressions --------------------------------------------------------------------------
    def eval(self, node: Node, frame: Frame) -> Any:
        expression = self._expressions.get(node.type)
        return expression(node, frame) if expression is not None else Opaque(text(node))

    @staticmethod
    def _int(node: Node, frame: Frame) -> Any:
        try:
            return int(text(node).replace("_", ""), 0)
        except ValueError:
            return Opaque(text(node))

    def _variadic(self, node: Node, frame: Frame) -> Any:
        spread = self.eval(node.named_children[0], frame)
        return Spread(spread) if isinstance(spread, list) else Opaque(text(node))

    def _unary(self, node: Node, frame: Frame) -> Any:
        operator = text(node.child_by_field_name("operator"))  # type: ignore[arg-type]
        operand = self.eval(node.child_by_field_name("operand"), frame)  # type: ignore[arg-type]
        if operator == "&":
            return operand
        if operator == "!" and isinstance(operand, bool):
            return not operand
        if operator == "-" and isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand
        return Opaque(text(node))

    def _index(self, node: Node, frame: Frame) -> Any:
        container = self.eval(node.child_by_field_name("operand"), frame)  # type: ignore[arg-type]
        index = self.eval(node.child_by_field_name("index"), frame)  # type: ignore[arg-type]
        if isinstance(container, dict) and isinstance(index, str) and index in container:
            return container[index]
        if isinstance(container, list) and isinstance(index, int) and 0 <= index < len(container):
            return container[index]
        return Opaque(text(node))

    def _identifier(self, name: str, frame: Frame) -> Any:
        if name in frame.locals:
            return frame.locals[name]
        if name in frame.package.values or name in frame.package.funcs:
            return self._qualified(frame.package, name, None)
        return Opaque(name)

    def _selector(self, node: Node, frame: Frame, args: list[Any] | None) -> Any:
        operand = node.child_by_field_name("operand")
        name = text(node.child_by_field_name("field"))  # type: ignore[arg-type]
        alias = text(operand) if operand is not None and operand.type == "identifier" else None
        if alias is not None and alias not in frame.locals and alias in frame.imports:
            return self._imported(frame.imports[alias], name, args)
        if alias is not None and alias == frame.receiver:
            method = frame.package.methods.get((frame.receiver_type or "", name))
            if method is not None and args is not None:
                return self.call_function(frame.package, method, args)
        if args is not None and operand is not None and operand.type == "selector_expression":
            # `r.base.arguments(...)`: a method of an embedded helper, found when only one type declares it
            owner_node = operand.child_by_field_name("operand")
            if owner_node is not None and text(owner_node) == frame.receiver:
                candidates = [d for (_, method_name), d in frame.package.methods.items() if method_name == name]
                if len(candidates) == 1:
                    return self.call_function(frame.package, candidates[0], args)
        owner = self.eval(operand, frame) if operand is not None else None
        if isinstance(owner, Struct) and args is None and name in owner.fields:
            return owner.fields[name]
        return Opaque(text(node))

    def _imported(self, path: str, name: str, args: list[Any] | None) -> Any:
        """`alias.name` (or `alias.name(args)`) where alias is the import of `path`."""
        if path in VALIDATION_PACKAGES:
            return Validator(name, args) if args is not None else FuncRef(f"validation.{name}")
        if name in SDK_ENUM_NAMES and args is None:
            return name
        if path == "regexp" and name == "MustCompile" and args and isinstance(args[0], str):
            return Regex(args[0])
        if "." not in path.split("/")[0]:  # the Go standard library
            return GO_CONSTANTS.get(f"{path}.{name}", Opaque(f"{path}.{name}"))
        return self._qualified(self.source.package(package_directory(path)), name, args)

    def _call(self, node: Node, frame: Frame) -> Any:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is not None and text(function) == "make" and arguments is not None and arguments.named_children:
            made = arguments.named_children[0]
            return {} if made.type == "map_type" else [] if made.type == "slice_type" else Opaque(text(node))
        nodes = [a for a in arguments.named_children if a.type != "type_arguments"] if arguments else []
        args = [self.eval(a, frame) for a in nodes]
        if function is None:
            return Opaque(text(node))
        if function.type == "identifier":
            return self._call_named(node, text(function), args, frame)
        if function.type == "selector_expression":
            return self._selector(function, frame, args)
        if function.type == "func_literal" and not args:  # func() T { ... }()
            inner = Frame(frame.package, frame.decl, dict(frame.locals), frame.receiver, frame.receiver_type)
            try:
                self.run_block(function.child_by_field_name("body"), inner)  # type: ignore[arg-type]
            except _Return as done:
                return done.value
        # Anything else, e.g. pointer.To[T](x) (a generic_type or index_expression), is not followed.
        return Opaque(text(node))

    def _call_named(self, node: Node, name: str, args: list[Any], frame: Frame) -> Any:
        """`name(args)`: a conversion, append, or a function of the same package."""
        if name in CONVERSIONS and len(args) == 1:
            return args[0]
        if name == "append" and args and isinstance(args[0], list):
            extra = args[1:]
            if len(extra) == 1 and isinstance(extra[0], Spread):
                extra = extra[0].items
            return [*args[0], *extra]
        if name in frame.package.funcs and name not in frame.locals:
            return self._qualified(frame.package, name, args)
        return Opaque(text(node))

    def _binary(self, node: Node, frame: Frame) -> Any:
        operator = text(node.child_by_field_name("operator"))  # type: ignore[arg-type]
        left = self.eval(node.child_by_field_name("left"), frame)  # type: ignore[arg-type]
        if operator == "&&" and left is False:
            return False
        if operator == "||" and left is True:
            return True
        right = self.eval(node.child_by_field_name("right"), frame)  # type: ignore[arg-type]
        known = not isinstance(left, Opaque | Struct) and not isinstance(right, Opaque | Struct)
        if operator in ("&&", "||") and isinstance(left, bool) and isinstance(right, bool):
            return left and right if operator == "&&" else left or right
        if known and operator == "==":
            return left == right
        if known and operator == "!=":
            return left != right
        if operator == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        if operator in ("+", "-", "*") and all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right)):
            return {"+": left + right, "-": left - right, "*": left * right}[operator]
        return Opaque(text(node))

    def _composite(self, type_node: Node | None, body: Node, frame: Frame) -> Any:
        type_name = text(type_node) if type_node is not None else ""
        elements = [e for e in body.named_children if e.type in ("keyed_element", "literal_element")]
        if type_node is not None and type_node.type in ("slice_type", "array_type", "implicit_length_array_type"):
            return [self.eval(e, frame) for e in elements]
        if type_node is not None and type_node.type == "map_type":
            return self._map(elements, frame)
        keyed = [e for e in elements if e.type == "keyed_element"]
        if type_node is None and keyed:
            first_key = keyed[0].child_by_field_name("key")
            if first_key is not None and first_key.named_children[0].type != "identifier":
                return self._map(elements, frame)
        if type_node is None and not keyed:
            return [self.eval(e, frame) for e in elements]
        fields = {}
        for element in keyed:
            key = element.child_by_field_name("key")
            value = element.child_by_field_name("value")
            if key is not None and value is not None:
                fields[text(key)] = self.eval(value, frame)
        return Struct(type_name.rsplit(".", 1)[-1], fields, frame.where(body))

    def _map(self, elements: list[Node], frame: Frame) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for element in elements:
            key = element.child_by_field_name("key")
            value = element.child_by_field_name("value")
            if key is not None and value is not None:
                evaluated = self.eval(key, frame)
                result[evaluated if isinstance(evaluated, str | int) else Opaque(text(key))] = self.eval(value, frame)
        return result

