"""Binding rules of the operators: arithmetic, comparisons, BETWEEN, IN, LIKE, IS NULL, NOT, AND/OR
and CASE, with ksqlDB's typing and its error texts.

Each function takes the :class:`~headwater.engine.expressions.binder.Binder` (for binding operands
and printing them in messages) and the parser's node, and returns the bound node with its operands
converted to the type the operation works in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from headwater.engine.expressions.bound import (
    Bound,
    BoundArithmetic,
    BoundBetween,
    BoundCase,
    BoundComparison,
    BoundInList,
    BoundIsNull,
    BoundLike,
    BoundLiteral,
    BoundLogical,
    BoundNegate,
    BoundNot,
    BoundNull,
)
from headwater.engine.expressions.coercion import coerce_type, coerce_user_list, convert
from headwater.engine.expressions.errors import ExpressionTypeError
from headwater.engine.schema import format_type
from headwater.engine.types import (
    arithmetic_result_type,
    base_type_name,
    common_numeric_type,
    comparison_allowed,
    is_numeric,
    is_temporal,
    to_decimal_type,
)
from headwater.parser import expressions as e
from headwater.parser import types as t

if TYPE_CHECKING:
    from headwater.engine.expressions.binder import Binder

__all__ = [
    "bind_arithmetic",
    "bind_between",
    "bind_comparison",
    "bind_in",
    "bind_is_null",
    "bind_like",
    "bind_logical",
    "bind_not",
    "bind_searched_case",
    "bind_simple_case",
    "bind_unary",
    "comparison_type",
]


def _type_text(sql_type: t.SqlType | None) -> str:
    return "null" if sql_type is None else format_type(sql_type)


# ------------------------------------------------------------------------------------------------------
# Arithmetic


def bind_arithmetic(binder: Binder, node: e.ArithmeticBinary) -> Bound:
    """``left op right``: ksqlDB's result type; operands converted to the operation's type."""
    left, right = binder.bind(node.left), binder.bind(node.right)
    if left.type is None or right.type is None:
        raise ExpressionTypeError(
            f"Error processing expression: {binder.text(node)}. Arithmetic on types "
            f"{_type_text(left.type)} and {_type_text(right.type)} are not supported."
        )
    result = arithmetic_result_type(node.op, left.type, right.type)
    if result is None:
        raise ExpressionTypeError(
            f"Error processing expression: {binder.text(node)}. Unsupported arithmetic types. "
            f"{base_type_name(left.type)} {base_type_name(right.type)}"
        )
    if isinstance(result, t.Decimal):
        left_decimal, right_decimal = to_decimal_type(left.type), to_decimal_type(right.type)
        assert left_decimal is not None and right_decimal is not None
        return BoundArithmetic(node.op, convert(left, left_decimal), convert(right, right_decimal), result)
    return BoundArithmetic(node.op, convert(left, result), convert(right, result), result)


def bind_unary(binder: Binder, node: e.ArithmeticUnary) -> Bound:
    """``-x`` keeps x's type (``+x`` is x); only numbers may be signed."""
    operand = binder.bind(node.operand)
    if operand.type is None:
        raise ExpressionTypeError(
            f"Error processing expression: {binder.text(node)}. Arithmetic on types null are not supported."
        )
    if not is_numeric(operand.type):
        raise ExpressionTypeError(
            f"Error processing expression: {binder.text(node)}. Unsupported arithmetic types. "
            f"{base_type_name(operand.type)}"
        )
    if not node.negative:
        return operand
    if isinstance(operand, BoundLiteral):
        return BoundLiteral(-operand.value, operand.type)
    return BoundNegate(operand, operand.type)


# ------------------------------------------------------------------------------------------------------
# Comparisons


