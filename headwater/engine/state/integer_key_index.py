"""Keys of one or two integer columns to dense slots, with no per-batch cost that grows with the index.

The keys of most aggregations and table filters are ids, window starts or both. A
:class:`~headwater.engine.state.key_index.KeyIndex` handles them in its packed mode, but merges each
batch's new keys into single sorted arrays and appends key rows to an Arrow table that it concatenates
again: costs proportional to *everything held*, paid by every batch that brings a new key, which is
most batches of a growing state. :class:`IntegerKeyIndex` answers the same interface with costs
proportional to the batch:

* a one-column key is its own int64 value; a two-column key packs two 31-bit numbers into one int64:
  each value's distance from a base chosen at the first batch (ids and window starts stay within two
  billion of where they started), or, once a value falls outside that range, each column's *code*
  (each distinct value of a column gets the next code), which takes one more lookup per value;
* packed keys map to slots in a :class:`~headwater.engine.state.sorted_runs.SortedRuns` (so do the
  column values to their codes), which absorbs a batch of new keys at a logarithmic cost per key;
* each slot's key values are kept in numpy arrays that grow into spare capacity, so the key columns of
  some slots are one gather.

Keys are never NULL here: aggregations drop rows with a NULL key before the lookup, and a table has no
NULL keys. Snapshots have :class:`KeyIndex`'s layout (the key columns, then ``__live``), so either
index restores the other's.

Example:
    >>> import pyarrow as pa
    >>> index = IntegerKeyIndex([pa.field("ID", pa.int64()), pa.field("START", pa.int64())])
    >>> index.slots_for([pa.array([7, 7, 9]), pa.array([0, 10, 0])]).tolist()
    [0, 1, 2]
    >>> index.slots_for([pa.array([9, 5]), pa.array([0, 0])], insert=False).tolist()
    [2, -1]
    >>> [column.to_pylist() for column in index.keys(np.array([1, 2]))]
    [[7, 9], [10, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.state.key_index import BatchSlots, split_live_flags, with_live_flags
from headwater.engine.state.slot_column import GrowableArray
from headwater.engine.state.sorted_runs import SortedRuns

__all__ = ["IntegerKeyIndex", "KeySlotSnapshots"]

_CODE_BITS = 31
_CODE_MASK = (1 << _CODE_BITS) - 1
_HEADROOM = 1 << (_CODE_BITS - 1)  # how far below the first batch's smallest value the base is put
_REMOVED = -2  # the value of a removed key's entry; absent keys read as -1


def _supported_type(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(arrow_type)
        or pa.types.is_timestamp(arrow_type)
        or pa.types.is_date32(arrow_type)
        or pa.types.is_time(arrow_type)
    )


def _int64_values(column: pa.Array | pa.ChunkedArray, arrow_type: pa.DataType) -> np.ndarray:
    """The values of a NULL-free integer-like column as int64."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.type != arrow_type:
        column = column.cast(arrow_type)
    if column.null_count:
        raise ValueError("a NULL key cannot be looked up in an integer key index")
    if not pa.types.is_integer(arrow_type):
        column = column.view(pa.int32() if arrow_type.bit_width == 32 else pa.int64())
    return np.asarray(column.to_numpy(zero_copy_only=False)).astype(np.int64, copy=False)


