"""Table source: materialize a table's changelog, so downstream operators see real changes.

ksqlDB materializes a table source (Kafka Streams' ``KTableSource`` with its store) wherever an operator
needs the table's previous row: an aggregation over a table must undo the old row's contribution, and a
delete of a key that has no row must not propagate. This operator keeps the latest row per key
(:class:`~headwater.engine.state.row_store.RowStore`) and turns its input changelog (upserts and
tombstones, :mod:`headwater.engine.state.changelog`) into:

* ``retractions=False``: the same changelog without deletes of absent keys;
* ``retractions=True`` (the input of an aggregation): each update as ``retract(old row), upsert(new row)``
  and each delete as ``retract(old row)``; the retraction row carries the old values with the new record's
  ROWTIME, partition, offset and headers.

Rows with a NULL key are dropped (a table row needs a key). Rows of one batch apply in order, so a key
updated twice in a batch retracts its first update before the second.

Example:
    >>> import pyarrow as pa
    >>> op = TableSourceOperator(["K"], retractions=True)
    >>> batch = pa.record_batch({"K": ["a", "a"], "V": [1, 2], "ROWTIME": pa.array([5, 6], pa.int64())})
    >>> out = op.process(batch)[0]
    >>> out.column("V").to_pylist(), out.column("__retract").to_pylist()
    ([1, 1, 2], [False, True, False])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.operators.base import HEADERS_COLUMN, Operator
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME
from headwater.engine.state.changelog import RETRACT_COLUMN, TOMBSTONE_COLUMN, tombstones
from headwater.engine.state.ipc import pack, unpack
from headwater.engine.state.row_store import RowStore

__all__ = [
    "EVENT_COLUMNS", "TableChanges", "TableSourceOperator", "apply_changes", "keyed_rows", "previous_rows",
    "table_changes",
]

EVENT_COLUMNS = frozenset((ROWTIME, ROWPARTITION, ROWOFFSET, HEADERS_COLUMN, TOMBSTONE_COLUMN, RETRACT_COLUMN))
"""Columns describing the change event rather than the table row."""


def previous_rows(slots: np.ndarray, deleted: np.ndarray, stored_present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a batch, where its key's previous row is and whether there is one.

    Returns ``(previous_batch_row, present)``: the batch row holding the previous value (-1 when it is
    the stored row, i.e. the first occurrence of the key in the batch) and whether a previous row
    exists at all (the stored row, or an earlier upsert of the key in this batch).
    """
    grouping = Grouping(slots)
    previous = np.full(len(slots), -1, dtype=np.int64)
    rank = grouping.rank_in_group()
    later = rank > 0
    sorted_rows = grouping.order
    previous[sorted_rows[later]] = sorted_rows[np.flatnonzero(later) - 1]
    present = np.where(previous >= 0, ~deleted[np.maximum(previous, 0)], stored_present)
    return previous, present


@dataclass
class TableChanges:
    """A changelog batch resolved against a table's store.

    Attributes:
        batch: the changelog rows with a non-NULL key, in order.
        slots: each row's key slot in the store.
        deleted: which rows are deletes.
        present: whether the key had a row before each change (the stored row or an earlier change of
            the batch).
        previous: for each row, the earlier batch row holding the key's previous value, or -1 when the
            previous value is the stored one.
        effective: the rows that change anything (deletes of keys without a row are dropped, as a
            materialized table does).
    """

    batch: pa.RecordBatch
    slots: np.ndarray
    deleted: np.ndarray
    present: np.ndarray
    previous: np.ndarray

    @property
    def effective(self) -> np.ndarray:
        return ~self.deleted | self.present


def keyed_rows(batch: pa.RecordBatch, key_columns: Sequence[str]) -> np.ndarray | None:
    """The rows of ``batch`` whose key has no NULL (the rows a table keeps), or None when all do."""
    usable = np.ones(batch.num_rows, dtype=bool)
    for name in key_columns:
        column = batch.column(name)
        if column.null_count:
            usable &= np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return None if usable.all() else np.flatnonzero(usable)


def table_changes(batch: pa.RecordBatch, key_columns: Sequence[str], store: RowStore) -> TableChanges | None:
    """Resolve a changelog batch against ``store`` (which is not modified); None if nothing is left
    after dropping rows with a NULL key."""
    if batch.num_rows == 0:
        return None
    kept = keyed_rows(batch, key_columns)
    if kept is not None:
        batch = batch.take(pa.array(kept, pa.int64()))
        if batch.num_rows == 0:
            return None
    keys = [batch.column(name) for name in key_columns]
    deleted = tombstones(batch)
    slots = store.index.slots_for(keys)
    previous, present = previous_rows(slots, deleted, store.present(slots))
    return TableChanges(batch, slots, deleted, present, previous)


def apply_changes(store: RowStore, slots: np.ndarray, rows: pa.Table, deleted: np.ndarray) -> None:
    """Update ``store`` with a batch of changes: each key's last change in the batch wins."""
    if len(slots) == 0:
        return
    grouping = Grouping(slots)
    last = grouping.order[grouping.starts + grouping.counts - 1]
    final_deleted = deleted[last]
    if (~final_deleted).any():
        keep = last[~final_deleted]
        store.upsert(slots[keep], rows.take(pa.array(keep, pa.int64())))
    if final_deleted.any():
        store.delete(slots[last[final_deleted]])