def comparison_type(left: t.SqlType, right: t.SqlType) -> t.SqlType | None:
    """The type two comparable operands are compared in: the common number, the temporal type a
    STRING is parsed as, TIMESTAMP for DATE against TIMESTAMP, the common ARRAY / MAP / STRUCT."""
    if left == right:
        return left
    if is_numeric(left) and is_numeric(right):
        return common_numeric_type(left, right)
    if left == t.STRING and is_temporal(right):
        return right
    if right == t.STRING and is_temporal(left):
        return left
    if {left, right} == {t.DATE, t.TIMESTAMP}:
        return t.TIMESTAMP
    return coerce_type(left, right) or coerce_type(right, left)


def _check_comparison(
    binder: Binder,
    op: e.ComparisonOp,
    left_node: e.Expression,
    right_node: e.Expression,
    left: t.SqlType | None,
    right: t.SqlType | None,
) -> t.SqlType:
    if left is None or right is None:
        left_text = "NULL" if left is None else base_type_name(left)
        right_text = "NULL" if right is None else base_type_name(right)
        raise ExpressionTypeError(
            f"Comparison with NULL not supported: {left_text} {op.value} {right_text}\n"
            "Use 'IS NULL' or 'IS NOT NULL' instead."
        )
    common = comparison_type(left, right) if comparison_allowed(left, op, right) else None
    if common is None:
        raise ExpressionTypeError(
            f"Cannot compare {binder.text(left_node)} ({format_type(left)}) to "
            f"{binder.text(right_node)} ({format_type(right)}) with {op.name}."
        )
    return common


def bind_comparison(binder: Binder, node: e.Comparison) -> Bound:
    """``left op right`` with ksqlDB's comparability rules; both operands converted to one type."""
    left, right = binder.bind(node.left), binder.bind(node.right)
    common = _check_comparison(binder, node.op, node.left, node.right, left.type, right.type)
    return BoundComparison(node.op, convert(left, common), convert(right, common))


def bind_between(binder: Binder, node: e.Between) -> Bound:
    """``value BETWEEN low AND high`` is ``value >= low AND value <= high`` (each checked as such)."""
    value, low, high = binder.bind(node.value), binder.bind(node.low), binder.bind(node.high)
    first = _check_comparison(
        binder, e.ComparisonOp.GREATER_THAN_OR_EQUAL, node.value, node.low, value.type, low.type
    )
    _check_comparison(binder, e.ComparisonOp.LESS_THAN_OR_EQUAL, node.value, node.high, value.type, high.type)
    assert high.type is not None
    common = comparison_type(first, high.type) or first
    return BoundBetween(convert(value, common), convert(low, common), convert(high, common), node.negated)


def bind_in(binder: Binder, node: e.InList) -> Bound:
    """``value IN (items)``: NULL items dropped, the rest and the value brought to their common type
    (:func:`~headwater.engine.expressions.coercion.coerce_user_list`)."""
    items = [item for item in node.items if not isinstance(item, e.NullLiteral)]
    common, converted = coerce_user_list(binder, [node.value, *items])
    value = converted[0]
    if common is None or isinstance(value, BoundNull):
        return BoundLiteral(node.negated, t.BOOLEAN)  # a NULL value matches nothing
    return BoundInList(value, tuple(converted[1:]), node.negated)


# ------------------------------------------------------------------------------------------------------
# Predicates


def _boolean_operand(binder: Binder, node: e.Expression, where: str) -> Bound:
    bound = binder.bind(node)
    if bound.type is None:
        return BoundNull(t.BOOLEAN)
    if bound.type != t.BOOLEAN:
        raise ExpressionTypeError(
            f"{where} requires BOOLEAN operands but {binder.text(node)} is {format_type(bound.type)}."
        )
    return bound


def bind_like(binder: Binder, node: e.Like) -> Bound:
    """``value LIKE pattern``: both STRING; a NULL literal on either side makes the result NULL."""
    value, pattern = binder.bind(node.value), binder.bind(node.pattern)
    for operand, sub in ((value, node.value), (pattern, node.pattern)):
        if operand.type is not None and operand.type != t.STRING:
            raise ExpressionTypeError(
                f"LIKE requires STRING operands but {binder.text(sub)} is {format_type(operand.type)}."
            )
    if node.escape is not None and len(node.escape) != 1:
        raise ExpressionTypeError(f"LIKE escape must be a single character: '{node.escape}'")
    if isinstance(pattern, BoundLiteral) and _ends_with_escape(pattern.value, node.escape):
        raise ExpressionTypeError("LIKE pattern must not end with escape character")
    return BoundLike(convert(value, t.STRING), convert(pattern, t.STRING), node.escape, node.negated)