def _arrow_values(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """int64 values back as an Arrow array of ``arrow_type``."""
    if pa.types.is_integer(arrow_type):
        array = pa.array(values, pa.int64())
        return array if arrow_type == pa.int64() else array.cast(arrow_type)
    storage = pa.int32() if arrow_type.bit_width == 32 else pa.int64()
    return pa.array(values.astype(np.int32 if arrow_type.bit_width == 32 else np.int64), storage).view(arrow_type)


class _ColumnCodes:
    """Dense codes of one column's values, handed out as values first appear."""

    def __init__(self) -> None:
        self.map = SortedRuns()
        self.count = 0

    def codes(self, values: np.ndarray, insert: bool) -> np.ndarray:
        """The code of each of ``values``; -1 for an unknown value when not ``insert``."""
        codes = self.map.find(values)
        missing = codes < 0
        if insert and missing.any():
            fresh_values, inverse = np.unique(values[missing], return_inverse=True)
            if self.count + len(fresh_values) > 1 << _CODE_BITS:
                raise OverflowError("more than 2**31 distinct values in one key column")
            fresh = self.count + np.arange(len(fresh_values), dtype=np.int64)
            self.map.add(fresh_values, fresh)
            self.count += len(fresh_values)
            codes[missing] = fresh[np.asarray(inverse).reshape(-1)]
        return codes


class KeySlotSnapshots:
    """``to_arrow`` / ``from_arrow`` in ``KeyIndex``'s snapshot layout, for an index that can list every
    slot's key columns (``keys``) and rebuild itself from them (``_rebuild``): a snapshot of any of the key
    indexes restores into any other. The methods below that raise are the ones each index defines."""

    fields: list[pa.Field]
    _live: GrowableArray

    def __init__(self, fields: Sequence[pa.Field]) -> None:
        raise NotImplementedError

    @property
    def size(self) -> int:
        raise NotImplementedError

    def keys(self, slots: np.ndarray) -> list[pa.Array]:
        raise NotImplementedError

    def _rebuild(self, columns: Sequence[pa.Array], live: np.ndarray) -> None:
        raise NotImplementedError

    def to_arrow(self) -> pa.Table:
        """Every slot's key columns plus a ``__live`` flag (the layout of ``KeyIndex.to_arrow``)."""
        columns = self.keys(np.arange(self.size, dtype=np.int64))
        return with_live_flags(pa.Table.from_arrays(columns, schema=pa.schema(self.fields)), self._live.values)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Self:
        """The index saved by :meth:`to_arrow` (or by ``KeyIndex.to_arrow``); slots keep their numbers."""
        fields, keys, live = split_live_flags(table)
        index = cls(fields)
        index._rebuild([keys.column(i).combine_chunks() for i in range(keys.num_columns)], live)
        return index


class IntegerKeyIndex(KeySlotSnapshots):
    """Keys of one or two integer-like columns to dense slots (see the module docstring).

    Args:
        fields: the key columns' names and Arrow types (see :meth:`supports`).
    """

    def __init__(self, fields: Sequence[pa.Field]) -> None:
        if not self.supports(fields):
            raise ValueError("an integer key index takes one or two integer, date, time or timestamp columns")
        self.fields = list(fields)
        self._reset()

    def _reset(self, *, offsets: bool = True) -> None:
        self._column_codes = [_ColumnCodes() for _ in self.fields] if len(self.fields) == 2 else []
        self._offset_mode = offsets and len(self.fields) == 2
        self._bases: list[int] | None = None
        self._slots = SortedRuns()
        self._values = [GrowableArray(np.int64) for _ in self.fields]
        self._packed = GrowableArray(np.int64)
        self._live = GrowableArray(np.bool_)
        self._live_count = 0

    @staticmethod
    def supports(fields: Sequence[pa.Field]) -> bool:
        """Whether keys of these columns can be held: one or two integer, DATE, TIME or TIMESTAMP columns."""
        return 0 < len(fields) <= 2 and all(_supported_type(field.type) for field in fields)

    @property
    def size(self) -> int:
        """Slots handed out so far (live and removed)."""
        return self._live.length

    @property
    def live_count(self) -> int:
        return self._live_count

    @property
    def live(self) -> np.ndarray:
        """A mask of the live slots."""
        return self._live.values

    # -- lookup -------------------------------------------------------------------------------------------
    def _distinct(self, columns: Sequence[pa.Array], insert: bool) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """(per-row number of its distinct key, each column's values of the distinct keys, the packed
        distinct keys), keys numbered in order of first appearance. A packed key is -1 where a value has
        no code and ``insert`` is off."""
        if len(self.fields) == 1:
            encoded = pc.dictionary_encode(pa.array(_int64_values(columns[0], self.fields[0].type), pa.int64()))
            inverse = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            distinct = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=np.int64)
            return inverse, [distinct], distinct
        if self._offset_mode:
            both = [_int64_values(column, field.type) for column, field in zip(columns, self.fields)]
            packed_rows = self._offsets(both)
            if packed_rows is not None:
                encoded = pc.dictionary_encode(pa.array(packed_rows, pa.int64()))
                inverse = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
                distinct = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=np.int64)
                assert self._bases is not None
                values = [(distinct >> _CODE_BITS) + self._bases[0], (distinct & _CODE_MASK) + self._bases[1]]
                return inverse, values, distinct
            self._leave_offset_mode()
        numbers, values, codes = [], [], []
        for column, field, column_codes in zip(columns, self.fields, self._column_codes):
            encoded = pc.dictionary_encode(pa.array(_int64_values(column, field.type), pa.int64()))
            numbers.append(np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64))
            distinct_values = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=np.int64)
            values.append(distinct_values)
            codes.append(column_codes.codes(distinct_values, insert))  # one code lookup per distinct value
        width = len(values[1])
        encoded = pc.dictionary_encode(pa.array(numbers[0] * width + numbers[1], pa.int64()))
        inverse = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        pairs = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=np.int64)
        first, second = pairs // width, pairs % width
        packed = (codes[0][first] << _CODE_BITS) | np.maximum(codes[1][second], 0)
        packed[(codes[0][first] < 0) | (codes[1][second] < 0)] = -1
        return inverse, [values[0][first], values[1][second]], packed

    def _offsets(self, values: list[np.ndarray]) -> np.ndarray | None:
        """Two columns' values packed as distances from the bases (set from the first values seen), or
        None when a value is out of range."""
        if len(values[0]) == 0:
            return np.zeros(0, dtype=np.int64)
        lows = [int(column.min()) for column in values]
        if self._bases is None:
            self._bases = [max(low - _HEADROOM, -(1 << 63)) for low in lows]
        for column, low, base in zip(values, lows, self._bases):
            if low < base or int(column.max()) - base > _CODE_MASK:
                return None
        return ((values[0] - self._bases[0]) << _CODE_BITS) | (values[1] - self._bases[1])

    def _leave_offset_mode(self) -> None:
        """Pack by column codes from now on: a value fell outside the range of the bases."""
        live = self._live.values.copy()
        self._rebuild(self.keys(np.arange(self.size, dtype=np.int64)), live, offsets=False)

    def _pack(self, values: list[np.ndarray]) -> np.ndarray:
        """The packed key of each of the distinct keys ``values`` (new values get codes)."""
        if len(self.fields) == 1:
            return values[0]
        if self._offset_mode:
            packed = self._offsets(values)
            if packed is not None:
                return packed
            self._offset_mode = False
        codes = [codes.codes(column, True) for codes, column in zip(self._column_codes, values)]
        return (codes[0] << _CODE_BITS) | codes[1]

    def lookup(self, columns: Sequence[pa.Array], *, insert: bool = True) -> BatchSlots:
        """The batch's distinct keys (``inverse``, in order of first appearance) and their slots; new keys
        get new slots when ``insert``, else -1 (like :meth:`KeyIndex.lookup
        <headwater.engine.state.key_index.KeyIndex.lookup>`)."""
        if not columns or len(columns[0]) == 0:
            return BatchSlots(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        inverse, values, packed = self._distinct(columns, insert)
        known = packed >= 0 if len(self.fields) == 2 else np.ones(len(packed), dtype=bool)
        slots = np.full(len(packed), -1, dtype=np.int64)
        slots[known] = self._slots.find(packed[known])
        removed = slots == _REMOVED
        slots[removed] = -1
        if not insert:
            return BatchSlots(inverse, slots)
        new = np.flatnonzero(known & (slots < 0))
        if len(new):
            fresh = self.size + np.arange(len(new), dtype=np.int64)
            slots[new] = fresh
            returning = removed[new]
            self._slots.assign(packed[new][returning], fresh[returning])
            self._slots.add(packed[new][~returning], fresh[~returning])
            for stored, column in zip(self._values, values):
                stored.append(column[new])
            self._packed.append(packed[new])
            self._live.append(np.ones(len(new), dtype=bool))
            self._live_count += len(new)
        return BatchSlots(inverse, slots)

    def slots_for(self, columns: Sequence[pa.Array], *, insert: bool = True) -> np.ndarray:
        """The slot of each row's key (-1 for an unknown key when not ``insert``)."""
        return self.lookup(columns, insert=insert).row_slots

    def keys(self, slots: np.ndarray) -> list[pa.Array]:
        """The key columns of ``slots`` (removed slots keep their last key)."""
        slots = np.asarray(slots, dtype=np.int64)
        return [_arrow_values(stored.values[slots], field.type) for stored, field in zip(self._values, self.fields)]

    # -- removal ------------------------------------------------------------------------------------------
    def remove(self, slots: np.ndarray) -> None:
        """Forget the keys of ``slots`` (their slots stay allocated until :meth:`compact`)."""
        slots = np.unique(np.asarray(slots, dtype=np.int64))
        live = self._live.values
        slots = slots[live[slots]]
        if len(slots) == 0:
            return
        live[slots] = False
        self._live_count -= len(slots)
        self._slots.assign(self._packed.values[slots], np.full(len(slots), _REMOVED, dtype=np.int64))

    def should_compact(self) -> bool:
        """Whether more than half of a sizeable index is dead."""
        dead = self.size - self.live_count
        return dead > 1024 and dead > self.live_count

    def compact(self) -> np.ndarray:
        """Renumber the live slots 0..n-1 (keeping their order) and forget the values no live key holds;
        returns the old slot of each new slot."""
        kept = np.flatnonzero(self._live.values)
        self._rebuild(self.keys(kept), np.ones(len(kept), dtype=bool))
        return kept

    def _rebuild(self, columns: Sequence[pa.Array], live: np.ndarray, *, offsets: bool = True) -> None:
        """Start again from every slot's key columns (slot ``i`` being row ``i``) and live flags; removed
        slots keep their last key. ``offsets`` False packs by column codes."""
        self._reset(offsets=offsets)
        if len(live) == 0:
            return
        live = np.asarray(live, dtype=bool)
        alive = np.flatnonzero(live)
        every_value = []
        for column, field in zip(columns, self.fields):
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            if column.null_count:
                nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
                if (nulls & live).any():
                    raise ValueError("a NULL key cannot be held in an integer key index")
                column = column.fill_null(0)
            every_value.append(_int64_values(column, field.type))
        packed_alive = self._pack([values[alive] for values in every_value])
        for stored, values in zip(self._values, every_value):
            stored.append(values)
        packed = np.full(len(live), _REMOVED, dtype=np.int64)
        packed[alive] = packed_alive
        self._packed.append(packed)
        self._live.append(live)
        self._live_count = len(alive)
        self._slots.add(packed_alive, alive.astype(np.int64))