class TableSourceOperator(Operator):
    """Materializes a table changelog (see the module docstring).

    Args:
        key_columns: the table's key columns.
        retractions: emit retraction rows for undo (the input of an aggregation).
    """

    kind = "table_source"

    def __init__(self, key_columns: Sequence[str], *, retractions: bool = False) -> None:
        self.key_columns = list(key_columns)
        self.retractions = retractions
        self.store: RowStore | None = None
        self._pending_state: dict[str, pa.Table] | None = None

    def _value_schema(self, batch: pa.RecordBatch) -> pa.Schema:
        return pa.schema([f for f in batch.schema if f.name not in EVENT_COLUMNS])

    def _store_for(self, batch: pa.RecordBatch) -> RowStore:
        if self.store is None:
            key_fields = [batch.schema.field(name) for name in self.key_columns]
            schema = self._value_schema(batch)
            if self._pending_state is not None:
                self.store = RowStore.from_arrow(self._pending_state["keys"], self._pending_state["rows"], schema)
                self._pending_state = None
            else:
                self.store = RowStore(key_fields, schema)
        return self.store

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        store = self._store_for(batch)
        changes = table_changes(batch, self.key_columns, store)
        if changes is None:
            return []
        batch, slots, deleted = changes.batch, changes.slots, changes.deleted
        previous, present = changes.previous, changes.present
        rows = pa.Table.from_batches([batch]).select(store.value_schema.names)
        out = self._changes(batch, rows, self._old_values(store, rows, slots, previous), deleted, present)
        apply_changes(store, slots, rows, deleted)
        return [out] if out is not None and out.num_rows else []

    def _old_values(self, store: RowStore, rows: pa.Table, slots: np.ndarray, previous: np.ndarray) -> pa.Table | None:
        """Each change's old row (an earlier row of this batch, or the stored row); only retractions carry
        old values, so without them there is nothing to gather."""
        if not self.retractions:
            return None
        stored = store.rows(slots)
        from_batch = previous >= 0
        old_values = stored
        if from_batch.any():
            batch_previous = rows.take(pa.array(np.maximum(previous, 0), pa.int64()))
            mask = pa.array(from_batch)
            old_values = pa.table(
                [pc.if_else(mask, batch_previous.column(i), stored.column(i)) for i in range(rows.num_columns)],
                schema=store.value_schema,
            )
        return old_values

    def _changes(
        self, batch: pa.RecordBatch, rows: pa.Table, old: pa.Table | None, deleted: np.ndarray, present: np.ndarray
    ) -> pa.RecordBatch | None:
        """The output rows, in input order: [retraction of the old row], then the upsert (or, without
        retractions, the tombstone of a present key)."""
        n = batch.num_rows
        retract = present if self.retractions else np.zeros(n, dtype=bool)
        emit_new = ~deleted | (present & ~np.asarray(self.retractions, dtype=bool))
        # interleave: per input row, first its retraction (if any), then its new row (if any)
        counts = retract.astype(np.int64) + emit_new.astype(np.int64)
        total = int(counts.sum())
        if total == 0:
            return None
        source_row = np.repeat(np.arange(n, dtype=np.int64), counts)
        first_of_row = np.repeat(np.cumsum(counts) - counts, counts)
        is_first = np.arange(total) == first_of_row
        is_retraction = is_first & retract[source_row]
        take_rows = pa.array(source_row, pa.int64())
        new_part = rows.take(take_rows)
        old_part = old.take(take_rows) if old is not None and is_retraction.any() else None
        mask = pa.array(is_retraction)
        event_names = [
            f.name for f in batch.schema if f.name not in rows.column_names and f.name not in (TOMBSTONE_COLUMN, RETRACT_COLUMN)
        ]
        events = batch.select(event_names).take(take_rows)  # the event columns in one take
        arrays: list[pa.Array] = []
        names: list[str] = []
        for field in batch.schema:
            if field.name in (TOMBSTONE_COLUMN, RETRACT_COLUMN):
                continue
            if field.name in rows.column_names:
                values = new_part.column(field.name)
                if old_part is not None:
                    values = pc.if_else(mask, old_part.column(field.name), values)
            else:
                values = events.column(field.name)
            arrays.append(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
            names.append(field.name)
        arrays.append(pa.array(deleted[source_row] & ~is_retraction, pa.bool_()))
        names.append(TOMBSTONE_COLUMN)
        if self.retractions:
            arrays.append(pa.array(is_retraction, pa.bool_()))
            names.append(RETRACT_COLUMN)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def snapshot(self) -> bytes | None:
        if self.store is None:
            return pack(self._pending_state or {})
        keys, rows = self.store.to_arrow()
        return pack({"keys": keys, "rows": rows})

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        self.store = None
        self._pending_state = sections if sections else None
