"""Table-table join on the primary key (INNER, LEFT, RIGHT, FULL OUTER), Kafka Streams' semantics.

Both inputs are table changelogs (:mod:`headwater.engine.state.changelog`); the join materializes both
(:class:`~headwater.engine.state.row_store.RowStore`, sharing one key index) and answers each change of
either side with the join row of its key, stamped with the larger of the two sides' timestamps:

====================  =====================================================================================
join                  a change of one side when the other side ...
====================  =====================================================================================
INNER                 has no row: nothing; has a row: the joined row, or a tombstone for a delete
LEFT, left change     the joined row (NULLs for a missing right row), or a tombstone for a delete
LEFT, right change    no left row: nothing; else the left row joined with the new right row (or NULLs)
RIGHT                 LEFT with the roles swapped
FULL                  the joined row with NULLs for whichever side is missing; a tombstone when neither
                      side has a row any more
====================  =====================================================================================

A delete of a key that has no row changes nothing and emits nothing (the tables are materialized). The
output key is the changed record's key.

Example:
    >>> import pyarrow as pa
    >>> schema = pa.schema([("K", pa.string()), ("V", pa.int64())])
    >>> join = TableTableJoinOperator(
    ...     JoinSide(("K",), (("V", "L_V"),), schema), JoinSide(("K",), (("V", "R_V"),), schema),
    ...     ("K",), JoinType.LEFT)
    >>> def change(v, ts, delete=False):
    ...     return pa.record_batch({"K": ["a"], "V": pa.array([v], pa.int64()),
    ...                             "ROWTIME": pa.array([ts], pa.int64()), "__null_value": [delete]})
    >>> [(r["L_V"], r["R_V"]) for r in join.left_input.process(change(1, 0))[0].to_pylist()]
    [(1, None)]
    >>> [(r["L_V"], r["R_V"], r["ROWTIME"]) for r in join.right_input.process(change(2, 5))[0].to_pylist()]
    [(1, 2, 5)]
    >>> [r["__null_value"] for r in join.left_input.process(change(None, 6, delete=True))[0].to_pylist()]
    [True]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.operators.base import Operator
from headwater.engine.operators.join_output import JoinSide, JoinType, event_columns, join_batch, nulls_for
from headwater.engine.operators.join_sequence import Piece
from headwater.engine.operators.join_step import (
    SideStep,
    StepChanges,
    in_step_order,
    latest_before,
    take_rows,
)
from headwater.engine.operators.table_source import apply_changes, keyed_rows, table_changes
from headwater.engine.schema import ROWTIME
from headwater.engine.state.ipc import pack, unpack
from headwater.engine.state.row_store import RowStore

__all__ = ["TableTableJoinOperator"]

_STORED_TIME = "__rowtime"


class _Port(Operator):
    kind = "join_input"

    def __init__(self, join: TableTableJoinOperator, left: bool) -> None:
        self.join = join
        self.left = left

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        return self.join.process_side(self.left, batch)


def _stored_schema(side: JoinSide) -> pa.Schema:
    return side.value_schema.append(pa.field(_STORED_TIME, pa.int64()))


class TableTableJoinOperator(Operator):
    """A join of two tables on their primary keys (see the module docstring).

    Args:
        left: the left table.
        right: the right table.
        key_names: output names of the key columns.
        join_type: one of :class:`JoinType`.
    """

    kind = "table_table_join"

    def __init__(self, left: JoinSide, right: JoinSide, key_names: Sequence[str], join_type: str) -> None:
        if join_type not in JoinType.ALL:
            raise ValueError(f"unknown join type {join_type}")
        self.left, self.right = left, right
        self.key_names = list(key_names)
        self.join_type = join_type
        self.stores = {True: RowStore(left.key_fields, _stored_schema(left)), False: RowStore(left.key_fields, _stored_schema(right))}
        self.stores[False].index = self.stores[True].index
        self.left_input: Operator = _Port(self, True)
        self.right_input: Operator = _Port(self, False)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        raise TypeError("a join has two inputs: feed left_input and right_input")

    def _keeps_unmatched(self, is_left: bool) -> bool:
        """Whether a change of this side is emitted when the other side has no row."""
        if self.join_type == JoinType.FULL:
            return True
        return self.join_type == (JoinType.LEFT if is_left else JoinType.RIGHT)

    def process_side(self, is_left: bool, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        out, _ = self._side_rows(is_left, batch)
        return [] if out is None else [out]

    def process_sequence(self, pieces: Sequence[Piece]) -> list[pa.RecordBatch]:
        """The output of ``pieces`` (both sides' changes, in the order they are consumed) processed one
        after another, computed for the whole step at once (:mod:`~headwater.engine.operators.join_step`):
        a change reads its own key's row on the other side, which is that side's latest change of the key
        before it in the step, else the row stored before the step."""
        step = StepChanges.of(pieces)
        if step is None:  # a side's pieces differ in schema: one piece at a time
            return [out for is_left, batch in pieces for out in self.process_side(is_left, batch)]
        sides = {
            is_left: SideStep.resolve(step, is_left, self.left if is_left else self.right, self.stores[is_left])
            for is_left in (True, False)
        }
        parts = []
        for is_left, own in sides.items():
            if own is not None:
                part = self._step_rows(is_left, own, sides[not is_left])
                if part is not None:
                    parts.append(part)
        for is_left, own in sides.items():
            if own is not None:
                stored = own.values.append_column(_STORED_TIME, pa.array(own.rowtime, pa.int64()))
                apply_changes(self.stores[is_left], own.slots, stored, own.deleted)
        return in_step_order(parts)

    def _step_rows(self, is_left: bool, own: SideStep, other: SideStep | None) -> tuple[np.ndarray, pa.RecordBatch] | None:
        """The output of one side's changes of a step, each joined with the other side's row of its key
        as of its position; (the position of each output row's change, the rows). Nothing is applied."""
        other_store = self.stores[not is_left]
        slots, deleted = own.slots, own.deleted
        if other is None:
            seen = np.full(len(slots), -1, dtype=np.int64)
        else:
            seen = latest_before(other.slots, other.positions, slots, own.positions)
        in_step = seen >= 0
        other_present = other_store.present(slots)
        if other is not None and in_step.any():
            other_present[in_step] = ~other.deleted[seen[in_step]]
        emit = own.changes.effective & (other_present | self._keeps_unmatched(is_left))
        keeps_other = self.join_type == JoinType.FULL or self._keeps_unmatched(not is_left)
        tombstone = deleted & ~(other_present & keeps_other)
        rows = np.flatnonzero(emit)
        if len(rows) == 0:
            return None
        from_step, valid = in_step[rows], other_present[rows]
        other_rows = other_store.rows(np.where(from_step | ~valid, -1, slots[rows]))
        if other is not None and from_step.any():
            step_rows = other.values.append_column(_STORED_TIME, pa.array(other.rowtime, pa.int64()))
            other_rows = take_rows(other_rows, step_rows, from_step, seen[rows], valid)
        other_time = np.asarray(other_rows.column(_STORED_TIME).fill_null(0).to_numpy(), dtype=np.int64)
        rowtime = own.rowtime[rows]
        times = np.where(valid, np.maximum(rowtime, other_time), rowtime)
        take = pa.array(rows, pa.int64())
        this_values = own.values.take(take)
        if deleted[rows].any():
            this_values = _null_where(this_values, deleted[rows])
        other_values = other_rows.drop_columns([_STORED_TIME])
        left_values, right_values = (this_values, other_values) if is_left else (other_values, this_values)
        batch = own.changes.batch
        partition, offset, headers = event_columns(batch, rows)
        keys = [batch.column(name).take(take) for name in (self.left if is_left else self.right).key_columns]
        output = join_batch(
            self.key_names, keys, left_values, self.left, right_values, self.right,
            times, partition, offset, headers, tombstone[rows],
        )
        return own.positions[rows], output

    def _side_rows(self, is_left: bool, batch: pa.RecordBatch) -> tuple[pa.RecordBatch | None, np.ndarray]:
        """The output of a batch of one side's changes and the input row of each output row."""
        side = self.left if is_left else self.right
        store, other_store = self.stores[is_left], self.stores[not is_left]
        none = np.zeros(0, dtype=np.int64)
        changes = table_changes(batch, side.key_columns, store)
        if changes is None:
            return None, none
        kept = keyed_rows(batch, side.key_columns)
        batch = changes.batch
        rowtime = np.asarray(batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)
        values = side.values(batch)
        stored = values.append_column(_STORED_TIME, pa.array(rowtime, pa.int64()))
        other_present = other_store.present(changes.slots)
        deleted = changes.deleted
        # without the other side's row, only a preserved side (LEFT's left, RIGHT's right, FULL) emits
        emit = changes.effective & (other_present | self._keeps_unmatched(is_left))
        # a delete is a tombstone, unless the other side's row stands alone in the result (FULL, or the
        # optional side of LEFT / RIGHT being deleted while the preserved side has a row)
        tombstone = deleted.copy()
        keeps_other = self.join_type == JoinType.FULL or self._keeps_unmatched(not is_left)
        tombstone &= ~(other_present & keeps_other)
        rows = np.flatnonzero(emit)
        output: pa.RecordBatch | None = None
        if len(rows):
            take = pa.array(rows, pa.int64())
            other_rows = other_store.rows(changes.slots[rows])
            other_time = np.asarray(other_rows.column(_STORED_TIME).to_numpy(zero_copy_only=False))
            other_valid = other_present[rows]
            times = np.where(other_valid, np.maximum(rowtime[rows], np.where(other_valid, other_time, 0)), rowtime[rows])
            this_values = values.take(take)
            if deleted[rows].any():
                this_values = _null_where(this_values, deleted[rows])
            other_values = other_rows.drop_columns([_STORED_TIME])
            left_values, right_values = (this_values, other_values) if is_left else (other_values, this_values)
            partition, offset, headers = event_columns(batch, rows)
            keys = [batch.column(name).take(take) for name in side.key_columns]
            output = join_batch(
                self.key_names, keys, left_values, self.left, right_values, self.right,
                times, partition, offset, headers, tombstone[rows],
            )
        apply_changes(store, changes.slots, stored, deleted)
        return output, (rows if kept is None else kept[rows])

    def snapshot(self) -> bytes | None:
        keys, left = self.stores[True].to_arrow()
        _, right = self.stores[False].to_arrow()
        return pack({"keys": keys, "left": left, "right": right})

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        self.stores[True] = RowStore.from_arrow(sections["keys"], sections["left"], _stored_schema(self.left))
        self.stores[False] = RowStore.from_arrow(sections["keys"], sections["right"], _stored_schema(self.right))
        self.stores[False].index = self.stores[True].index



def _null_where(table: pa.Table, mask: np.ndarray) -> pa.Table:
    """``table`` with the rows of ``mask`` set to NULL."""
    nulls = nulls_for(table.schema, table.num_rows)
    condition = pa.array(mask)
    return pa.table(
        [pc.if_else(condition, nulls.column(i), table.column(i)) for i in range(table.num_columns)],
        schema=table.schema,
    )
