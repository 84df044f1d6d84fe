"""Project: compute the SELECT list over a batch; the pseudo-columns and headers ride along."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from headwater.engine.operators.base import SYSTEM_ROW_COLUMNS, Evaluator, Operator, as_array

__all__ = ["ProjectOperator"]


class ProjectOperator(Operator):
    """SELECT: each output column is one compiled expression evaluated over the whole batch.

    Args:
        columns: (output name, evaluator, Arrow type) per output column, in order. Results are cast to the
            declared type when an evaluator returns a compatible but different one (e.g. a NULL literal).
        keep_system: carry ROWTIME, ROWPARTITION, ROWOFFSET and the headers through (the sink needs the
            event time and headers of each row).

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
        self, columns: Sequence[tuple[str, Evaluator, pa.DataType]], *, keep_system: bool = True
    ) -> None:
        self.columns = list(columns)
        self.keep_system = keep_system

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        arrays: list[pa.Array] = []
        fields: list[pa.Field] = []
        for name, evaluator, arrow_type in self.columns:
            values = as_array(evaluator.evaluate(batch), batch.num_rows)
            if values.type != arrow_type:
                values = values.cast(arrow_type)
            arrays.append(values)
            fields.append(pa.field(name, arrow_type))
        if self.keep_system:
            for name in SYSTEM_ROW_COLUMNS:
                index = batch.schema.get_field_index(name)
                if index >= 0:
                    arrays.append(batch.column(index))
                    fields.append(batch.schema.field(index))
        return [pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))]
