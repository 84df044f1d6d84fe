"""Compiling bound expressions into vectorized evaluators, and evaluating them with ksqlDB's handling
of rows that fail.

:func:`compile_expression` (exported as ``compile``) turns a bound tree into a
:class:`CompiledExpression`, once per query. ``evaluate(batch)`` computes the expression for every row
of a ``pyarrow.RecordBatch`` with Arrow compute and numpy, and returns one array of the batch's length.

Failing rows. ksqlDB evaluates row by row; when evaluating a row throws (a function rejects its input,
an integer division by zero, a CAST of ``'abc'`` to INTEGER...), the row's value is NULL and the error
goes to the processing log; the record itself is kept. Here:

* operators that can tell which rows fail (division, DECIMAL arithmetic) mark them while computing the
  whole column; those rows become NULL;
* a kernel that raises :class:`~headwater.engine.functions.registry.FunctionError` (or Arrow's
  ``ArrowInvalid``, or an ``ArithmeticError``) fails the whole batch, which is then split in halves,
  recursively, until the failing rows are isolated: clean halves are still computed vectorized, so
  a few bad rows in a large batch cost a few dozen extra evaluations, not one per row (an expression
  that reads no column fails every row at once); a kernel that fails on most rows of a large batch
  costs about two evaluations per row;
* each failing row is reported once, in row order, to the ``on_error(row, message)`` callback given to
  :func:`compile_expression` or to ``evaluate``, with ``message = f"{context}: {cause}"``
  (``context`` defaults to "Error computing expression"; the planner passes ksqlDB's
  "Error computing expression (A / B) for column X with index 1", see
  :func:`~headwater.engine.expressions.naming.error_context`).

As in ksqlDB, a failure anywhere in the expression makes the whole value NULL (``IFNULL(a / 0, 1)``
is NULL, not 1).

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
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.expressions import nodes as n
from headwater.engine.expressions.arrays import broadcast, with_nulls
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
from headwater.engine.functions.registry import FunctionError, TableFunction
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

ROW_ERRORS: tuple[type[BaseException], ...] = (FunctionError, pa.ArrowInvalid, ArithmeticError)
"""Exceptions that mean "some row's input is bad", not "Headwater is broken"."""

DEFAULT_CONTEXT = "Error computing expression"


def literal_scalar(value: Any, sql_type: t.SqlType) -> pa.Scalar:
    """A bound literal's value as an Arrow scalar of its SQL type."""
    return pa.scalar(value, type=to_arrow(sql_type))


def _cause(error: BaseException) -> str:
    if isinstance(error, FunctionError):
        return error.message
    return str(error) or type(error).__name__


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
        self.node = _compile(bound)
        self.reads_columns = any(isinstance(node, BoundColumn) for node in walk_bound(bound))

    def evaluate(self, batch: pa.RecordBatch, on_error: ErrorCallback | None = None) -> pa.Array:
        """The expression's value for every row of ``batch`` (NULL for failing rows, which are
        reported to ``on_error``, or to the callback given at compile time)."""
        if batch.num_rows == 0:
            return pa.array([], type=self.arrow_type)
        values, failures = self._evaluate_range(batch, 0, batch.num_rows)
        reporter = on_error or self.on_error
        if failures and reporter is not None:
            for row in sorted(failures):
                reporter(row, f"{self.context}: {failures[row]}")
        return values

    def _evaluate_range(
        self, batch: pa.RecordBatch, start: int, length: int
    ) -> tuple[pa.Array, dict[int, str]]:
        part = batch if start == 0 and length == batch.num_rows else batch.slice(start, length)
        frame = RootFrame(part, self.config)
        try:
            datum = self.node.evaluate(frame)
        except ROW_ERRORS as error:
            if length == 1 or not self.reads_columns:
                # without columns every row computes the same thing: no need to look for the culprits
                return pa.nulls(length, self.arrow_type), dict.fromkeys(
                    range(start, start + length), _cause(error)
                )
            half = length // 2
            first, first_failures = self._evaluate_range(batch, start, half)
            second, second_failures = self._evaluate_range(batch, start + half, length - half)
            return pa.concat_arrays([first, second]), {**first_failures, **second_failures}
        values = broadcast(datum, length)
        if values.type != self.arrow_type:
            values = values.cast(self.arrow_type)
        failed = frame.failures.rows()
        if failed:
            mask = np.zeros(length, dtype=bool)
            mask[list(failed)] = True
            values = with_nulls(values, mask)
        return values, {start + row: message for row, message in failed.items()}


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


def _literal(bound: BoundLiteral) -> n.Node:
    return n.ConstantNode(literal_scalar(bound.value, bound.type))


def _null(bound: BoundNull) -> n.Node:
    return n.ConstantNode(pa.scalar(None, type=to_arrow(bound.type or t.STRING)))


def _call(bound: BoundCall) -> n.Node:
    if isinstance(bound.function.function, TableFunction):
        raise PlanError(
            f"Table function {bound.name} can only be used at the top level of a SELECT expression"
        )
    return n.CallNode(bound.function, [_compile(a) for a in bound.args], bound.name)


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
    BoundCast: lambda b: n.CastNode(_compile(b.operand), b.operand.type, b.type),
    BoundNegate: lambda b: n.NegateNode(_compile(b.operand), b.type),
    BoundArithmetic: lambda b: n.ArithmeticNode(b.op, _compile(b.left), _compile(b.right), b.type),
    BoundComparison: lambda b: n.ComparisonNode(b.op, _compile(b.left), _compile(b.right), b.left.type),
    BoundBetween: lambda b: n.BetweenNode(
        _compile(b.value), _compile(b.low), _compile(b.high), b.negated, b.value.type
    ),
    BoundInList: lambda b: n.InListNode(
        _compile(b.value), [_compile(i) for i in b.items], b.negated, b.value.type
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
    BoundArray: lambda b: n.ArrayNode([_compile(i) for i in b.items], b.type),
    BoundMap: lambda b: n.MapNode([_compile(k) for k in b.keys], [_compile(v) for v in b.values], b.type),
    BoundStruct: lambda b: n.StructNode([(name, _compile(v)) for name, v in b.fields], b.type),
}
