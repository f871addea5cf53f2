"""Engineered features as declared expressions: `log(engine_size)`, `horsepower / curb_weight * 1000`.

The grammar is arithmetic only: numbers, column names, + - * /, and log, sqrt, exp. Each expression is
checked against the columns' declared ranges (interval arithmetic): a division whose divisor's range holds
0, or a log of something that can be 0 or negative, is refused when the declaration is read, so serving
never meets a row that the declaration allows but the expression cannot compute.

The checked expressions compile to one plain Python function (no interpreter per row), which keeps the
encoding of a row in the microseconds.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

FUNCTIONS: dict[str, Callable[[float], float]] = {"log": math.log, "sqrt": math.sqrt, "exp": math.exp}
Interval = tuple[float, float]


class ExpressionError(ValueError):
    def __init__(self, feature: str, message: str) -> None:
        super().__init__(message)
        self.feature = feature


def _interval(node: ast.AST, bounds: Mapping[str, Interval | None], feature: str) -> Interval:
    """The range an expression's value can take, given its columns' declared ranges; refuses what it cannot
    compute for every row in those ranges."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value), float(node.value)
    if isinstance(node, ast.Name):
        return _column_interval(node.id, bounds, feature)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        low, high = _interval(node.operand, bounds, feature)
        return (-high, -low) if isinstance(node.op, ast.USub) else (low, high)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        return _arithmetic_interval(node, bounds, feature)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and len(node.args) == 1 and not node.keywords):
        return _function_interval(node.func.id, node.args[0], bounds, feature)
    raise ExpressionError(
        feature, f"{ast.unparse(node)!r} is not allowed: use numbers, columns, + - * / and {', '.join(FUNCTIONS)}"
    )


def _column_interval(name: str, bounds: Mapping[str, Interval | None], feature: str) -> Interval:
    if name not in bounds:
        raise ExpressionError(feature, f"{name!r} is not a number column (or a category column with numbers)")
    found = bounds[name]
    if found is None:
        raise ExpressionError(feature, f"{name!r} has no declared min and max, so its range is unknown")
    return found


def _arithmetic_interval(node: ast.BinOp, bounds: Mapping[str, Interval | None], feature: str) -> Interval:
    (a, b), (c, d) = _interval(node.left, bounds, feature), _interval(node.right, bounds, feature)
    if isinstance(node.op, ast.Add):
        return a + c, b + d
    if isinstance(node.op, ast.Sub):
        return a - d, b - c
    if isinstance(node.op, ast.Div):
        if c <= 0 <= d:
            raise ExpressionError(
                feature, f"divides by {ast.unparse(node.right)}, whose range {c:g} to {d:g} includes 0"
            )
        c, d = 1 / d, 1 / c
    corners = (a * c, a * d, b * c, b * d)
    return min(corners), max(corners)


def _function_interval(name: str, argument: ast.expr, bounds: Mapping[str, Interval | None],
                       feature: str) -> Interval:
    low, high = _interval(argument, bounds, feature)
    shown = ast.unparse(argument)
    if name == "log" and low <= 0:
        raise ExpressionError(feature, f"log of {shown}, whose range starts at {low:g} (must stay above 0)")
    if name == "sqrt" and low < 0:
        raise ExpressionError(feature, f"sqrt of {shown}, whose range starts at {low:g} (must be 0 or more)")
    if name == "exp" and high > 700:
        raise ExpressionError(feature, f"exp of {shown} overflows (range up to {high:g})")
    return FUNCTIONS[name](low), FUNCTIONS[name](high)


def _names(tree: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS]


def compile_features(
    declared: Mapping[str, str], bounds: Mapping[str, Interval | None]
) -> tuple[tuple[str, ...], tuple[str, ...], Callable[..., tuple[float, ...]]]:
    """(feature names, input columns in order, fn(*input values) -> feature values)."""
    trees: list[ast.expr] = []
    for feature, text in declared.items():
        try:
            tree = ast.parse(str(text).strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(feature, f"{text!r} is not an expression ({exc.msg})") from None
        _interval(tree.body, bounds, feature)
        trees.append(tree.body)
    inputs: list[str] = []
    for body in trees:
        inputs += [n for n in _names(body) if n not in inputs]
    # Safe to evaluate: every node was checked above to be a number, a declared column, arithmetic or one
    # of FUNCTIONS, and the function sees no builtins.
    values = ", ".join(ast.unparse(body) for body in trees)
    source = f"lambda {', '.join(inputs)}: ({values}{',' if trees else ''})"
    function = eval(source, {"__builtins__": {}, **FUNCTIONS})  # noqa: S307
    return tuple(declared), tuple(inputs), function
