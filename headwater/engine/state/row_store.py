"""The latest row of each key: the materialized table behind table sources and table joins.

A :class:`RowStore` keeps, for each key, the most recent row written for it (its value columns and
whatever else the owner stores, such as ROWTIME), or nothing after a delete. Writes and reads are
vectorized: rows are appended to Arrow chunks and a numpy array maps each key's slot to the position of
its current row, so a lookup for a whole batch of keys is one ``take``. Superseded rows are dropped by an
occasional compaction.

Example:
    >>> import pyarrow as pa, numpy as np
    >>> store = RowStore([pa.field("K", pa.string())], pa.schema([pa.field("V", pa.int64())]))
    >>> slots = store.index.slots_for([pa.array(["a", "b"])])
    >>> store.upsert(slots, pa.table({"V": [1, 2]}))
    >>> store.delete(slots[:1])
    >>> found = store.index.slots_for([pa.array(["b", "a", "z"])], insert=False)
    >>> store.present(found).tolist(), store.rows(found).column("V").to_pylist()
    ([True, False, False], [2, None, None])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.state.key_index import KeyIndex

__all__ = ["RowStore", "last_per_slot"]

_PRESENT = "__present"


def last_per_slot(slots: np.ndarray) -> np.ndarray:
    """The positions in ``slots`` of the last occurrence of each distinct slot, in position order.

    Slots are dense non-negative numbers, so the latest position of each is one ``maximum.at`` into an
    array indexed by slot (no sort); a position is kept when it is its slot's latest."""
    if len(slots) == 0:
        return np.zeros(0, dtype=np.int64)
    slots = np.asarray(slots, dtype=np.int64)
    positions = np.arange(len(slots), dtype=np.int64)
    if int(slots.min()) < 0:  # not slots: the general way
        _, first_in_reversed = np.unique(slots[::-1], return_index=True)
        return np.sort(len(slots) - 1 - first_in_reversed)
    latest = np.full(int(slots.max()) + 1, -1, dtype=np.int64)
    np.maximum.at(latest, slots, positions)
    return np.flatnonzero(latest[slots] == positions)


class RowStore:
    """Latest row per key (see the module docstring).

    Args:
        key_fields: the key columns.
        value_schema: the columns stored for each key.
    """

    def __init__(self, key_fields: Sequence[pa.Field], value_schema: pa.Schema) -> None:
        self.index = KeyIndex(key_fields)
        self.value_schema = value_schema
        self._chunks: list[pa.Table] = []
        self._rows: pa.Table | None = None
        self._stored = 0
        self._location = np.zeros(0, dtype=np.int64)

    def _grow(self) -> None:
        size = self.index.size
        if len(self._location) < size:
            self._location = np.concatenate(
                [self._location, np.full(size - len(self._location), -1, dtype=np.int64)]
            )

    @property
    def live_count(self) -> int:
        return int(np.count_nonzero(self._location >= 0))

    def present(self, slots: np.ndarray) -> np.ndarray:
        """Whether each slot (-1 for an unknown key) currently has a row."""
        self._grow()
        slots = np.asarray(slots, dtype=np.int64)
        found = np.zeros(len(slots), dtype=bool)
        known = slots >= 0
        found[known] = self._location[slots[known]] >= 0
        return found

    def rows(self, slots: np.ndarray) -> pa.Table:
        """The current row of each slot; absent keys (and -1) give a row of nulls."""
        self._grow()
        slots = np.asarray(slots, dtype=np.int64)
        positions = np.full(len(slots), -1, dtype=np.int64)
        known = slots >= 0
        positions[known] = self._location[slots[known]]
        missing = positions < 0
        table = self._table()
        if not missing.any():
            return table.take(pa.array(positions, pa.int64()))
        indices = pa.array(np.where(missing, 0, positions), pa.int64(), mask=missing)
        if table.num_rows == 0:
            return pa.table(
                [pa.nulls(len(slots), f.type) for f in self.value_schema], schema=self.value_schema
            )
        return table.take(indices)

    def locations(self, slots: np.ndarray) -> np.ndarray:
        """The row of :meth:`table` holding each slot's current row (-1: no row, or a slot of -1), for
        callers that gather rows of several tables in one ``take``."""
        self._grow()
        slots = np.asarray(slots, dtype=np.int64)
        return np.where(slots >= 0, self._location[np.maximum(slots, 0)], -1)

    def table(self) -> pa.Table:
        """Every stored row, current or superseded (:meth:`locations` says which is whose)."""
        return self._table()

    def _table(self) -> pa.Table:
        if self._rows is None:
            if not self._chunks:
                self._rows = self.value_schema.empty_table()
            else:
                self._rows = pa.concat_tables(self._chunks).combine_chunks()
                self._chunks = [self._rows]
        return self._rows

    def upsert(self, slots: np.ndarray, rows: pa.Table | pa.RecordBatch) -> None:
        """Make ``rows`` (one per entry of ``slots``, batch order; the last write of a slot wins) the
        current rows of their slots."""
        self._grow()
        if len(slots) == 0:
            return
        if isinstance(rows, pa.RecordBatch):
            rows = pa.Table.from_batches([rows])
        rows = rows.select(self.value_schema.names)
        if rows.schema != self.value_schema:
            rows = rows.cast(self.value_schema)
        keep = last_per_slot(np.asarray(slots, dtype=np.int64))
        if len(keep) != len(slots):
            rows = rows.take(pa.array(keep, pa.int64()))
            slots = np.asarray(slots)[keep]
        base = self._stored
        self._chunks.append(rows)
        self._rows = None
        self._stored += rows.num_rows
        self._location[slots] = base + np.arange(rows.num_rows, dtype=np.int64)
        if self._stored > 1024 and self._stored > 2 * self.live_count:
            self._compact_rows()

    def delete(self, slots: np.ndarray) -> None:
        """Remove the rows of ``slots`` (absent ones are left alone)."""
        self._grow()
        self._location[np.asarray(slots, dtype=np.int64)] = -1

    def live_slots(self) -> np.ndarray:
        """Slots that currently have a row, ascending."""
        self._grow()
        return np.flatnonzero(self._location >= 0)

    def _compact_rows(self) -> None:
        live = np.flatnonzero(self._location >= 0)
        table = self._table().take(pa.array(self._location[live], pa.int64()))
        self._location[live] = np.arange(len(live), dtype=np.int64)
        self._chunks = [table]
        self._rows = table
        self._stored = table.num_rows

    # -- snapshots ----------------------------------------------------------------------------------------
    def to_arrow(self) -> tuple[pa.Table, pa.Table]:
        """(key index table, one row of values per slot with a ``__present`` flag)."""
        self._grow()
        slots = np.arange(self.index.size, dtype=np.int64)
        values = self.rows(slots).append_column(_PRESENT, pa.array(self._location >= 0, pa.bool_()))
        return self.index.to_arrow(), values

    @classmethod
    def from_arrow(cls, keys: pa.Table, values: pa.Table, value_schema: pa.Schema) -> RowStore:
        """The store saved by :meth:`to_arrow`."""
        index = KeyIndex.from_arrow(keys)
        store = cls(index.fields, value_schema)
        store.index = index
        present = np.asarray(values.column(_PRESENT).to_numpy(zero_copy_only=False), dtype=bool)
        rows = values.select(value_schema.names).cast(value_schema).combine_chunks()
        store._chunks = [rows]
        store._rows = rows
        store._stored = rows.num_rows
        store._location = np.where(present, np.arange(len(present), dtype=np.int64), -1)
        return store
