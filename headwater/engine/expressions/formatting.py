"""Expressions printed as ksqlDB prints them in messages and generated names (its ExpressionFormatter).

Binary operations are parenthesised (``(A + 1)``), string literals single-quoted, booleans and NULL in
lower case, DOUBLE literals in scientific notation (``1.5E0``), names unquoted, struct dereference as
``A->B``, constructors as ``ARRAY[1, 2]``, ``MAP('a':=1)`` and ``STRUCT(F:=1)``. This text appears in
ksqlDB's errors ("Cannot compare ID (INTEGER) to 'x' (STRING) with EQUAL.") and in the processing log.

A ``column_text`` callback lets the binder print a resolved column the way ksqlDB does after its
rewrites (``I1_BAR`` for ``I1.BAR`` in a join).

Example:
    >>> from headwater.parser.expressions import ArithmeticBinary, ArithmeticOp, ColumnRef, DoubleLiteral
    >>> format_expression(ArithmeticBinary(ArithmeticOp.ADD, ColumnRef("X"), DoubleLiteral(1.5)))
    '(X + 1.5E0)'
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from headwater.engine.schema import format_type
from headwater.parser import expressions as e

__all__ = ["format_double", "format_expression"]

ColumnText = Callable[[e.ColumnRef], str | None]


def format_double(value: float) -> str:
    """A DOUBLE in ksqlDB's literal notation: shortest round-trip digits, scientific, no ``+``.

    Example:
        >>> format_double(1.5), format_double(100.0), format_double(-0.001), format_double(1.7976931348623157e308)
        ('1.5E0', '1E2', '-1E-3', '1.7976931348623157E308')
    """
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    power = exponent + len(text) - 1
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def format_expression(node: e.Expression, column_text: ColumnText | None = None) -> str:
    """``node`` as ksqlDB's ExpressionFormatter prints it (see the module docstring)."""
    return _Formatter(column_text).format(node)


class _Formatter:
    def __init__(self, column_text: ColumnText | None) -> None:
        self.column_text = column_text

    def format(self, node: e.Node) -> str:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise TypeError(f"cannot format {type(node).__name__}")
        return method(node)

    def _binary(self, op: str, left: e.Expression, right: e.Expression) -> str:
        return f"({self.format(left)} {op} {self.format(right)})"

    def _join(self, nodes: tuple[e.Expression, ...]) -> str:
        return ", ".join(self.format(n) for n in nodes)

    def _NullLiteral(self, node: e.NullLiteral) -> str:
        return "null"

    def _BooleanLiteral(self, node: e.BooleanLiteral) -> str:
        return "true" if node.value else "false"

    def _IntegerLiteral(self, node: e.IntegerLiteral) -> str:
        return str(node.value)

    def _DecimalLiteral(self, node: e.DecimalLiteral) -> str:
        return str(node.value)

    def _DoubleLiteral(self, node: e.DoubleLiteral) -> str:
        return format_double(node.value)

    def _StringLiteral(self, node: e.StringLiteral) -> str:
        return "'" + node.value.replace("'", "''") + "'"

    def _TypedLiteral(self, node: e.TypedLiteral) -> str:
        return f"{node.type_name} '" + node.value.replace("'", "''") + "'"

    def _ColumnRef(self, node: e.ColumnRef) -> str:
        if self.column_text is not None:
            text = self.column_text(node)
            if text is not None:
                return text
        return f"{node.source}.{node.name}" if node.source else node.name

    def _LambdaVariable(self, node: e.LambdaVariable) -> str:
        return node.name

    def _Dereference(self, node: e.Dereference) -> str:
        return f"{self.format(node.base)}->{node.field}"

    def _Subscript(self, node: e.Subscript) -> str:
        return f"{self.format(node.base)}[{self.format(node.index)}]"

    def _ArithmeticUnary(self, node: e.ArithmeticUnary) -> str:
        value = self.format(node.operand)
        if not node.negative:
            return "+" + value
        return "-" + (" " if value.startswith("-") else "") + value

    def _ArithmeticBinary(self, node: e.ArithmeticBinary) -> str:
        return self._binary(node.op.value, node.left, node.right)

    def _Comparison(self, node: e.Comparison) -> str:
        return self._binary(node.op.value, node.left, node.right)

    def _LogicalBinary(self, node: e.LogicalBinary) -> str:
        return self._binary(node.op.value, node.left, node.right)

    def _Not(self, node: e.Not) -> str:
        return f"(NOT {self.format(node.operand)})"

    def _Between(self, node: e.Between) -> str:
        text = f"({self.format(node.value)} BETWEEN {self.format(node.low)} AND {self.format(node.high)})"
        return f"(NOT {text})" if node.negated else text

    def _InList(self, node: e.InList) -> str:
        text = f"({self.format(node.value)} IN ({self._join(node.items)}))"
        return f"(NOT {text})" if node.negated else text

    def _Like(self, node: e.Like) -> str:
        escape = f" ESCAPE '{node.escape}'" if node.escape is not None else ""
        text = f"({self.format(node.value)} LIKE {self.format(node.pattern)}{escape})"
        return f"(NOT {text})" if node.negated else text

    def _IsNull(self, node: e.IsNull) -> str:
        return f"({self.format(node.value)} IS {'NOT ' if node.negated else ''}NULL)"

    def _WhenClause(self, node: e.WhenClause) -> str:
        return f"WHEN {self.format(node.condition)} THEN {self.format(node.result)}"

    def _SearchedCase(self, node: e.SearchedCase) -> str:
        parts = ["CASE", *(self.format(w) for w in node.whens)]
        if node.default is not None:
            parts += ["ELSE", self.format(node.default)]
        return "(" + " ".join([*parts, "END"]) + ")"

    def _SimpleCase(self, node: e.SimpleCase) -> str:
        parts = ["CASE", self.format(node.operand), *(self.format(w) for w in node.whens)]
        if node.default is not None:
            parts += ["ELSE", self.format(node.default)]
        return "(" + " ".join([*parts, "END"]) + ")"

    def _Cast(self, node: e.Cast) -> str:
        return f"CAST({self.format(node.operand)} AS {format_type(node.type)})"

    def _ArrayConstructor(self, node: e.ArrayConstructor) -> str:
        return f"ARRAY[{self._join(node.items)}]"

    def _MapConstructor(self, node: e.MapConstructor) -> str:
        return "MAP(" + ", ".join(f"{self.format(k)}:={self.format(v)}" for k, v in node.entries) + ")"

    def _StructConstructor(self, node: e.StructConstructor) -> str:
        return "STRUCT(" + ", ".join(f"{n}:={self.format(v)}" for n, v in node.fields) + ")"

    def _IntervalUnit(self, node: e.IntervalUnit) -> str:
        return node.unit.name

    def _Lambda(self, node: e.Lambda) -> str:
        return f"({', '.join(node.params)}) => {self.format(node.body)}"

    def _FunctionCall(self, node: e.FunctionCall) -> str:
        args = "*" if node.star or (not node.args and node.name.upper() == "COUNT") else self._join(node.args)
        return f"{node.name}({args})"

    def _AtTimeZone(self, node: e.AtTimeZone) -> str:
        return f"{self.format(node.value)} AT TIME ZONE '{node.zone}'"
