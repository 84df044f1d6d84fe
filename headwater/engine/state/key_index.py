"""Keys to dense slots: the index every keyed state store is built on.

A :class:`KeyIndex` maps each distinct key (one or more columns: a GROUP BY key, a join key, a key plus
a window start) to a small integer *slot*; per-key state lives in columns indexed by slot
(:class:`~headwater.engine.state.slot_column.SlotColumn`). Slots are handed out densely in order of first
appearance, so a new group gets the next slot and state columns just grow.

Lookup is vectorized per batch: the batch's key columns are dictionary-encoded (Arrow), their codes
combined into one int64 code per row and that code dictionary-encoded again, so each *distinct key in
the batch* is looked up once. For keys of one to three integer-like columns that lookup is vectorized too
(:mod:`~headwater.engine.state.packed_keys`); other keys consult a Python dictionary once per distinct
key. Keys of nested types (ARRAY, MAP, STRUCT), which Arrow cannot
dictionary-encode, fall back to hashing each row's Python value (the measured exception: about 1 µs per
row).

Removing keys (expired windows, deleted table rows) frees their slots; :meth:`compact` renumbers the live
slots densely when too many are dead, returning the old slot of each new one so state columns can follow.

Example:
    >>> import pyarrow as pa
    >>> index = KeyIndex([pa.field("K", pa.string())])
    >>> index.slots_for([pa.array(["a", "b", "a"])]).tolist()
    [0, 1, 0]
    >>> index.slots_for([pa.array(["c", "a"])]).tolist(), index.size
    ([2, 0], 3)
    >>> index.keys(np.array([2, 1]))[0].to_pylist()
    ['c', 'b']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.state.packed_keys import PackedKeys, packable

__all__ = ["BatchKeys", "BatchSlots", "KeyIndex", "hashable", "is_nested", "split_live_flags", "unique_rows", "with_live_flags"]

_LIVE = "__live"


class _NotANumber:
    """The key NaN values map to (NaN is not equal to itself, so it cannot be a dict key)."""

    def __repr__(self) -> str:
        return "NaN"


_NAN = _NotANumber()


def hashable(value: Any) -> Any:
    """A Python value from ``to_pylist`` made usable as a dict key (lists and structs to tuples, maps
    to frozensets of entries: two maps with the same entries are equal whatever their order, as Java's
    maps are). ``to_pylist`` gives a map as a list of (key, value) tuples, and nothing else as tuples."""
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return frozenset((hashable(k), hashable(v)) for k, v in value)
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, hashable(v)) for k, v in value.items())
    if isinstance(value, tuple):
        return tuple(hashable(v) for v in value)
    return value


def is_nested(arrow_type: pa.DataType) -> bool:
    """A list, map or struct type: its values are not hashable by Arrow's kernels, so keys of it take the
    row-wise path."""
    return bool(
        pa.types.is_list(arrow_type)
        or pa.types.is_large_list(arrow_type)
        or pa.types.is_map(arrow_type)
        or pa.types.is_struct(arrow_type)
    )


def _column_codes(column: pa.Array) -> tuple[np.ndarray, int]:
    """Per-row int64 codes of one column (equal values, equal codes; null its own code) and the number
    of distinct codes."""
    if is_nested(column.type) or pa.types.is_null(column.type):
        lookup: dict[Any, int] = {}
        codes = np.fromiter(
            (lookup.setdefault(hashable(v), len(lookup)) for v in column.to_pylist()),
            dtype=np.int64,
            count=len(column),
        )
        return codes, max(len(lookup), 1)
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    cardinality = len(encoded.dictionary)
    indices = encoded.indices
    if indices.null_count:
        indices = indices.fill_null(cardinality)
    return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64), cardinality + 1


class BatchKeys:
    """The distinct keys of one batch.

    Attributes:
        inverse: for each row, the index of its key among the batch's distinct keys.
        first_rows: for each distinct key, the first row holding it; distinct keys are numbered in order
            of first appearance.
    """

    __slots__ = ("first_rows", "inverse")

    def __init__(self, inverse: np.ndarray, first_rows: np.ndarray) -> None:
        self.inverse = inverse
        self.first_rows = first_rows

    @property
    def count(self) -> int:
        return len(self.first_rows)


def unique_rows(columns: Sequence[pa.Array]) -> BatchKeys:
    """The distinct combinations of ``columns``' values, in order of first appearance (vectorized)."""
    rows = len(columns[0]) if columns else 0
    if rows == 0:
        return BatchKeys(np.zeros(0, np.int64), np.zeros(0, np.int64))
    combined: np.ndarray | None = None
    stacked: list[np.ndarray] = []
    radix = 1
    fits = True
    for position, column in enumerate(columns):
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        codes, cardinality = _column_codes(column)
        stacked.append(codes)
        if position == 0:
            combined, radix = codes, cardinality
        elif fits and combined is not None and radix * cardinality < (1 << 62):
            combined = combined * cardinality + codes
            radix *= cardinality
        else:  # the codes no longer fit one int64: distinct rows of the stacked codes instead
            fits, combined = False, None
    if combined is None:
        matrix = np.stack(stacked, axis=1)
        _, first, inverse = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
        inverse = np.asarray(inverse, dtype=np.int64).reshape(-1)
        order = np.argsort(first, kind="stable")  # distinct keys by first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return BatchKeys(rank[inverse], np.asarray(first, dtype=np.int64)[order])
    return _first_appearance(combined)


