"""Partition by: compute each row's new key columns (PARTITION BY), before the projection.

Row batches carry columns by name, so re-keying only has to add the key columns that are not already in
the batch: a key that is an input column (``PARTITION BY NAME``, ``PARTITION BY ROWTIME``) is that
column, and the change of namespace (old keys becoming values) is the plan's business, not the batch's.
Key expressions are evaluated over the whole batch, rows without a value included (ksqlDB computes the
key of a null row from its key and pseudo-columns); a row whose key expression fails gets a NULL key and
is reported, as ksqlDB logs "Error computing new key" and goes on.

The partition each row lands in is decided at the sink, from the serialised key of the result (see
:mod:`headwater.engine.operators.repartition`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from headwater.engine.operators.base import Evaluator, Operator, as_array

__all__ = ["PartitionByOperator"]


class PartitionByOperator(Operator):
    """Appends the computed key columns to each batch.

    Args:
        keys: (key column name, evaluator, Arrow type) for each key the batch does not hold yet.

    Example:
        >>> import pyarrow.compute as pc
        >>> class Abs:
        ...     def evaluate(self, batch): return pc.abs(batch.column("X"))
        >>> op = PartitionByOperator([("KSQL_COL_0", Abs(), pa.int64())])
        >>> op.process(pa.record_batch({"X": [-1, 2]}))[0].to_pydict()
        {'X': [-1, 2], 'KSQL_COL_0': [1, 2]}
    """

    kind = "partition_by"

    def __init__(self, keys: Sequence[tuple[str, Evaluator, pa.DataType]]) -> None:
        self.keys = list(keys)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        for name, evaluator, arrow_type in self.keys:
            values = as_array(evaluator.evaluate(batch), batch.num_rows)
            if values.type != arrow_type:
                values = values.cast(arrow_type)
            index = batch.schema.get_field_index(name)
            if index >= 0:
                batch = batch.set_column(index, pa.field(name, arrow_type), values)
            else:
                batch = batch.append_column(pa.field(name, arrow_type), values)
        return [batch]
