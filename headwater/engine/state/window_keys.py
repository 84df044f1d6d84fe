"""Slots of (key, window start) pairs: the key index of a time-windowed aggregation.

A windowed aggregation's groups are (GROUP BY key, window start) pairs, and new pairs arrive with every
batch: each window that opens brings a pair for every key seen in it. A general
:class:`~headwater.engine.state.key_index.KeyIndex` keeps its keys in sorted arrays that are copied
whole to merge each batch's new keys, which for these ever-arriving pairs costs a copy of the whole
index per batch. :class:`WindowKeyIndex` uses what time windows guarantee instead:

* the GROUP BY key alone gets a *base* slot: there are far fewer keys than pairs. A single integer
  key (an id) is looked up in a :class:`TailSortedMap` of its own (ids tend to grow, so new ones land
  near the end too), other integer-like keys in an ``IntegerKeyIndex``, the rest in a ``KeyIndex``;
* a window start gets a *window code*, numbered as windows first appear, so windows that open later get
  higher codes;
* a pair is the int64 ``window code << 32 | base slot``, kept in one sorted array (:class:`TailSortedMap`)
  whose new entries belong to the newest windows and so land near its end: merging them moves only
  the tail from the first new entry on, not the whole array;
* a slot's key is stored as its base slot and window start (numpy), so the key columns of some slots
  come from the base index and one gather.

It answers :class:`KeyIndex`'s interface (lookup, keys, remove, compact, snapshots in the same table
layout: the key columns then ``__live``), so an
:class:`~headwater.engine.aggregates.store.AggregationStore` takes either, and a snapshot of one can be
restored into the other.

Example:
    >>> import pyarrow as pa
    >>> index = WindowKeyIndex([pa.field("K", pa.string()), pa.field("WINDOWSTART", pa.int64())])
    >>> index.slots_for([pa.array(["a", "b", "a"]), pa.array([0, 0, 10], pa.int64())]).tolist()
    [0, 1, 2]
    >>> index.slots_for([pa.array(["a", "c"]), pa.array([10, 0], pa.int64())]).tolist()
    [2, 3]
    >>> [column.to_pylist() for column in index.keys(np.array([3, 2]))]
    [['c', 'a'], [0, 10]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.state.integer_key_index import IntegerKeyIndex, KeySlotSnapshots
from headwater.engine.state.key_index import (
    BatchSlots,
    KeyIndex,
    unique_rows,
)
from headwater.engine.state.slot_column import GrowableArray

__all__ = ["IntegerKeys", "TailSortedMap", "WindowKeyIndex"]

_BASE_BITS = 32
_BASE_LIMIT = 1 << _BASE_BITS


def _distinct_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them); a bincount over the range when it is
    narrow (a batch's window starts), a sort otherwise."""
    low, high = int(values.min()), int(values.max())
    if high - low <= 4 * len(values) + 1024:
        present = np.zeros(high - low + 1, dtype=bool)
        present[values - low] = True
        distinct_offsets = np.flatnonzero(present)
        number = np.cumsum(present) - 1
        return distinct_offsets + low, number[values - low]
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, np.asarray(inverse).reshape(-1)


