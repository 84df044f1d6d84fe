"""Compiling bound expressions into vectorized evaluators, and evaluating them with ksqlDB's handling
of rows that fail.

:func:`compile_expression` (exported as ``compile``) turns a bound tree into a
:class:`CompiledExpression`, once per query. ``evaluate(batch)`` computes the expression for every row
of a ``pyarrow.RecordBatch`` with Arrow compute and numpy, and returns one array of the batch's length.

Failing rows. ksqlDB evaluates row by row; when evaluating a row throws (a function rejects its input,
an integer division by zero, a CAST of ``'abc'`` to INTEGER...), the row's value is NULL and the error
goes to the processing log; the record itself is kept. Here the root is evaluated with
:func:`~headwater.engine.expressions.guards.evaluate_isolating`: rows that operators mark as failed
become NULL, and a kernel that raises fails the batch, which is halved until the failing rows are
isolated (clean halves stay vectorized). Each failing row is reported once, in row order, to the
``on_error(row, message)`` callback given to :func:`compile_expression` or to ``evaluate``, with
``message = f"{context}: {cause}"`` (``context`` defaults to "Error computing expression"; the planner
passes ksqlDB's "Error computing expression (A / B) for column X with index 1", see
:func:`~headwater.engine.expressions.naming.error_context`).

Guarded values. ksqlDB's generated code (``ksql.nested.error.handling``, on by default) wraps some
nested values so that their failure makes only them NULL, logged as ``Error processing <what>``:

=======================================  ==================================================
guarded value                            ``<what>``
=======================================  ==================================================
a function call passed to a function     the inner function's name (``PARSE_DATE``)
a dereference passed to a function       the field's name
every explicit CAST, and the implicit    the target type (``INTEGER``)
conversion of a function argument or an
IN list item
an ARRAY constructor's item              ``array item``
a MAP constructor's key / value          ``map key`` / ``map value``
a STRUCT constructor's field             ``struct field``
=======================================  ==================================================

So ``ARRAY[44, STRINGTODATE(x, 'yyyyMMdd')]`` is ``[44, NULL]`` when ``x`` does not parse, and
``COALESCE(PARSE_DATE(a, f), PARSE_DATE(b, f))`` falls through to its second argument; the guarded
failure is reported as ``Error processing PARSE_DATE: <cause>`` for its row. Anything else fails the
whole value: ``IFNULL(a / 0, 1)`` is NULL, not 1 (arithmetic is not guarded). ksqlDB returns the
expression's default value from a guard (FALSE inside a WHERE clause); Headwater returns NULL, which
the guarded value's consumer sees the same way except in that corner. With
``ksql.nested.error.handling=false`` in the query's configuration nothing is guarded.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.expressions.bound import BoundArithmetic, BoundColumn
    >>> from headwater.parser.expressions import ArithmeticOp
    >>> from headwater.parser import types as t
    >>> expr = compile_expression(BoundArithmetic(
    ...     ArithmeticOp.DIVIDE, BoundColumn("A", t.INT), BoundColumn("B", t.INT), t.INT))
    >>> errors = []
    >>> expr.evaluate(pa.record_batch({"A": pa.array([7, -7, 1], pa.int32()), "B": pa.array([2, 2, 0], pa.int32())}),
    ...               on_error=lambda row, message: errors.append((row, message))).to_pylist()
    [3, -3, None]
    >>> errors
    [(2, 'Error computing expression: / by zero')]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

import pyarrow as pa

from headwater.engine.casts.rules import type_text
from headwater.engine.expressions import nodes as n
from headwater.engine.expressions.arrays import broadcast
from headwater.engine.expressions.bound import (
    Bound,
    BoundArithmetic,
    BoundArray,
    BoundBetween,
    BoundCall,
    BoundCase,
    BoundCast,
    BoundColumn,
    BoundComparison,
    BoundDereference,
    BoundInList,
    BoundIntervalUnit,
    BoundIsNull,
    BoundLambda,
    BoundLambdaVariable,
    BoundLike,
    BoundLiteral,
    BoundLogical,
    BoundMap,
    BoundNegate,
    BoundNot,
    BoundNull,
    BoundStruct,
    BoundSubscript,
    walk_bound,
)
from headwater.engine.expressions.frame import RootFrame
from headwater.engine.expressions.guards import GuardNode, evaluate_isolating
from headwater.engine.functions.registry import TableFunction
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "CompiledExpression",
    "CompiledTableFunction",
    "ErrorCallback",
    "compile_expression",
    "compile_table_function",
    "literal_scalar",
]

ErrorCallback = Callable[[int, str], None]
"""Receives (row index in the batch, message) for each row whose value failed and was made NULL."""

DEFAULT_CONTEXT = "Error computing expression"


def literal_scalar(value: Any, sql_type: t.SqlType) -> pa.Scalar:
    """A bound literal's value as an Arrow scalar of its SQL type."""
    return pa.scalar(value, type=to_arrow(sql_type))


