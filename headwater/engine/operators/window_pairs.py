"""Group a batch's (row, time window) pairs by (key, window) without expanding the batch.

A hopping window of size ``s`` advancing by ``a`` puts every row in ``s / a`` windows, so a windowed
aggregation groups ``s / a`` times as many (row, window) pairs as it has rows. Grouping the pairs the
way a plain aggregation groups rows (gather every key column per pair, dictionary-encode it, sort the
combined codes) does that work ``s / a`` times over. Here the work per pair is integer arithmetic:

* the batch's GROUP BY keys are numbered once per *row* (dictionary encoding, numbers in order of first
  appearance);
* a pair's window is numbered by its distance from the batch's earliest window start, in advances;
* the pair's group number is ``key number * windows + window number``, a small dense integer, so the
  pairs are put in group order by a linear radix sort (:func:`~headwater.engine.aggregates.grouping.
  stable_order`), which keeps each group's pairs in batch order;
* only the *distinct* (key, window start) pairs, a few per key, are looked up in the aggregation's key
  index (a :class:`~headwater.engine.state.window_keys.WindowKeyIndex`: the batch's distinct keys, then
  the pairs by base slot and window), in order of first appearance (so new groups get slots in the
  order the plain path gives them).

The result is the :class:`~headwater.engine.aggregates.grouping.Grouping` of the pairs that every
accumulator takes, and the order in which the groups first appear (the order of the output rows).

Example:
    >>> import numpy as np, pyarrow as pa
    >>> from headwater.engine.aggregates.store import AggregationStore
    >>> store = AggregationStore([pa.field("K", pa.string()), pa.field("WINDOWSTART", pa.int64())], [], windowed=True)
    >>> pairs = group_window_pairs(store, [pa.array(["a", "b"])], np.array([0, 0, 1]), np.array([0, 2, 2]), 2)
    >>> pairs.grouping.group_slots[pairs.appearance].tolist(), pairs.grouping.counts[pairs.appearance].tolist()
    ([0, 1, 2], [1, 1, 1])
    >>> [column.to_pylist() for column in store.index.keys(np.array([0, 1, 2]))]
    [['a', 'a', 'b'], [0, 2, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.aggregates.grouping import Grouping, stable_order
from headwater.engine.aggregates.store import AggregationStore
from headwater.engine.state.key_index import is_nested, unique_rows
from headwater.engine.state.window_keys import IntegerKeys, WindowKeyIndex

__all__ = ["WindowPairs", "batch_key_numbers", "group_window_pairs"]

_PACKED_LIMIT = 1 << 62


@dataclass(frozen=True, slots=True)
class WindowPairs:
    """The (row, window) pairs of a batch grouped by (key, window).

    Attributes:
        grouping: the pairs grouped by slot; positions refer to pairs (the ``pair_rows`` / ``starts``
            the grouping was built from).
        appearance: group indexes ordered by each group's first pair.
    """

    grouping: Grouping
    appearance: np.ndarray


def batch_key_numbers(columns: Sequence[pa.Array]) -> tuple[np.ndarray, list[pa.Array]]:
    """(per-row number of its distinct key, the distinct keys' columns), numbered in order of first
    appearance. One plain column is dictionary-encoded directly (Arrow numbers its dictionary in order
    of first appearance); several, or nested values, go through the key index's ``unique_rows``."""
    plain = len(columns) == 1 and not is_nested(columns[0].type) and not pa.types.is_null(columns[0].type)
    if plain and columns[0].null_count == 0:
        column = columns[0].combine_chunks() if isinstance(columns[0], pa.ChunkedArray) else columns[0]
        encoded = pc.dictionary_encode(column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64), [encoded.dictionary]
    numbered = unique_rows(columns)
    firsts = pa.array(numbered.first_rows, pa.int64())
    return numbered.inverse, [column.take(firsts) for column in columns]


def group_window_pairs(
    store: AggregationStore,
    key_columns: Sequence[pa.Array],
    pair_rows: np.ndarray,
    starts: np.ndarray,
    advance_ms: int,
) -> WindowPairs:
    """Group the pairs (``pair_rows[i]``, ``starts[i]``) by (the row's key in ``key_columns``, window
    start), find or create each group's slot in ``store`` (whose key is the key columns plus the window
    start), and say in which order the groups first appear (see the module docstring).

    ``pair_rows`` must be non-decreasing (pairs come row by row), as
    :func:`~headwater.engine.operators.window_assign.assign_time_windows` gives them.
    """
    key_numbers, distinct_keys = batch_key_numbers(key_columns)
    earliest = int(starts.min())
    windows = (starts - earliest) // advance_ms
    window_count = int(windows.max()) + 1
    key_count = len(distinct_keys[0])
    window_starts: np.ndarray | None = None
    if key_count * window_count >= _PACKED_LIMIT:
        # windows scattered over a vast time range: number only the windows that occur
        window_starts, windows = np.unique(windows, return_inverse=True)
        windows = np.asarray(windows, dtype=np.int64).reshape(-1)
        window_count = len(window_starts)
    codes = key_numbers[pair_rows] * window_count + windows
    order = stable_order(codes, key_count * window_count)
    ordered = codes[order]
    boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    group_starts = np.concatenate([np.zeros(1, dtype=np.int64), boundaries.astype(np.int64)])
    group_codes = ordered[group_starts]
    appearance = np.argsort(order[group_starts], kind="stable")
    appearing = group_codes[appearance]
    window_of = appearing % window_count
    if window_starts is not None:
        window_of = window_starts[window_of]
    key_of = appearing // window_count
    window_start_of = earliest + window_of * advance_ms
    index = store.index
    if isinstance(index, WindowKeyIndex):
        base = index.base
        base_slots = (
            base.slots_for(distinct_keys, distinct=True) if isinstance(base, IntegerKeys) else base.slots_for(distinct_keys)
        )
        slots = index.pair_slots(base_slots[key_of], window_start_of)
        store.grow()
    else:
        keys = pa.array(key_of, pa.int64())
        lookup = [column.take(keys) for column in distinct_keys]
        lookup.append(pa.array(window_start_of, pa.int64()))
        slots = store.slots_for(lookup)
    group_slots = np.empty(len(group_codes), dtype=np.int64)
    group_slots[appearance] = slots
    return WindowPairs(Grouping.from_sorted(order, group_starts, group_slots), appearance)