def _first_appearance(codes: np.ndarray) -> BatchKeys:
    """The distinct values of ``codes`` numbered in order of first appearance: a hash encoding (Arrow's
    dictionary_encode numbers values as it first meets them), no sort. A row starts a new key exactly
    when its number exceeds every number before it, which gives each key's first row in one pass."""
    encoded = pc.dictionary_encode(pa.array(codes, pa.int64()))
    inverse = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    starts = np.empty(len(inverse), dtype=bool)
    starts[0] = True
    starts[1:] = inverse[1:] > np.maximum.accumulate(inverse)[:-1]
    return BatchKeys(inverse, np.flatnonzero(starts))


class BatchSlots:
    """The slots of one batch's keys.

    Attributes:
        inverse: for each row, the index of its key among the batch's distinct keys (numbered in order
            of first appearance).
        slots: the slot of each distinct key (-1 for a key not found without insertion).
    """

    __slots__ = ("inverse", "slots")

    def __init__(self, inverse: np.ndarray, slots: np.ndarray) -> None:
        self.inverse = inverse
        self.slots = slots

    @property
    def row_slots(self) -> np.ndarray:
        """The slot of each row."""
        return self.slots[self.inverse]


def _distinct_keys(columns: Sequence[pa.Array]) -> tuple[np.ndarray, list[pa.Array]]:
    """(per-row index of the distinct key, the distinct keys' columns), keys in first-appearance order.
    A single non-nested column is dictionary-encoded directly (Arrow numbers the dictionary in order of
    first appearance)."""
    if len(columns) == 1 and not is_nested(columns[0].type) and not pa.types.is_null(columns[0].type):
        column = columns[0].combine_chunks() if isinstance(columns[0], pa.ChunkedArray) else columns[0]
        encoded = pc.dictionary_encode(column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        dictionary = encoded.dictionary
        indices = encoded.indices
        if indices.null_count:
            dictionary = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
            indices = indices.fill_null(len(dictionary) - 1)
        return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64), [dictionary]
    batch_keys = unique_rows(columns)
    firsts = pa.array(batch_keys.first_rows, pa.int64())
    return batch_keys.inverse, [column.take(firsts) for column in columns]


