"""Evaluating constant expressions: the values of INSERT INTO ... VALUES.

ksqlDB evaluates each value expression without any source columns (functions, arithmetic and
constructors are allowed: ``ARRAY[1, 1 + 1]``, ``STRUCT(F := 2.1)``), then brings the value to the
column's type: numbers widen, a DECIMAL or an integer takes a DECIMAL column's scale when it fits
(ksqlDB's value coercer: 1 becomes 1.00 in a DECIMAL(4, 2) column, 100 is refused), ARRAY / MAP / STRUCT
values convert element by element (a STRUCT value may leave fields out: they are NULL), a STRING becomes
a DATE, TIME, TIMESTAMP or BYTES as CAST would read it. Anything else is an error.

Example:
    >>> from decimal import Decimal
    >>> from headwater.engine.functions.registry import FunctionError, FunctionRegistry
    >>> from headwater.parser import types as t
    >>> from headwater.parser.expressions import DecimalLiteral
    >>> evaluate_literal(DecimalLiteral(Decimal("0.05")), t.Decimal(12, 2), FunctionRegistry()).as_py()
    Decimal('0.05')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from headwater.engine.expressions.binder import TypeResolver, bind
from headwater.engine.expressions.casting import cast_datum, is_widening
from headwater.engine.expressions.compiler import compile_expression
from headwater.engine.expressions.errors import ExpressionTypeError
from headwater.engine.expressions.formatting import format_expression
from headwater.engine.expressions.scope import Scope
from headwater.engine.functions.registry import FunctionError, FunctionRegistry
from headwater.engine.schema import format_type
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t
from headwater.parser.expressions import Expression

__all__ = ["LiteralCoercionError", "evaluate_literal", "value_conversion_allowed"]

_FROM_STRING = (t.DATE, t.TIME, t.TIMESTAMP, t.BYTES)
_ONE_ROW = pa.record_batch([pa.nulls(1)], names=["__row"])


class LiteralCoercionError(ExpressionTypeError):
    """A value whose type does not convert to its column's type.

    Attributes:
        source: the value's type; target: the column's type.
    """

    def __init__(self, text: str, source: t.SqlType, target: t.SqlType) -> None:
        self.source, self.target = source, target
        super().__init__(f"Expected type {format_type(target)} but got {text} ({format_type(source)})")


def value_conversion_allowed(source: t.SqlType, target: t.SqlType) -> bool:
    """Whether a value of ``source`` may be stored in a column of ``target`` (see the module docstring)."""
    if is_widening(source, target):
        return True
    if isinstance(target, t.Decimal) and (isinstance(source, t.Decimal) or source in (t.INT, t.BIGINT)):
        return True  # checked against the value itself: 1 fits DECIMAL(4, 2) as 1.00, 100 does not
    if source == t.STRING and target in _FROM_STRING:
        return True
    if isinstance(source, t.Array) and isinstance(target, t.Array):
        return value_conversion_allowed(source.element, target.element)
    if isinstance(source, t.Map) and isinstance(target, t.Map):
        return value_conversion_allowed(source.key, target.key) and value_conversion_allowed(
            source.value, target.value
        )
    if isinstance(source, t.Struct) and isinstance(target, t.Struct):
        return all(
            (other := target.field(name)) is not None and value_conversion_allowed(ft, other)
            for name, ft in source.fields
        )
    return False


def evaluate_literal(
    expression: Expression,
    target: t.SqlType,
    registry: FunctionRegistry,
    *,
    types: TypeResolver | None = None,
    config: Mapping[str, Any] | None = None,
) -> pa.Scalar:
    """The value of a constant ``expression`` as an Arrow scalar of ``target``.

    Raises:
        PlanError: the expression references a column, does not type, fails to evaluate, or its value
            does not convert to ``target`` (:class:`LiteralCoercionError`).
    """
    bound = bind(expression, Scope(), registry, types=types, allow_untyped_null=True)
    arrow_type = to_arrow(target)
    if bound.type is None:
        return pa.scalar(None, type=arrow_type)
    problems: list[str] = []
    value = compile_expression(bound, config=config).evaluate(
        _ONE_ROW, on_error=lambda _row, message: problems.append(message)
    )
    if problems:
        raise PlanError(problems[0])
    if bound.type == target:
        return value[0]
    if not value_conversion_allowed(bound.type, target):
        raise LiteralCoercionError(format_expression(expression), bound.type, target)
    try:
        converted = cast_datum(value, bound.type, target)
    except (FunctionError, pa.ArrowInvalid, ArithmeticError, PlanError) as error:
        raise LiteralCoercionError(format_expression(expression), bound.type, target) from error
    assert isinstance(converted, pa.Array)
    return converted[0]
