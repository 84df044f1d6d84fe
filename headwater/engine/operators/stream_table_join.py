"""Stream-table join (INNER, LEFT): each stream record looks up the table's current row by key.

The table input is a changelog (:mod:`headwater.engine.state.changelog`) that only updates the
materialized table (:class:`~headwater.engine.state.row_store.RowStore`); it never produces output, as
in Kafka Streams. Each stream record produces at most one row, stamped with the stream record's time
and carrying its headers: joined with the table's row when the key has one; with NULLs for the table's
columns in a LEFT join when it has none (an INNER join drops the record). Stream records with a null
value are ignored; a record with a NULL key finds no row.

Records are processed in the order the inputs deliver them; a batch of one input sees the other input's
state as it was before the batch (which is exactly the one-record-at-a-time order, since a batch comes
from one input).

Example:
    >>> import pyarrow as pa
    >>> stream = JoinSide(("K",), (("V", "V"),), pa.schema([("K", pa.string()), ("V", pa.int64())]))
    >>> table = JoinSide(("K",), (("NAME", "NAME"),), pa.schema([("K", pa.string()), ("NAME", pa.string())]))
    >>> join = StreamTableJoinOperator(stream, table, ("K",), JoinType.LEFT)
    >>> join.table_input.process(pa.record_batch({"K": ["a"], "NAME": ["x"], "ROWTIME": pa.array([0], pa.int64())}))
    []
    >>> out = join.stream_input.process(pa.record_batch({"K": ["a", "b"], "V": [1, 2], "ROWTIME": pa.array([5, 6], pa.int64())}))
    >>> [(r["K"], r["V"], r["NAME"]) for r in out[0].to_pylist()]
    [('a', 1, 'x'), ('b', 2, None)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.operators.base import Operator
from headwater.engine.operators.join_output import JoinSide, JoinType, event_columns, join_batch
from headwater.engine.operators.table_source import apply_changes, table_changes
from headwater.engine.schema import ROWTIME
from headwater.engine.state.changelog import tombstones
from headwater.engine.state.ipc import pack, unpack
from headwater.engine.state.row_store import RowStore

__all__ = ["StreamTableJoinOperator"]


class _Port(Operator):
    kind = "join_input"

    def __init__(self, join: StreamTableJoinOperator, stream: bool) -> None:
        self.join = join
        self.stream = stream

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        return self.join.process_stream(batch) if self.stream else self.join.process_table(batch)


class StreamTableJoinOperator(Operator):
    """A stream joined with a table on the table's key (see the module docstring).

    Args:
        stream: the stream input (left side of the join).
        table: the table input (right side).
        key_names: output names of the join key columns.
        join_type: :attr:`JoinType.INNER` or :attr:`JoinType.LEFT`.
    """

    kind = "stream_table_join"

    def __init__(self, stream: JoinSide, table: JoinSide, key_names: Sequence[str], join_type: str) -> None:
        if join_type not in (JoinType.INNER, JoinType.LEFT):
            raise ValueError(f"a stream-table join is INNER or LEFT, not {join_type}")
        self.stream, self.table = stream, table
        self.key_names = list(key_names)
        self.join_type = join_type
        self.rows = RowStore(table.key_fields, table.value_schema)
        self.stream_input: Operator = _Port(self, True)
        self.table_input: Operator = _Port(self, False)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        raise TypeError("a join has two inputs: feed stream_input and table_input")

    def process_table(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        changes = table_changes(batch, self.table.key_columns, self.rows)
        if changes is not None:
            apply_changes(self.rows, changes.slots, self.table.values(changes.batch), changes.deleted)
        return []

    def process_stream(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        nulls = tombstones(batch)
        if nulls.any():
            batch = batch.filter(pa.array(~nulls))
        if batch.num_rows == 0:
            return []
        keys = [batch.column(name) for name in self.stream.key_columns]
        keyed = np.ones(batch.num_rows, dtype=bool)
        for column in keys:
            if column.null_count:
                keyed &= np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        slots = np.full(batch.num_rows, -1, dtype=np.int64)
        if keyed.any():
            mask = pa.array(keyed)
            slots[keyed] = self.rows.index.slots_for([c.filter(mask) for c in keys], insert=False)
        found = self.rows.present(slots)
        rows = np.arange(batch.num_rows) if self.join_type == JoinType.LEFT else np.flatnonzero(found)
        if len(rows) == 0:
            return []
        take = pa.array(rows, pa.int64())
        stream_values = self.stream.values(batch).take(take)
        table_values = self.rows.rows(slots[rows])
        partition, offset, headers = event_columns(batch, rows)
        rowtime = np.asarray(batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)[rows]
        key_values = [column.take(take) for column in keys]
        out = join_batch(
            self.key_names, key_values, stream_values, self.stream, table_values, self.table,
            rowtime, partition, offset, headers,
        )
        return [out]

    def snapshot(self) -> bytes | None:
        keys, rows = self.rows.to_arrow()
        return pack({"keys": keys, "rows": rows})

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        self.rows = RowStore.from_arrow(sections["keys"], sections["rows"], self.table.value_schema)
