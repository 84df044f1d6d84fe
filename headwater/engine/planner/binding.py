"""The planner's door to :mod:`headwater.engine.expressions`: scopes, binding, compiling, naming.

Every use the planner and the operators make of the expression engine goes through these few functions,
so the plan code reads in its own terms (columns of a row batch, clauses of a query) and the contract with
the expression package sits in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from headwater.engine import expressions as ex
from headwater.engine.catalog import DataSource
from headwater.engine.expressions.scope import Scope
from headwater.engine.functions.registry import FunctionRegistry, TableFunction
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = [
    "bind_expression",
    "build_scope",
    "compile_expression",
    "compile_table_function",
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
    """Adapts the expression package's compiled table function to the flat-map operator's protocol."""

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled

    def evaluate_table(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        values, parents = self.compiled.evaluate(batch)
        return values, parents


def compile_table_function(bound: Any, *, config: Mapping[str, Any]) -> _TableFunctionEvaluator:
    """An evaluator for a bound table-function call (EXPLODE...)."""
    return _TableFunctionEvaluator(ex.compile_table_function(bound, config=config))


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