class CompiledExpression:
    """A bound expression ready to evaluate over batches (see the module docstring).

    Attributes:
        bound: the bound tree it was compiled from.
        type: its SQL type; ``arrow_type`` the Arrow type of every result.
    """

    def __init__(
        self,
        bound: Bound,
        *,
        config: Mapping[str, Any] | None = None,
        context: str | None = None,
        on_error: ErrorCallback | None = None,
    ) -> None:
        if bound.type is None:
            raise PlanError("Can't evaluate an expression of unknown type (an untyped NULL)")
        self.bound = bound
        self.type: t.SqlType = bound.type
        self.arrow_type = to_arrow(bound.type)
        self.config = dict(config or {})
        self.context = context or DEFAULT_CONTEXT
        self.on_error = on_error
        token = _GUARDS.set(nested_error_handling(self.config))
        try:
            self.node = _compile(bound)
        finally:
            _GUARDS.reset(token)
        self.reads_columns = _reads_rows(bound)

    def evaluate(self, batch: pa.RecordBatch, on_error: ErrorCallback | None = None) -> pa.Array:
        """The expression's value for every row of ``batch`` (NULL for failing rows, which are
        reported to ``on_error``, or to the callback given at compile time, with the guarded
        failures of each row before its own failure)."""
        if batch.num_rows == 0:
            return pa.array([], type=self.arrow_type)
        root = RootFrame(batch, self.config)
        datum, failures = evaluate_isolating(
            self.node, root, self.arrow_type, reads_rows=self.reads_columns
        )
        values = broadcast(datum, batch.num_rows)
        reporter = on_error or self.on_error
        if reporter is not None and (failures or root.reports):
            messages: list[tuple[int, int, str]] = []
            for order, (rows, message) in enumerate(root.reports):
                messages.extend((int(row), order, message) for row in rows.tolist())
            after = len(root.reports)
            messages.extend((row, after, f"{self.context}: {message}") for row, message in failures.items())
            for row, _, message in sorted(messages, key=lambda entry: (entry[0], entry[1])):
                reporter(row, message)
        return values