def _ends_with_escape(pattern: str, escape: str | None) -> bool:
    if escape is None:
        return False
    escaped = False
    for char in pattern:
        escaped = not escaped and char == escape
    return escaped


def bind_is_null(binder: Binder, node: e.IsNull) -> Bound:
    """``x IS [NOT] NULL`` accepts any operand, a NULL literal too."""
    operand = binder.bind(node.value)
    if operand.type is None:
        return BoundLiteral(not node.negated, t.BOOLEAN)
    return BoundIsNull(operand, node.negated)


def bind_not(binder: Binder, node: e.Not) -> Bound:
    """``NOT x`` on a BOOLEAN."""
    return BoundNot(_boolean_operand(binder, node.operand, "NOT"))


def bind_logical(binder: Binder, node: e.LogicalBinary) -> Bound:
    """``AND`` / ``OR`` on BOOLEANs."""
    where = node.op.value
    left = _boolean_operand(binder, node.left, where)
    right = _boolean_operand(binder, node.right, where)
    return BoundLogical(node.op, left, right)


# ------------------------------------------------------------------------------------------------------
# CASE


def bind_searched_case(binder: Binder, node: e.SearchedCase) -> Bound:
    """ksqlDB's rules: WHEN conditions are BOOLEAN; every non-NULL THEN has the same type, and so does
    ELSE; a CASE whose branches are all NULL has no type."""
    whens: list[tuple[Bound, Bound]] = []
    result_type: t.SqlType | None = None
    for when in node.whens:
        condition = binder.bind(when.condition)
        if condition.type is None:
            condition = BoundNull(t.BOOLEAN)
        elif condition.type != t.BOOLEAN:
            raise ExpressionTypeError(
                "WHEN operand type should be boolean.\n"
                f"Type for '{binder.text(when.condition)}' is {format_type(condition.type)}"
            )
        result = binder.bind(when.result)
        if result.type is not None:
            if result_type is None:
                result_type = result.type
            elif result.type != result_type:
                clause = f"WHEN {binder.text(when.condition)} THEN {binder.text(when.result)}"
                raise ExpressionTypeError(
                    "Invalid Case expression. Type for all 'THEN' clauses should be the same.\n"
                    f"THEN expression '{clause}' has type: {format_type(result.type)}.\n"
                    f"Previous THEN expression(s) type: {format_type(result_type)}."
                )
        whens.append((condition, result))
    default = binder.bind(node.default) if node.default is not None else None
    if default is not None and default.type is not None:
        if result_type is not None and default.type != result_type:
            raise ExpressionTypeError(
                "Invalid Case expression. Type for the default clause should be the same as for 'THEN' "
                f"clauses.\nTHEN type: {format_type(result_type)}.\nDEFAULT type: {format_type(default.type)}."
            )
        result_type = default.type
    if result_type is None:
        raise ExpressionTypeError("Invalid Case expression. All case branches have NULL type")
    typed = tuple((c, convert(r, result_type)) for c, r in whens)
    return BoundCase(typed, None if default is None else convert(default, result_type), result_type)


def bind_simple_case(binder: Binder, node: e.SimpleCase) -> Bound:
    """``CASE x WHEN v THEN r ...`` is bound as ``CASE WHEN x = v THEN r ...``."""
    whens = tuple(
        e.WhenClause(e.Comparison(e.ComparisonOp.EQUAL, node.operand, w.condition), w.result, span=w.span)
        for w in node.whens
    )
    return bind_searched_case(binder, e.SearchedCase(whens, node.default, span=node.span))
