"""Partition by: compute each row's new key columns (PARTITION BY), before the projection.

Row batches carry columns by name, so re-keying only has to add the key columns that are not already in
the batch: a key that is an input column (``PARTITION BY NAME``, ``PARTITION BY ROWTIME``) is that
column, and the change of namespace (old keys becoming values) is the plan's business, not the batch's.
Key expressions are evaluated over the whole batch. For a row without a value (a stream record with a
null value) only an expression that reads nothing but key columns has a value; any other gives a NULL key,
as ksqlDB evaluates such expressions on the key alone and the others on the (null) value. A row whose
key expression fails gets a NULL key and is reported, as ksqlDB logs "Error computing new key" and goes
on.

The partition each row lands in is decided at the sink, from the serialised key of the result (see
:mod:`headwater.engine.operators.repartition`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.operators.base import (
    ABSENT_KEY_COLUMN,
    SHADOW_PREFIX,
    SYSTEM_ROW_COLUMNS,
    Evaluator,
    Operator,
    as_array,
    null_value_mask,
)

__all__ = ["PartitionByOperator"]


class PartitionByOperator(Operator):
    """Appends the computed key columns to each batch.

    Args:
        keys: (key column name, evaluator, Arrow type, reads key columns only) per key; the evaluator
            is None for a key that is an input column (``PARTITION BY NAME``).

    Example:
        >>> import pyarrow.compute as pc
        >>> class Abs:
        ...     def evaluate(self, batch): return pc.abs(batch.column("X"))
        >>> op = PartitionByOperator([("KSQL_COL_0", Abs(), pa.int64(), False)])
        >>> op.process(pa.record_batch({"X": [-1, 2]}))[0].to_pydict()
        {'X': [-1, 2], 'KSQL_COL_0': [1, 2]}
    """

    kind = "partition_by"

    def __init__(self, keys: Sequence[tuple[str, Evaluator | None, pa.DataType, bool]]) -> None:
        self.keys = list(keys)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        null_values = null_value_mask(batch)
        absent = batch.schema.get_field_index(ABSENT_KEY_COLUMN)
        if absent >= 0:  # every row gets a new key
            batch = batch.remove_column(absent)
        for name, evaluator, arrow_type, key_only in self.keys:
            index = batch.schema.get_field_index(name)
            if evaluator is None:  # the key is an input column
                if null_values is None or key_only:
                    continue
                values = batch.column(index)
            else:
                values = as_array(evaluator.evaluate(batch), batch.num_rows)
            if values.type != arrow_type:
                values = values.cast(arrow_type)
            if null_values is not None and not key_only:
                values = pc.if_else(pa.array(null_values), pa.scalar(None, arrow_type), values)
            if name in SYSTEM_ROW_COLUMNS and batch.schema.get_field_index(SHADOW_PREFIX + name) < 0:
                batch = batch.append_column(SHADOW_PREFIX + name, batch.column(index))
            if index >= 0:
                batch = batch.set_column(index, pa.field(name, arrow_type), values)
            else:
                batch = batch.append_column(pa.field(name, arrow_type), values)
        return [batch]