class KeyIndex:
    """Distinct keys to dense slots (see the module docstring).

    Keys of one to three integer-like columns (the usual window starts and ids) are looked up without
    a Python loop (:class:`~headwater.engine.state.packed_keys.PackedKeys`: codes per column packed into
    one int64, found by binary search, new keys merged in bulk). Other keys (strings, decimals, floating
    point, nested values, more columns, or more distinct values than the packing holds) use a dictionary
    from the key's Python value to its slot, consulted once per distinct key of a batch.

    Args:
        fields: the key columns' names and Arrow types, in key order.
    """

    def __init__(self, fields: Sequence[pa.Field]) -> None:
        self.fields = list(fields)
        self._chunks: list[pa.Table] = []
        self._keys: pa.Table | None = None
        self._live = np.zeros(0, dtype=bool)
        self._live_count = 0
        self._packed: PackedKeys | None = PackedKeys(len(self.fields)) if packable(self.fields) else None
        # dictionary mode
        self._slot_of: dict[Any, int] = {}
        self._key_of: list[Any] = []  # slot -> hashable key (None once removed)

    @property
    def size(self) -> int:
        """Slots handed out so far (live and removed)."""
        return len(self._live)

    @property
    def live_count(self) -> int:
        return self._live_count

    @property
    def live(self) -> np.ndarray:
        """A mask of the live slots."""
        return self._live

    def _schema(self) -> pa.Schema:
        return pa.schema(self.fields)

    def _python_keys(self, uniques: list[pa.Array]) -> list[Any]:
        """The distinct keys as hashable Python values (one conversion per distinct key). NaN keys are
        one key, as Java's ``Double.equals`` makes them."""
        per_column = [column.to_pylist() for column in uniques]
        for position, column in enumerate(uniques):
            if pa.types.is_floating(column.type):
                per_column[position] = [_NAN if v is not None and v != v else v for v in per_column[position]]
        nested = any(is_nested(column.type) for column in uniques)
        if len(per_column) == 1:
            return [hashable(v) for v in per_column[0]] if nested else per_column[0]
        if nested:
            return [hashable(row) for row in zip(*per_column)]
        return list(zip(*per_column))

    def slots_for(self, columns: Sequence[pa.Array], *, insert: bool = True) -> np.ndarray:
        """The slot of each row's key. New keys get new slots when ``insert``; otherwise their slot is -1.

        The columns must not hold nulls where a key is expected to be found (callers drop null keys,
        which ksqlDB never groups or joins on).
        """
        return self.lookup(columns, insert=insert).row_slots

    def lookup(self, columns: Sequence[pa.Array], *, insert: bool = True) -> BatchSlots:
        """Like :meth:`slots_for`, keeping the batch's distinct keys apart (for grouping without a sort
        by slot)."""
        if not columns or len(columns[0]) == 0:
            return BatchSlots(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        inverse, uniques = _distinct_keys(columns)
        if self._packed is not None:
            uniques = [u if u.type == f.type else u.cast(f.type) for u, f in zip(uniques, self.fields)]
            first = self.size
            found = self._packed.find(uniques, insert=insert, next_slot=first)
            if found is not None:
                new = np.flatnonzero(found >= first)
                if len(new):
                    self._append_keys(uniques, new)
                return BatchSlots(inverse, found)
            self._to_dictionary_mode()
        return BatchSlots(inverse, self._dictionary_slots(uniques, insert))

    def _dictionary_slots(self, uniques: list[pa.Array], insert: bool) -> np.ndarray:
        """The slots of distinct keys in dictionary mode: a lookup per distinct key in a Python dict
        (the per-key loop the packed mode avoids, kept for the key types it cannot pack)."""
        keys = self._python_keys(uniques)
        distinct_slots = np.empty(len(keys), dtype=np.int64)
        new_positions: list[int] = []
        slot_of = self._slot_of
        for position, key in enumerate(keys):
            slot = slot_of.get(key)
            if slot is None:
                if not insert:
                    distinct_slots[position] = -1
                    continue
                slot = len(self._key_of)
                slot_of[key] = slot
                self._key_of.append(key)
                new_positions.append(position)
            distinct_slots[position] = slot
        if new_positions:
            self._append_keys(uniques, np.asarray(new_positions, dtype=np.int64))
        return distinct_slots

    def _append_keys(self, uniques: list[pa.Array], positions: np.ndarray) -> None:
        """Store the key columns of new slots (``positions`` among ``uniques``), in slot order."""
        rows = pa.array(positions, pa.int64())
        arrays = [column.take(rows) for column in uniques]
        arrays = [a if a.type == f.type else a.cast(f.type) for a, f in zip(arrays, self.fields)]
        self._chunks.append(pa.Table.from_arrays(arrays, schema=self._schema()))
        self._keys = None
        self._live = np.concatenate([self._live, np.ones(len(positions), dtype=bool)])
        self._live_count += len(positions)

    def _to_dictionary_mode(self) -> None:
        """Leave packed mode for good (a column has more distinct values than its bits hold)."""
        self._packed = None
        table = self._table()
        keys = self._python_keys([table.column(i).combine_chunks() for i in range(table.num_columns)])
        self._key_of = [key if alive else None for key, alive in zip(keys, self._live.tolist())]
        self._slot_of = {key: slot for slot, key in enumerate(self._key_of) if key is not None}

    def _repack(self) -> None:
        """Rebuild the packed lookup from the stored keys (the live ones only, so values of removed keys
        do not pile up)."""
        assert self._packed is not None
        table = self._table()
        columns = [table.column(i).combine_chunks() for i in range(table.num_columns)]
        if not self._packed.rebuild(columns, self._live):
            self._to_dictionary_mode()

    def table(self) -> pa.Table:
        """The key columns of every slot, row ``i`` for slot ``i`` (removed slots keep their last key)."""
        return self._table()

    def keys(self, slots: np.ndarray) -> list[pa.Array]:
        """The key columns of ``slots`` (removed slots keep their last key)."""
        table = self._table()
        taken = table.take(pa.array(slots, pa.int64()))
        return [taken.column(i).combine_chunks() for i in range(taken.num_columns)]

    def _table(self) -> pa.Table:
        if self._keys is None:
            if not self._chunks:
                self._keys = self._schema().empty_table()
            else:
                self._keys = pa.concat_tables(self._chunks).combine_chunks()
                self._chunks = [self._keys]
        return self._keys

    def remove(self, slots: np.ndarray) -> None:
        """Forget the keys of ``slots`` (their slots stay allocated until :meth:`compact`)."""
        slots = np.unique(np.asarray(slots, dtype=np.int64))
        slots = slots[self._live[slots]]
        if len(slots) == 0:
            return
        self._live[slots] = False
        self._live_count -= len(slots)
        if self._packed is not None:
            self._packed.remove(slots)
            return
        for slot in slots.tolist():
            key = self._key_of[slot]
            if key is not None and self._slot_of.get(key) == slot:
                del self._slot_of[key]
            self._key_of[slot] = None

    def should_compact(self) -> bool:
        """Whether more than half of a sizeable index is dead."""
        dead = self.size - self.live_count
        return dead > 1024 and dead > self.live_count

    def compact(self) -> np.ndarray:
        """Renumber the live slots 0..n-1 (keeping their order); returns the old slot of each new slot,
        for :meth:`SlotColumn.take <headwater.engine.state.slot_column.SlotColumn.take>`."""
        kept = np.flatnonzero(self._live)
        table = self._table().take(pa.array(kept, pa.int64()))
        self._chunks = [table]
        self._keys = table
        self._live = np.ones(len(kept), dtype=bool)
        self._live_count = len(kept)
        if self._packed is not None:
            self._repack()
        else:
            self._key_of = [self._key_of[i] for i in kept.tolist()]
            self._slot_of = {key: slot for slot, key in enumerate(self._key_of)}
        return kept

    # -- snapshots ----------------------------------------------------------------------------------------
    def to_arrow(self) -> pa.Table:
        """Every slot's key columns plus a ``__live`` flag."""
        return with_live_flags(self._table(), self._live)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> KeyIndex:
        """The index saved by :meth:`to_arrow`; slots keep their numbers."""
        fields, keys, live = split_live_flags(table)
        index = cls(fields)
        index._chunks = [keys]
        index._keys = keys
        index._live = live
        index._live_count = int(np.count_nonzero(live))
        if index._packed is not None:
            index._repack()
            return index
        rows = index._python_keys([keys.column(i).combine_chunks() for i in range(keys.num_columns)])
        index._key_of = [key if alive else None for key, alive in zip(rows, live.tolist())]
        index._slot_of = {key: slot for slot, key in enumerate(index._key_of) if key is not None}
        return index


def with_live_flags(keys: pa.Table, live: np.ndarray) -> pa.Table:
    """A key index's snapshot: every slot's key columns plus its ``__live`` flag. Every index keeping
    slots (``KeyIndex``, ``IntegerKeyIndex``, ``WindowKeyIndex``) writes this one layout, so a snapshot
    restores into whichever index the restoring query chooses."""
    return keys.append_column(_LIVE, pa.array(live, pa.bool_()))


def split_live_flags(table: pa.Table) -> tuple[list[pa.Field], pa.Table, np.ndarray]:
    """The key fields, key columns (one chunk each) and live flags of a :func:`with_live_flags` table."""
    fields = [table.schema.field(i) for i in range(table.num_columns) if table.schema.field(i).name != _LIVE]
    keys = table.select([f.name for f in fields]).combine_chunks()
    live = np.asarray(table.column(_LIVE).to_numpy(zero_copy_only=False), dtype=bool)
    return fields, keys, live
