"""The planner's door to :mod:`headwater.engine.expressions`: scopes, binding, compiling, naming.

Every use the planner and the operators make of the expression engine goes through these few functions,
so the plan code reads in its own terms (columns of a row batch, clauses of a query) and the contract with
the expression package sits in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine import expressions as ex
from headwater.engine.catalog import DataSource
from headwater.engine.expressions.errors import CoercionError, ExpressionTypeError
from headwater.engine.expressions.scope import Scope, ScopeColumn
from headwater.engine.functions.registry import FunctionError, FunctionRegistry, TableFunction
from headwater.engine.schema import format_type
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = [
    "bind_expression",
    "bind_where",
    "bound_fields",
    "build_scope",
    "compile_expression",
    "compile_table_function",
    "compile_timestamp_parser",
    "is_aggregate_call",
    "is_table_function_call",
    "select_names",
]


def build_scope(source: DataSource, alias: str | None = None) -> Scope:
    """The scope of a query over one source: its columns qualified by ``alias`` (or the source's
    name), the pseudo-columns, and the window bounds of a windowed source."""
    scope = Scope.from_schema(source.schema, source=alias or source.name, windowed=source.window is not None)
    if alias is not None and alias != source.name:
        return Scope(scope.columns, (*scope.sources, source.name), scope.derived)
    return scope


def bind_expression(
    expression: pe.Expression,
    scope: Scope,
    registry: FunctionRegistry,
    resolve_type: Callable[[t.SqlType], t.SqlType],
    clause: str | None = None,
) -> Any:
    """Bind and type ``expression`` in ``scope``; PlanError (ksqlDB's wording) when it cannot be."""
    return ex.bind(expression, scope, registry, types=resolve_type, clause=clause)


def bound_fields(bound: Any) -> tuple[str, ...]:
    """The batch columns a bound expression reads."""
    return tuple(ex.bound_fields(bound))


def compile_expression(
    bound: Any,
    *,
    config: Mapping[str, Any],
    on_error: Callable[[int, str], None] | None = None,
    context: str | None = None,
) -> Any:
    """A compiled evaluator of ``bound`` (``evaluate(batch) -> Arrow``). Rows whose evaluation fails are
    NULL in the result and reported through ``on_error(row, message)``."""
    return ex.compile_expression(bound, config=config, context=context, on_error=on_error)


class _TableFunctionEvaluator:
    """Adapts the expression package's compiled table function to the flat-map operator's protocol.

    A table function that fails on some row (ksqlDB: the UDTF throws) fails the whole batch call; the
    batch is then evaluated one row at a time, so the failing rows produce nothing and are reported
    while the others produce their values, as ksqlDB drops and logs a record whose UDTF throws. The
    per-row loop runs only for batches that hold a failing row.
    """

    def __init__(self, compiled: Any, on_error: Callable[[int, str], None] | None) -> None:
        self.compiled = compiled
        self.on_error = on_error

    def evaluate_table(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        try:
            values, parents = self.compiled.evaluate(batch)
            return values, parents
        except FunctionError:
            pass
        produced: list[pa.Array] = []
        parent_rows: list[np.ndarray] = []
        for row in range(batch.num_rows):
            try:
                values, parents = self.compiled.evaluate(batch.slice(row, 1))
            except FunctionError as error:
                if self.on_error is not None:
                    self.on_error(row, error.message)
                continue
            values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
            produced.append(values)
            parent_rows.append(np.full(len(values), row, dtype=np.int64))
        arrow_type = to_arrow(self.compiled.type)
        if not produced:
            return pa.array([], type=arrow_type), pa.array([], type=pa.int64())
        joined = pa.concat_arrays([p if p.type == arrow_type else p.cast(arrow_type) for p in produced])
        return joined, pa.array(np.concatenate(parent_rows))


def compile_table_function(
    bound: Any, *, config: Mapping[str, Any], on_error: Callable[[int, str], None] | None = None
) -> _TableFunctionEvaluator:
    """An evaluator for a bound table-function call (EXPLODE...); rows on which it fails produce
    nothing and are reported through ``on_error(row, message)``."""
    return _TableFunctionEvaluator(ex.compile_table_function(bound, config=config), on_error)


def compile_timestamp_parser(
    column: str, pattern: str, registry: FunctionRegistry, config: Mapping[str, Any]
) -> Callable[[pa.Array], tuple[pa.Array, list[tuple[int, str]]]]:
    """A parser of a STRING timestamp column with a TIMESTAMP_FORMAT (a Java ``DateTimeFormatter``
    pattern): ``parse(values) -> (epoch milliseconds, [(row, message)])``, unparsable rows NULL.

    It is ksqlDB's PARSE_TIMESTAMP(column, pattern) from the function library, compiled once, so the
    source's timestamps parse exactly as the function does (UTC unless the pattern has a zone).
    """
    scope = Scope((ScopeColumn(column, t.STRING),))
    call = pe.FunctionCall("PARSE_TIMESTAMP", (pe.ColumnRef(column), pe.StringLiteral(pattern)))
    compiled = ex.compile_expression(ex.bind(call, scope, registry), config=config)

    def parse(values: pa.Array) -> tuple[pa.Array, list[tuple[int, str]]]:
        errors: list[tuple[int, str]] = []
        batch = pa.RecordBatch.from_arrays([values], names=[column])
        parsed = compiled.evaluate(batch, on_error=lambda row, message: errors.append((row, message)))
        return parsed.cast(pa.int64()), errors

    return parse


def select_names(
    items: Sequence[tuple[pe.Expression, str | None]], source_columns: Sequence[str], scope: Scope
) -> list[str]:
    """ksqlDB's names for the SELECT items: the alias, or a column's name, a struct field's name, or
    ``KSQL_COL_<n>``, unique against the source's columns."""
    return list(ex.select_column_names(items, source_columns, scope))


def is_table_function_call(expression: pe.Expression, registry: FunctionRegistry) -> bool:
    """Whether ``expression`` is a call of a table function (EXPLODE, CUBE...)."""
    if not isinstance(expression, pe.FunctionCall):
        return False
    return isinstance(registry.lookup(expression.name), TableFunction)


def is_aggregate_call(expression: pe.Expression, registry: FunctionRegistry) -> bool:
    """Whether ``expression`` contains an aggregate call (GROUP BY queries arrive with the stateful
    engine; until then the planner refuses them with a clear message)."""
    return bool(ex.contains_aggregate(expression, registry))


def bind_where(
    bind: Callable[[pe.Expression, Scope, str], Any], where: pe.Expression, scope: Scope, *, statement: str = ""
) -> Any:
    """``where`` bound by ``bind`` as a WHERE predicate, with ksqlDB's messages: "Error in WHERE expression",
    "Invalid Predicate", and the type error naming the expression when it is not BOOLEAN. ``statement`` is
    appended to the first two (a pull query adds "\nStatement: ..."). One function for persistent, pull and
    historical queries, so their messages cannot drift apart.

    Raises:
        PlanError: with the messages above.
    """
    try:
        predicate = bind(where, scope, "WHERE")
    except ExpressionTypeError as error:
        raise PlanError(f"Error in WHERE expression: {error}{statement}") from None
    except CoercionError as error:
        raise PlanError(f"Invalid Predicate: {error}{statement}") from None
    if predicate.type != t.BOOLEAN:
        raise PlanError(
            f"Type error in WHERE expression: Should evaluate to boolean but is "
            f"{ex.format_expression(where)!s} ({format_type(predicate.type)}) instead."
        )
    return predicate
