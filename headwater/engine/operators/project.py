"""Project: compute the SELECT list over a batch; the pseudo-columns and headers ride along.

A row without a value (a stream record with a null value, see :mod:`.base`) keeps a null value: only its
key columns are computed (from its key and pseudo-columns), as ksqlDB computes the key of a null row when
it re-keys and never evaluates the SELECT list over it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.operators.base import (
    SHADOW_PREFIX,
    SYSTEM_ROW_COLUMNS,
    Evaluator,
    Operator,
    as_array,
    null_value_mask,
)

__all__ = ["ProjectOperator"]


class ProjectOperator(Operator):
    """SELECT: each output column is one compiled expression evaluated over the whole batch.

    Args:
        columns: (output name, evaluator, Arrow type) per output column, in order. Results are cast to the
            declared type when an evaluator returns a compatible but different one (e.g. a NULL literal).
        keep_system: carry ROWTIME, ROWPARTITION, ROWOFFSET, the headers and the null-value flag through
            (the sink needs the event time and headers of each row).
        key_columns: the output columns that are key columns (computed for rows without a value too).

    Example:
        >>> class Col:
        ...     def __init__(self, name): self.name = name
        ...     def evaluate(self, batch): return batch.column(self.name)
        >>> op = ProjectOperator([("Y", Col("X"), pa.int64())], keep_system=False)
        >>> op.process(pa.record_batch({"X": [1, 2]}))[0].to_pydict()
        {'Y': [1, 2]}
    """

    kind = "project"

    def __init__(
        self,
        columns: Sequence[tuple[str, Evaluator, pa.DataType]],
        *,
        keep_system: bool = True,
        key_columns: frozenset[str] = frozenset(),
    ) -> None:
        self.columns = list(columns)
        self.keep_system = keep_system
        self.key_columns = key_columns
        self._layout: tuple[pa.Schema, list[int], pa.Schema] | None = None

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        arrays: list[pa.Array] = []
        null_values = null_value_mask(batch)
        with_value = batch
        scatter: pa.Array | None = None
        if null_values is not None:
            with_value = batch.filter(pa.array(~null_values))
            positions = np.cumsum(~null_values) - 1
            scatter = pa.array(np.where(null_values, 0, positions), mask=null_values)
        for name, evaluator, arrow_type in self.columns:
            if scatter is None or name in self.key_columns:
                values = as_array(evaluator.evaluate(batch), batch.num_rows)
            elif with_value.num_rows == 0:
                values = pa.nulls(batch.num_rows, arrow_type)
            else:
                values = as_array(evaluator.evaluate(with_value), with_value.num_rows).take(scatter)
            if values.type != arrow_type:
                values = values.cast(arrow_type)
            arrays.append(values)
        carried, schema = self._output_layout(batch.schema)
        arrays.extend(batch.column(index) for index in carried)
        return [pa.RecordBatch.from_arrays(arrays, schema=schema)]

    def _output_layout(self, input_schema: pa.Schema) -> tuple[list[int], pa.Schema]:
        """The input columns carried through (system columns, by index) and the output schema.

        Both depend only on the input schema, which is the same batch after batch, so they are worked
        out once per input schema rather than once per batch (a selective query calls this for every
        stored batch it reads, for a handful of rows each)."""
        cached = self._layout
        if cached is not None and cached[0].equals(input_schema, check_metadata=True):
            return cached[1], cached[2]
        fields = [pa.field(name, arrow_type) for name, _, arrow_type in self.columns]
        carried: list[int] = []
        if self.keep_system:
            produced = {field.name for field in fields}
            for name in SYSTEM_ROW_COLUMNS:
                shadow = SHADOW_PREFIX + name
                index = input_schema.get_field_index(shadow)
                if index < 0:
                    index = input_schema.get_field_index(name)
                if index < 0:
                    continue
                # a user column named after a pseudo-column (a PARTITION BY ROWTIME key) displaces it
                carried_name = shadow if name in produced or name == shadow else name
                if input_schema.field(index).name == shadow:
                    carried_name = shadow
                carried.append(index)
                fields.append(input_schema.field(index).with_name(carried_name))
        schema = pa.schema(fields)
        self._layout = (input_schema, carried, schema)
        return carried, schema
