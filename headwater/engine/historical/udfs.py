"""Headwater's own kernels as DuckDB functions, so a historical query computes what a streaming one does.

Where DuckDB has no function with ksqlDB's exact semantics, the historical query calls one of these
instead. Each is a DuckDB Python function of ``type='arrow'``: DuckDB hands it whole vectors (about 2,048
rows) as Arrow arrays and it answers with one Arrow array, so the Python cost is per vector, not per row.

Three kinds, all registered per query under generated names (``hw_expr_0``, ``hw_agg_1``...), with the
exact argument and result types of that call site (DuckDB functions cannot be overloaded from Python):

* :meth:`UdfRegistry.scalar`: a bound expression compiled by the streaming expression compiler
  (:func:`headwater.engine.expressions.compile_expression`), a function of the columns it reads. Rows that
  fail are NULL and reported to the processing log, exactly as in a streaming query.
* :meth:`UdfRegistry.aggregate`: a Headwater aggregate (COLLECT_LIST, TOPK, EARLIEST_BY_OFFSET...) over
  the values DuckDB gathered per group with ``list(... ORDER BY ...)``: the list column is flattened
  and fed to the aggregate library's accumulator in one vectorized ``update`` for all groups of the
  vector, then ``result`` gives one value per group.
* :meth:`UdfRegistry.table_function`: a table function (EXPLODE, CUBE...) as a list per input row, which
  the query UNNESTs; several UNNESTs in one SELECT are zipped and padded with NULL by DuckDB, as ksqlDB
  zips table functions.

Example::

    udfs = UdfRegistry(connection, config, on_error=log)
    name = udfs.scalar(bound, [("NAME", t.STRING)])      # SELECT hw_expr_0("NAME") FROM ...
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.aggregates.contract import ResolvedAggregate
from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.expressions import Bound, compile_expression
from headwater.engine.historical.duck_types import duckdb_type, from_duckdb_arrow, to_duckdb_arrow
from headwater.engine.planner.binding import compile_table_function
from headwater.parser import types as t

__all__ = ["ROWS_ARGUMENT", "UdfRegistry"]

_NUMBERS = itertools.count()
"""Function names are unique in the process: sessions share a DuckDB database, each with its cursor."""

ROWS_ARGUMENT = "__rows"
"""The placeholder column a function that reads no column receives, so it knows how many rows to make."""

ErrorSink = Callable[[str], None]


def _sqltype(sql_type: t.SqlType) -> Any:
    return duckdb.sqltype(duckdb_type(sql_type))


class UdfRegistry:
    """The functions one DuckDB connection has been given for one query (see the module docstring).

    Args:
        connection: the DuckDB connection the query runs on.
        config: the query's configuration (kernels read some properties).
        on_error: receives the message of every row that failed and was made NULL.
    """

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, config: Mapping[str, Any], on_error: ErrorSink | None = None
    ) -> None:
        self.connection = connection
        self.config = dict(config)
        self.on_error = on_error
        self._cache: dict[Any, str] = {}
        self._names: list[str] = []
        self._lock = threading.Lock()
        self.failed_rows = 0

    def _create(self, name: str, function: Callable[..., pa.Array], parameters: list[Any], result: Any, **options: Any) -> None:
        """``create_function`` for an Arrow function. DuckDB counts the Python function's parameters,
        so a ``*args`` function is given a signature of exactly ``len(parameters)`` parameters."""
        function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(len(parameters))]
        )
        connection: Any = self.connection
        connection.create_function(name, function, parameters, result, **options)
        self._names.append(name)

    def remove_all(self) -> None:
        """Remove every function this registry created (the database outlives the session)."""
        connection: Any = self.connection
        for name in self._names:
            with contextlib.suppress(duckdb.Error):
                connection.remove_function(name)
        self._names.clear()
        self._cache.clear()

    def _report(self, row: int, message: str) -> None:
        with self._lock:
            self.failed_rows += 1
        if self.on_error is not None:
            self.on_error(message)

    def _cached(self, key: Any) -> str | None:
        try:
            return self._cache.get(key)
        except TypeError:  # an unhashable literal somewhere in the tree: register it anew
            return None

    def _remember(self, key: Any, name: str) -> None:
        with contextlib.suppress(TypeError):
            self._cache[key] = name

    # -- scalar expressions --------------------------------------------------------------------------------
    def scalar(self, bound: Bound, inputs: Sequence[tuple[str, t.SqlType]], context: str | None = None) -> str:
        """Register ``bound`` as a function of the columns ``inputs`` (field name, SQL type) it reads.

        Call it with one argument per input, in order; with no inputs, with one placeholder argument
        (any value) per row. Returns the function's name.
        """
        key = ("scalar", bound, tuple(inputs))
        found = self._cached(key)
        if found is not None:
            return found
        compiled = compile_expression(bound, config=self.config, context=context)
        fields = [name for name, _ in inputs]
        types = [sql_type for _, sql_type in inputs]
        result_type = bound.type
        report = self._report

        def run(*args: pa.ChunkedArray) -> pa.Array:
            if fields:
                arrays = [from_duckdb_arrow(arg, sql_type) for arg, sql_type in zip(args, types)]
                batch = pa.RecordBatch.from_arrays(arrays, names=fields)
            else:
                batch = pa.RecordBatch.from_arrays([pa.nulls(len(args[0]), pa.bool_())], names=[ROWS_ARGUMENT])
            return to_duckdb_arrow(compiled.evaluate(batch, on_error=report), result_type)

        name = f"hw_expr_{next(_NUMBERS)}"
        parameters = [_sqltype(sql_type) for sql_type in types] if fields else [duckdb.sqltype("BOOLEAN")]
        self._create(
            name,
            run,
            parameters,
            _sqltype(result_type),
            type="arrow",
            null_handling="special",
            side_effects=not fields,
        )
        self._remember(key, name)
        return name

    # -- aggregates ----------------------------------------------------------------------------------------
    def aggregate(self, resolved: ResolvedAggregate, literals: Sequence[Any], column_types: Sequence[t.SqlType]) -> str:
        """Register an aggregate over gathered values: call it with one LIST argument per group, the
        list of the group's rows (a STRUCT with fields ``a0``, ``a1``... when the aggregate takes several
        columns). ``column_types`` are the types of the column arguments; ``literals`` the values of its
        literal parameters. Returns the function's name."""
        key = ("aggregate", resolved.name, resolved.param_types, tuple(literals), tuple(column_types))
        found = self._cached(key)
        if found is not None:
            return found
        config = self.config
        types = list(column_types)
        several = len(types) > 1
        return_type = resolved.return_type

        def run(lists: pa.ChunkedArray) -> pa.Array:
            gathered = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
            groups = len(gathered)
            if gathered.null_count:
                gathered = pc.if_else(gathered.is_valid(), gathered, pa.scalar([], gathered.type))
            values = pc.list_flatten(gathered)
            parents = pc.list_parent_indices(gathered).to_numpy(zero_copy_only=False)
            if several:
                args = [from_duckdb_arrow(values.field(i), ty) for i, ty in enumerate(types)]
            else:
                args = [from_duckdb_arrow(values, types[0])] if types else []
            accumulator = resolved.create(literals, config)
            accumulator.resize(groups)
            if len(parents):
                accumulator.update(Grouping(parents), args, None)
            result = accumulator.result(np.arange(groups, dtype=np.int64))
            return to_duckdb_arrow(result, return_type)

        if several:
            fields = ", ".join(f'"a{i}" {duckdb_type(ty)}' for i, ty in enumerate(types))
            element = f"STRUCT({fields})"
        else:
            element = duckdb_type(types[0]) if types else "BOOLEAN"
        name = f"hw_agg_{next(_NUMBERS)}"
        self._create(
            name,
            run,
            [duckdb.sqltype(f"{element}[]")],
            _sqltype(return_type),
            type="arrow",
            null_handling="special",
        )
        self._remember(key, name)
        return name

    # -- table functions -----------------------------------------------------------------------------------
    def table_function(self, bound: Bound, inputs: Sequence[tuple[str, t.SqlType]]) -> str:
        """Register a table function call as a function returning, per input row, the LIST of rows it
        produces (UNNEST it). Rows on which it fails produce nothing and are reported."""
        key = ("table", bound, tuple(inputs))
        found = self._cached(key)
        if found is not None:
            return found
        evaluator = compile_table_function(bound, config=self.config, on_error=self._report)
        fields = [name for name, _ in inputs]
        types = [sql_type for _, sql_type in inputs]
        element_type = bound.type

        def run(*args: pa.ChunkedArray) -> pa.Array:
            if fields:
                arrays = [from_duckdb_arrow(arg, sql_type) for arg, sql_type in zip(args, types)]
                batch = pa.RecordBatch.from_arrays(arrays, names=fields)
            else:
                batch = pa.RecordBatch.from_arrays([pa.nulls(len(args[0]), pa.bool_())], names=[ROWS_ARGUMENT])
            values, parents = evaluator.evaluate_table(batch)
            parent_rows = np.asarray(parents.to_numpy(zero_copy_only=False), dtype=np.int64)
            counts = np.bincount(parent_rows, minlength=batch.num_rows)
            offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
            order = np.argsort(parent_rows, kind="stable")
            ordered = values.take(pa.array(order)) if len(order) else values
            element = to_duckdb_arrow(ordered, element_type)
            return pa.ListArray.from_arrays(pa.array(offsets), element)

        name = f"hw_table_{next(_NUMBERS)}"
        parameters = [_sqltype(sql_type) for sql_type in types] if fields else [duckdb.sqltype("BOOLEAN")]
        self._create(
            name,
            run,
            parameters,
            duckdb.sqltype(duckdb_type(element_type) + "[]"),
            type="arrow",
            null_handling="special",
            side_effects=not fields,
        )
        self._remember(key, name)
        return name