class TailSortedMap:
    """int64 -> int64 as sorted arrays in spare capacity; a merge of new keys moves only the entries
    from the first new key's position on (see the module docstring).

    Example:
        >>> sorted_map = TailSortedMap()
        >>> sorted_map.add(np.array([5, 1]), np.array([50, 10]))
        >>> sorted_map.add(np.array([3]), np.array([30]))
        >>> sorted_map.find(np.array([3, 4, 5])).tolist()
        [30, -1, 50]
    """

    def __init__(self) -> None:
        self._keys = np.zeros(16, dtype=np.int64)
        self._values = np.zeros(16, dtype=np.int64)
        self.length = 0

    @property
    def keys(self) -> np.ndarray:
        return self._keys[: self.length]

    @property
    def values(self) -> np.ndarray:
        return self._values[: self.length]

    def positions(self, queries: np.ndarray) -> np.ndarray:
        """The position of each query key, -1 for an absent one."""
        keys = self.keys
        at = np.searchsorted(keys, queries)
        inside = at < len(keys)
        found = np.zeros(len(queries), dtype=bool)
        found[inside] = keys[at[inside]] == queries[inside]
        return np.where(found, at, -1)

    def find(self, queries: np.ndarray) -> np.ndarray:
        """The value of each query key, -1 for an absent one."""
        at = self.positions(queries)
        found = at >= 0
        values = np.full(len(queries), -1, dtype=np.int64)
        values[found] = self.values[at[found]]
        return values

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add distinct keys that are not in the map."""
        if len(keys) == 0:
            return
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        start = int(np.searchsorted(self.keys, keys[0]))
        tail_keys = self._keys[start : self.length].copy()
        tail_values = self._values[start : self.length].copy()
        total = self.length + len(keys)
        if total > len(self._keys):
            capacity = max(total, len(self._keys) * 3 // 2)
            self._keys = np.concatenate([self._keys[:start], np.zeros(capacity - start, dtype=np.int64)])
            self._values = np.concatenate([self._values[:start], np.zeros(capacity - start, dtype=np.int64)])
        new_at = np.searchsorted(tail_keys, keys) + np.arange(len(keys), dtype=np.int64)
        merged = len(tail_keys) + len(keys)
        is_old = np.ones(merged, dtype=bool)
        is_old[new_at] = False
        keys_out = self._keys[start : start + merged]
        values_out = self._values[start : start + merged]
        keys_out[new_at] = keys
        values_out[new_at] = values
        keys_out[is_old] = tail_keys
        values_out[is_old] = tail_values
        self.length = total


class IntegerKeys:
    """Values of one integer column to dense slots, in a :class:`TailSortedMap` (the base keys of a
    window index when the GROUP BY key is one integer column). NULL is not a key (an aggregation drops
    rows with a NULL key before looking keys up).

    Example:
        >>> keys = IntegerKeys(pa.int64())
        >>> keys.slots_for([pa.array([7, 3, 7])]).tolist(), keys.keys(np.array([1]))[0].to_pylist()
        ([0, 1, 0], [3])
    """

    def __init__(self, arrow_type: pa.DataType) -> None:
        self.arrow_type = arrow_type
        self._map = TailSortedMap()
        self._values = GrowableArray(np.int64)

    @staticmethod
    def supports(fields: Sequence[pa.Field]) -> bool:
        return len(fields) == 1 and pa.types.is_integer(fields[0].type)

    def slots_for(self, columns: Sequence[pa.Array], *, insert: bool = True, distinct: bool = False) -> np.ndarray:
        """The slot of each value (-1 for an unknown one when not ``insert``). ``distinct`` promises the
        values are distinct (a batch's dictionary), which spares numbering the new ones again."""
        column = columns[0]
        if column.null_count:
            raise ValueError("a NULL key cannot be looked up")
        values = np.asarray(column.to_numpy(zero_copy_only=False)).astype(np.int64, copy=False)
        slots = self._map.find(values)
        missing = slots < 0
        if insert and missing.any():
            if distinct:
                fresh = values[missing]
                numbers = self._values.length + np.arange(len(fresh), dtype=np.int64)
                self._map.add(fresh, numbers)
                self._values.append(fresh)
                slots[missing] = numbers
                return slots
            fresh, first, inverse = np.unique(values[missing], return_index=True, return_inverse=True)
            appearance = np.argsort(first, kind="stable")  # new keys numbered as they first appear
            numbers = np.empty(len(fresh), dtype=np.int64)
            numbers[appearance] = self._values.length + np.arange(len(fresh), dtype=np.int64)
            self._map.add(fresh, numbers)
            self._values.append(fresh[appearance])
            slots[missing] = numbers[np.asarray(inverse).reshape(-1)]
        return slots

    def keys(self, slots: np.ndarray) -> list[pa.Array]:
        values = pa.array(self._values.values[slots], pa.int64())
        return [values if values.type == self.arrow_type else values.cast(self.arrow_type)]


class WindowKeyIndex(KeySlotSnapshots):
    """(key columns..., window start) to dense slots (see the module docstring).

    Args:
        fields: the key columns' names and Arrow types, the window start (an integer column) last.
    """

    def __init__(self, fields: Sequence[pa.Field]) -> None:
        if len(fields) < 2 or not pa.types.is_integer(fields[-1].type):
            raise ValueError("a window key index needs key columns and an integer window start last")
        self.fields = list(fields)
        self.base = self._base_index()
        self._base_of = GrowableArray(np.int64)
        self._start_of = GrowableArray(np.int64)
        self._live = GrowableArray(np.bool_)
        self._live_count = 0
        self._pairs = TailSortedMap()
        self._window_code: dict[int, int] = {}

    def _base_index(self) -> KeyIndex | IntegerKeyIndex | IntegerKeys:
        base_fields = self.fields[:-1]
        if IntegerKeys.supports(base_fields):
            return IntegerKeys(base_fields[0].type)
        if IntegerKeyIndex.supports(base_fields):
            return IntegerKeyIndex(base_fields)
        return KeyIndex(base_fields)

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

    def window_starts(self, slots: np.ndarray) -> np.ndarray:
        """The window start of ``slots`` (numpy, no Arrow round trip)."""
        return self._start_of.values[slots]

    # -- lookup -------------------------------------------------------------------------------------------
    def _codes(self, starts: np.ndarray, insert: bool) -> np.ndarray:
        """The window code of each start (-1 for a window without one when not ``insert``); a loop over
        the batch's distinct window starts, which are few."""
        distinct, inverse = _distinct_values(starts)
        codes = np.empty(len(distinct), dtype=np.int64)
        table = self._window_code
        for position, start in enumerate(distinct.tolist()):
            code = table.get(start)
            if code is None:
                if not insert:
                    codes[position] = -1
                    continue
                code = len(table)
                table[start] = code
            codes[position] = code
        return codes[inverse]

    def pair_slots(self, base_slots: np.ndarray, starts: np.ndarray, *, insert: bool = True) -> np.ndarray:
        """The slot of each distinct (base slot, window start) pair; new pairs get slots in the order
        given when ``insert``, else -1. Pairs with a base slot of -1 (an unknown key) are -1."""
        base_slots = np.asarray(base_slots, dtype=np.int64)
        starts = np.asarray(starts, dtype=np.int64)
        if len(base_slots) == 0:
            return np.zeros(0, dtype=np.int64)
        if int(base_slots.max()) >= _BASE_LIMIT:
            raise OverflowError("more than 2**32 distinct keys in one windowed aggregation")
        codes = self._codes(starts, insert)
        known = (codes >= 0) & (base_slots >= 0)
        packed = (codes << _BASE_BITS) | np.maximum(base_slots, 0)
        positions = np.full(len(packed), -1, dtype=np.int64)
        positions[known] = self._pairs.positions(packed[known])
        slots = np.full(len(packed), -1, dtype=np.int64)
        found = positions >= 0
        slots[found] = self._pairs.values[positions[found]]
        if not insert:
            return slots
        new = np.flatnonzero(known & (slots < 0))
        if len(new) == 0:
            return slots
        returning = positions[new] >= 0  # a removed pair that comes back keeps its map entry
        fresh = self.size + np.arange(len(new), dtype=np.int64)
        slots[new] = fresh
        self._pairs.values[positions[new][returning]] = fresh[returning]
        self._pairs.add(packed[new][~returning], fresh[~returning])
        self._base_of.append(base_slots[new])
        self._start_of.append(starts[new])
        self._live.append(np.ones(len(new), dtype=bool))
        self._live_count += len(new)
        return slots

    def lookup(self, columns: Sequence[pa.Array], *, insert: bool = True) -> BatchSlots:
        """The batch's distinct keys and their slots, like :meth:`KeyIndex.lookup
        <headwater.engine.state.key_index.KeyIndex.lookup>`."""
        if not columns or len(columns[0]) == 0:
            return BatchSlots(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        numbered = unique_rows(columns)
        firsts = pa.array(numbered.first_rows, pa.int64())
        distinct = [column.take(firsts) for column in columns]
        base_slots = self.base.slots_for(distinct[:-1], insert=insert)
        starts = np.asarray(distinct[-1].cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
        return BatchSlots(numbered.inverse, self.pair_slots(base_slots, starts, insert=insert))

    def slots_for(self, columns: Sequence[pa.Array], *, insert: bool = True) -> np.ndarray:
        """The slot of each row's key (see :meth:`KeyIndex.slots_for
        <headwater.engine.state.key_index.KeyIndex.slots_for>`)."""
        return self.lookup(columns, insert=insert).row_slots

    def keys(self, slots: np.ndarray) -> list[pa.Array]:
        """The key columns of ``slots`` (removed slots keep their last key)."""
        slots = np.asarray(slots, dtype=np.int64)
        columns = self.base.keys(self._base_of.values[slots])
        starts = pa.array(self._start_of.values[slots], pa.int64())
        if starts.type != self.fields[-1].type:
            starts = starts.cast(self.fields[-1].type)
        return [*columns, starts]

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
        codes = np.asarray([self._window_code[start] for start in self._start_of.values[slots].tolist()], np.int64)
        positions = self._pairs.positions((codes << _BASE_BITS) | self._base_of.values[slots])
        self._pairs.values[positions[positions >= 0]] = -1

    def should_compact(self) -> bool:
        """Whether more than half of a sizeable index is dead."""
        dead = self.size - self.live_count
        return dead > 1024 and dead > self.live_count

    def compact(self) -> np.ndarray:
        """Renumber the live slots 0..n-1 (keeping their order) and forget keys and windows no live slot
        holds; returns the old slot of each new slot."""
        kept = np.flatnonzero(self._live.values)
        self._rebuild(self.keys(kept), np.ones(len(kept), dtype=bool))
        return kept

    def _rebuild(self, columns: Sequence[pa.Array], live: np.ndarray) -> None:
        """Start again from every slot's key columns (slot ``i`` being row ``i``) and live flags."""
        self.base = self._base_index()
        self._pairs = TailSortedMap()
        self._window_code = {}
        rows = len(live)
        base_slots = self.base.slots_for(list(columns[:-1])) if rows else np.zeros(0, dtype=np.int64)
        starts = np.asarray(columns[-1].cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
        self._base_of = GrowableArray(np.int64, base_slots)
        self._start_of = GrowableArray(np.int64, starts)
        self._live = GrowableArray(np.bool_, live)
        self._live_count = int(np.count_nonzero(live))
        alive = np.flatnonzero(live)
        if len(alive):
            order = np.argsort(starts[alive], kind="stable")  # windows coded in time order
            codes = self._codes(starts[alive][order], True)
            packed = np.empty(len(alive), dtype=np.int64)
            packed[order] = (codes << _BASE_BITS) | base_slots[alive][order]
            self._pairs.add(packed, alive.astype(np.int64))

