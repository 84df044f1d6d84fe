"""The planner's door to :mod:`headwater.engine.expressions`: scopes, binding, compiling, naming.

Every use the planner and the operators make of the expression engine goes through these few functions,
so the plan code reads in its own terms (columns of a row batch, clauses of a query) and the contract with
the expression package sits in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from headwater.engine import expressions as ex
from headwater.engine.catalog import DataSource
from headwater.engine.expressions.scope import Scope
from headwater.engine.functions.registry import FunctionRegistry
from headwater.parser import ast
from headwater.parser import expressions as pe
from headwater.parser import types as t

__all__ = [
    "bind_expression",
    "build_scope",
    "compile_expression",
    "compile_table_function",
    "derive_name",
    "is_aggregate_call",
    "is_table_function_call",
]


def build_scope(source: DataSource, alias: str | None = None) -> Scope:
    """The scope of a query over one source: its columns qualified by ``alias`` (or the source's
    name), the pseudo-columns, and the window bounds of a windowed source."""
    return Scope.from_schema(source.schema, source=alias or source.name, windowed=source.window is not None)


def bind_expression(
    expression: ast.Expression,
    scope: Any,
    registry: FunctionRegistry,
    resolve_type: Callable[[t.SqlType], t.SqlType],
) -> Any:
    """Bind and type ``expression`` in ``scope``; PlanError (ksqlDB's wording) when it cannot be."""
    return ex.bind(expression, scope, registry, types=resolve_type)


def compile_expression(
    bound: Any,
    *,
    config: Mapping[str, Any],
    on_error: Callable[[int, str], None] | None = None,
) -> Any:
    """A compiled evaluator of ``bound`` (``evaluate(batch) -> Arrow``). Rows whose evaluation fails are
    NULL in the result and reported through ``on_error(row, message)``."""
    return ex.compile(bound, config=config, on_error=on_error)


class _TableFunctionEvaluator:
    """Evaluates a bound table-function call: arguments compiled as ordinary expressions, then the
    function's table kernel over them."""

    def __init__(
        self, bound: Any, config: Mapping[str, Any], on_error: Callable[[int, str], None] | None
    ) -> None:
        self.bound = bound
        self.resolved = bound.function
        self.arguments = [compile_expression(a, config=config, on_error=on_error) for a in bound.args]
        self.config = config

    def evaluate_table(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        args = [a.evaluate(batch) for a in self.arguments]
        context = self.resolved.context(batch.num_rows, self.config)
        values, parents = self.resolved.kernel(args, context)
        return values, parents


def compile_table_function(
    bound: Any, *, config: Mapping[str, Any], on_error: Callable[[int, str], None] | None = None
) -> _TableFunctionEvaluator:
    """An evaluator for a bound table-function call (EXPLODE...)."""
    return _TableFunctionEvaluator(bound, config, on_error)


def derive_name(expression: ast.Expression, index: int) -> str:
    """ksqlDB's name for an unaliased SELECT item at ``index`` (a column keeps its name, a struct field
    its field name, anything else ``KSQL_COL_<index>``)."""
    return str(ex.derive_column_name(expression, index))


def is_table_function_call(expression: ast.Expression, registry: FunctionRegistry) -> bool:
    """Whether ``expression`` is a call of a table function (EXPLODE, CUBE...)."""
    if not isinstance(expression, pe.FunctionCall):
        return False
    function = registry.lookup(expression.name)
    return function is not None and type(function).__name__ == "TableFunction"


def is_aggregate_call(expression: ast.Expression, registry: FunctionRegistry) -> bool:
    """Whether ``expression`` contains an aggregate call (GROUP BY queries arrive with the stateful
    engine; until then the planner refuses them with a clear message)."""
    return bool(ex.contains_aggregate(expression, registry))
