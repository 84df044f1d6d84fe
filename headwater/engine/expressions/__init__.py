"""Expressions: binding, typing and compiling ksqlDB expressions into vectorized evaluators.

The planner's view, in four calls::

    scope = Scope.from_schema(source.schema, source="S")              # what the expression can see
    bound = bind(expr, scope, registry, types=catalog.user_type, clause="WHERE")   # resolve + type
    compiled = compile(bound, config=query_config, context=..., on_error=report)   # once per query
    values = compiled.evaluate(batch)                                 # pa.Array, len(batch) rows

* :class:`Scope` / :class:`ScopeColumn`: the columns in scope (name, SQL type, source or alias, kind:
  key, value, header, ROWTIME/ROWPARTITION/ROWOFFSET, WINDOWSTART/WINDOWEND, derived) and the batch
  column (``field``) holding each; ``Scope.with_derived(expr, column)`` makes an already computed
  expression (an aggregate, a GROUP BY expression) bind to a column. Name resolution and its errors
  are ksqlDB's ("Column 'X' cannot be resolved.", "Column 'F0' is ambiguous. Could be I1.F0 or
  I2.F0.", "'S' is not a valid stream/table name or alias.").
* :func:`bind`: parser expression -> :mod:`bound <headwater.engine.expressions.bound>` tree, every node
  typed with ksqlDB's rules (:mod:`headwater.engine.types`), implicit conversions made explicit. Errors
  are :class:`~headwater.errors.PlanError` subclasses with ksqlDB's texts
  (:mod:`~headwater.engine.expressions.errors` says which the planner prefixes how).
* :func:`compile` (also :func:`compile_expression`): -> :class:`CompiledExpression` whose
  ``evaluate(batch, on_error=None)`` returns one Arrow array; rows that fail are NULL and reported as
  ``on_error(row, message)`` (see :mod:`~headwater.engine.expressions.compiler`).
  :func:`compile_table_function` compiles a top-level EXPLODE-like call to ``(values, parent_index)``.
* :class:`ColumnAliasGenerator` / :func:`select_column_names`: ksqlDB's names for unaliased SELECT
  items (``KSQL_COL_0``, struct field names); :func:`error_context` the processing-log text.
* :func:`referenced_columns`, :func:`contains_aggregate`, :func:`aggregate_calls`, :func:`bound_fields`.
* :func:`evaluate_literal`: the value of an INSERT VALUES expression as a scalar of the column's type.
* :func:`format_expression`: an expression as ksqlDB prints it in messages.

Semantics worth knowing (all from ksqlDB's generated code, see each module): comparisons are FALSE,
never NULL, when an operand is NULL (IS [NOT] DISTINCT FROM aside); AND/OR/NOT are three-valued;
integer arithmetic wraps around; integer division or remainder by zero fails the row; DOUBLE division
by zero is Infinity or NaN; DECIMAL arithmetic is exact in ksqlDB's result types and a quotient that
would need rounding fails the row; arrays are 1-based with negative indexes from the end; CASE and
AND/OR evaluate lazily what may fail. A failure makes the whole value NULL, except inside the values
ksqlDB guards (a function call passed to a function, a CAST, an ARRAY/MAP/STRUCT constructor's item),
which alone become NULL (:mod:`~headwater.engine.expressions.guards`).

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import FunctionRegistry
    >>> from headwater.parser import types as t
    >>> from headwater.parser.expressions import ColumnRef, Comparison, ComparisonOp, IntegerLiteral
    >>> scope = Scope((ScopeColumn("X", t.INT),))
    >>> where = bind(Comparison(ComparisonOp.GREATER_THAN, ColumnRef("X"), IntegerLiteral(1)), scope, FunctionRegistry())
    >>> compile(where).evaluate(pa.record_batch({"X": pa.array([0, 2, None], pa.int32())})).to_pylist()
    [False, True, False]
"""

from __future__ import annotations

from headwater.engine.expressions.analysis import (
    aggregate_calls,
    bound_fields,
    contains_aggregate,
    referenced_columns,
)
from headwater.engine.expressions.binder import TypeResolver, bind, resolve_type
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
from headwater.engine.expressions.compiler import (
    CompiledExpression,
    CompiledTableFunction,
    ErrorCallback,
    compile_expression,
    compile_table_function,
)
from headwater.engine.expressions.errors import (
    AggregateNotAllowedError,
    AmbiguousColumnError,
    CoercionError,
    ExpressionError,
    ExpressionTypeError,
    UnknownSourceError,
    UnresolvedColumnError,
)
from headwater.engine.expressions.formatting import format_expression
from headwater.engine.expressions.literals import LiteralCoercionError, evaluate_literal
from headwater.engine.expressions.naming import ColumnAliasGenerator, error_context, select_column_names
from headwater.engine.expressions.scope import ColumnKind, Scope, ScopeColumn

compile = compile_expression  # the name the planner calls (shadows the builtin only in this namespace)

__all__ = [
    "AggregateNotAllowedError",
    "AmbiguousColumnError",
    "Bound",
    "BoundArithmetic",
    "BoundArray",
    "BoundBetween",
    "BoundCall",
    "BoundCase",
    "BoundCast",
    "BoundColumn",
    "BoundComparison",
    "BoundDereference",
    "BoundInList",
    "BoundIntervalUnit",
    "BoundIsNull",
    "BoundLambda",
    "BoundLambdaVariable",
    "BoundLike",
    "BoundLiteral",
    "BoundLogical",
    "BoundMap",
    "BoundNegate",
    "BoundNot",
    "BoundNull",
    "BoundStruct",
    "BoundSubscript",
    "CoercionError",
    "ColumnAliasGenerator",
    "ColumnKind",
    "CompiledExpression",
    "CompiledTableFunction",
    "ErrorCallback",
    "ExpressionError",
    "ExpressionTypeError",
    "LiteralCoercionError",
    "Scope",
    "ScopeColumn",
    "TypeResolver",
    "UnknownSourceError",
    "UnresolvedColumnError",
    "aggregate_calls",
    "bind",
    "bound_fields",
    "compile",
    "compile_expression",
    "compile_table_function",
    "contains_aggregate",
    "error_context",
    "evaluate_literal",
    "format_expression",
    "referenced_columns",
    "resolve_type",
    "select_column_names",
    "walk_bound",
]