class CompiledTableFunction:
    """A table function call (EXPLODE, CUBE...) in a SELECT list: ``evaluate(batch)`` returns
    ``(values, parent_index)``, one output row per value, ``parent_index`` the input row of each."""

    def __init__(self, bound: BoundCall, *, config: Mapping[str, Any] | None = None) -> None:
        self.bound = bound
        self.type = bound.type
        self.config = dict(config or {})
        self.args = [_compile(a) for a in bound.args]

    def evaluate(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        frame = RootFrame(batch, self.config)
        values: list[Any] = []
        lambdas = []
        for arg in self.args:
            if isinstance(arg, n.LambdaNode):
                values.append(None)
                lambdas.append(n.ElementLambda(arg, frame))
            else:
                values.append(arg.evaluate(frame))
        context = self.bound.function.context(batch.num_rows, self.config, tuple(lambdas))
        result, parents = self.bound.function.kernel(values, context)
        return result, parents


def compile_expression(
    bound: Bound,
    *,
    config: Mapping[str, Any] | None = None,
    context: str | None = None,
    on_error: ErrorCallback | None = None,
) -> CompiledExpression:
    """Compile a bound expression (see the module docstring).

    Args:
        bound: from :func:`~headwater.engine.expressions.binder.bind`.
        config: the query's configuration, handed to function kernels.
        context: the first part of failure messages.
        on_error: default receiver of failing rows.

    Raises:
        PlanError: a table function inside an expression, or an untyped NULL.
    """
    return CompiledExpression(bound, config=config, context=context, on_error=on_error)


def compile_table_function(bound: Bound, *, config: Mapping[str, Any] | None = None) -> CompiledTableFunction:
    """Compile a top-level table function call.

    Raises:
        PlanError: ``bound`` is not a table function call.
    """
    if not isinstance(bound, BoundCall) or not isinstance(bound.function.function, TableFunction):
        raise PlanError("Expected a table function call")
    return CompiledTableFunction(bound, config=config)


def _compile(bound: Bound) -> n.Node:
    compiler = _COMPILERS.get(type(bound))
    if compiler is None:
        raise PlanError(f"Cannot compile {type(bound).__name__}")
    return compiler(bound)


def _reads_rows(bound: Bound) -> bool:
    """Whether ``bound`` reads a column or a lambda variable (else it is the same for every row)."""
    return any(isinstance(node, BoundColumn | BoundLambdaVariable) for node in walk_bound(bound))


NESTED_ERROR_HANDLING = "ksql.nested.error.handling"
"""ksqlDB's switch for guarded values (on unless set to false)."""

_GUARDS: ContextVar[bool] = ContextVar("headwater_expression_guards", default=True)
"""Whether the compilation under way guards nested values (from the query's configuration)."""


def nested_error_handling(config: Mapping[str, Any]) -> bool:
    """Whether ``config`` leaves ksqlDB's nested error handling on (its default)."""
    value = config.get(NESTED_ERROR_HANDLING)
    return value is None or str(value).strip().lower() != "false"


def _guard(node: n.Node, bound: Bound, what: str) -> n.Node:
    """``node`` guarded (see the module docstring), when it can fail at all and guards are on."""
    if not node.may_fail or not _GUARDS.get():
        return node
    assert bound.type is not None
    return GuardNode(node, what, to_arrow(bound.type), reads_rows=_reads_rows(bound))


def _cast(bound: BoundCast) -> n.Node:
    """An explicit CAST, guarded; an implicit conversion as is (its enclosing value decides)."""
    node = n.CastNode(_compile(bound.operand), bound.operand.type, bound.type)
    return node if bound.implicit else _guard(node, bound, type_text(bound.type))


def _coerced(bound: Bound) -> n.Node:
    """A value the binder may have converted implicitly (a function argument, an IN list item): the
    conversion is guarded as ksqlDB guards the CAST it inserts there."""
    if isinstance(bound, BoundCast) and bound.implicit:
        cast = n.CastNode(_argument(bound.operand), bound.operand.type, bound.type)
        return _guard(cast, bound, type_text(bound.type))
    return _compile(bound)


def _argument(bound: Bound) -> n.Node:
    """A function argument: a call or a dereference is guarded (ksqlDB's nested error handling)."""
    if isinstance(bound, BoundCast) and bound.implicit:
        return _coerced(bound)
    node = _compile(bound)
    if isinstance(bound, BoundCall):
        return _guard(node, bound, bound.name)
    if isinstance(bound, BoundDereference):
        return _guard(node, bound, bound.field)
    return node


def _literal(bound: BoundLiteral) -> n.Node:
    return n.ConstantNode(literal_scalar(bound.value, bound.type))


def _null(bound: BoundNull) -> n.Node:
    return n.ConstantNode(pa.scalar(None, type=to_arrow(bound.type or t.STRING)))


def _call(bound: BoundCall) -> n.Node:
    if isinstance(bound.function.function, TableFunction):
        raise PlanError(
            f"Table function {bound.name} can only be used at the top level of a SELECT expression"
        )
    return n.CallNode(bound.function, [_argument(a) for a in bound.args], bound.name)


def _dereference(bound: BoundDereference) -> n.Node:
    struct_type = bound.base.type
    assert isinstance(struct_type, t.Struct)
    index = [name for name, _ in struct_type.fields].index(bound.field)
    return n.DereferenceNode(_compile(bound.base), index)


def _subscript(bound: BoundSubscript) -> n.Node:
    if isinstance(bound.base.type, t.Map):
        return n.MapValueNode(_compile(bound.base), _compile(bound.index))
    return n.ArrayElementNode(_compile(bound.base), _compile(bound.index))


_COMPILERS: dict[type, Callable[[Any], n.Node]] = {
    BoundLiteral: _literal,
    BoundNull: _null,
    BoundColumn: lambda b: n.ColumnNode(b.field),
    BoundLambdaVariable: lambda b: n.VariableNode(b.name),
    BoundIntervalUnit: lambda b: n.ConstantNode(pa.scalar(b.unit.name)),
    BoundCast: _cast,
    BoundNegate: lambda b: n.NegateNode(_compile(b.operand), b.type),
    BoundArithmetic: lambda b: n.ArithmeticNode(b.op, _compile(b.left), _compile(b.right), b.type),
    BoundComparison: lambda b: n.ComparisonNode(b.op, _compile(b.left), _compile(b.right), b.left.type),
    BoundBetween: lambda b: n.BetweenNode(
        _compile(b.value), _compile(b.low), _compile(b.high), b.negated, b.value.type
    ),
    BoundInList: lambda b: n.InListNode(
        _coerced(b.value), [_coerced(i) for i in b.items], b.negated, b.value.type
    ),
    BoundLike: lambda b: n.LikeNode(_compile(b.value), _compile(b.pattern), b.escape, b.negated),
    BoundIsNull: lambda b: n.IsNullNode(_compile(b.operand), b.negated),
    BoundNot: lambda b: n.NotNode(_compile(b.operand)),
    BoundLogical: lambda b: n.LogicalNode(b.op, _compile(b.left), _compile(b.right)),
    BoundCase: lambda b: n.CaseNode(
        [(_compile(c), _compile(r)) for c, r in b.whens],
        None if b.default is None else _compile(b.default),
        b.type,
    ),
    BoundCall: _call,
    BoundLambda: lambda b: n.LambdaNode(b.params, _compile(b.body)),
    BoundDereference: _dereference,
    BoundSubscript: _subscript,
    BoundArray: lambda b: n.ArrayNode([_guard(_compile(i), i, "array item") for i in b.items], b.type),
    BoundMap: lambda b: n.MapNode(
        [_guard(_compile(k), k, "map key") for k in b.keys],
        [_guard(_compile(v), v, "map value") for v in b.values],
        b.type,
    ),
    BoundStruct: lambda b: n.StructNode(
        [(name, _guard(_compile(v), v, "struct field")) for name, v in b.fields], b.type
    ),
}
