"""Flat map: table functions (EXPLODE, CUBE...) turn each input row into zero or more output rows.

With several table functions in one SELECT, ksqlDB zips their outputs: row ``i`` of an input produces
``max(n_f)`` rows, where ``n_f`` is the number of values function ``f`` produced for it, and the shorter
outputs are padded with NULL. The input's other columns are repeated on every output row.

A row without a value (a stream record with a null value) produces no rows.

Everything is index arithmetic in numpy over the whole batch: the per-input counts come from
``bincount`` of each function's parent indexes, and one ``take`` per column builds the output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa

from headwater.engine.operators.base import Operator, without_null_values

__all__ = ["FlatMapOperator", "TableFunctionEvaluator"]


class TableFunctionEvaluator(Protocol):
    """A compiled table-function call: the values it produces for a batch and, for each value, the index
    of the input row it came from (non-decreasing)."""

    def evaluate_table(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]: ...


class FlatMapOperator(Operator):
    """Appends one column per table function (named as given) and repeats the input columns.

    Example:
        >>> import pyarrow.compute as pc
        >>> class Explode:
        ...     def evaluate_table(self, batch):
        ...         col = batch.column("A")
        ...         return pc.list_flatten(col), pc.list_parent_indices(col)
        >>> op = FlatMapOperator([("E", Explode(), pa.int64())])
        >>> op.process(pa.record_batch({"A": [[1, 2], [], [3]], "K": ["x", "y", "z"]}))[0].to_pydict()
        {'A': [[1, 2], [1, 2], [3]], 'K': ['x', 'x', 'z'], 'E': [1, 2, 3]}
    """

    kind = "flat_map"

    def __init__(self, functions: Sequence[tuple[str, TableFunctionEvaluator, pa.DataType]]) -> None:
        if not functions:
            raise ValueError("a flat map needs at least one table function")
        self.functions = list(functions)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        batch = without_null_values(batch)
        rows = batch.num_rows
        if rows == 0:
            return []
        outputs: list[tuple[pa.Array, np.ndarray, np.ndarray]] = []
        total = np.zeros(rows, dtype=np.int64)
        for _, evaluator, _ in self.functions:
            values, parents = evaluator.evaluate_table(batch)
            parent_index = np.asarray(pa.array(parents).to_numpy(zero_copy_only=False), dtype=np.int64)
            counts = np.bincount(parent_index, minlength=rows).astype(np.int64)
            starts = np.cumsum(counts) - counts
            outputs.append((pa.array(values) if not isinstance(values, pa.Array) else values, counts, starts))
            np.maximum(total, counts, out=total)
        out_rows = int(total.sum())
        if out_rows == 0:
            return []
        parent = np.repeat(np.arange(rows, dtype=np.int64), total)
        position = np.arange(out_rows, dtype=np.int64) - np.repeat(np.cumsum(total) - total, total)
        result = batch.take(pa.array(parent))
        arrays = list(result.columns)
        fields = list(result.schema)
        for (name, _, arrow_type), (values, counts, starts) in zip(self.functions, outputs):
            valid = position < counts[parent]
            index = pa.array(np.where(valid, starts[parent] + position, 0), mask=~valid)
            column = values.take(index)
            if column.type != arrow_type:
                column = column.cast(arrow_type)
            arrays.append(column)
            fields.append(pa.field(name, arrow_type))
        return [pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))]
