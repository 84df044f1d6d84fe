"""The windowed aggregation's grouping path: linear stable sorts, the window key index (slots, removal,
compaction, snapshots in KeyIndex's layout) and the grouping of (row, window) pairs, each checked
against a plain reference (numpy's stable argsort, a dict, a KeyIndex)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.aggregates.grouping import Grouping, stable_order
from headwater.engine.aggregates.store import AggregationStore
from headwater.engine.operators.window_assign import TimeWindows, assign_time_windows
from headwater.engine.operators.window_pairs import group_window_pairs
from headwater.engine.state.key_index import KeyIndex
from headwater.engine.state.window_keys import IntegerKeys, TailSortedMap, WindowKeyIndex


@pytest.mark.parametrize("bound", [1, 300, 65_536, 65_537, 1 << 20, 1 << 32, 1 << 40])
def test_stable_order_is_numpys_stable_argsort(bound: int) -> None:
    rng = np.random.default_rng(bound % 97)
    values = rng.integers(0, bound, 5_000)
    assert np.array_equal(stable_order(values, bound), np.argsort(values, kind="stable"))
    assert np.array_equal(stable_order(values), np.argsort(values, kind="stable"))


def test_stable_order_of_negative_and_empty_values() -> None:
    values = np.array([3, -1, 3, -5, 0])
    assert stable_order(values).tolist() == np.argsort(values, kind="stable").tolist()
    assert stable_order(np.zeros(0, dtype=np.int64)).tolist() == []


def test_grouping_from_sorted_gives_row_slots_on_demand() -> None:
    plain = Grouping(np.array([7, 3, 7, 9, 3]))
    built = Grouping.from_sorted(plain.order, plain.starts, plain.group_slots)
    assert built.slots.tolist() == [7, 3, 7, 9, 3]
    assert built.counts.tolist() == plain.counts.tolist()
    assert built.row_count == 5 and built.subset(np.array([True, False, True, True, True])).counts.tolist() == [1, 2, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(-50, 50), min_size=1, max_size=30, unique=True), min_size=1, max_size=8))
def test_tail_sorted_map_matches_a_dict(batches: list[list[int]]) -> None:
    sorted_map, reference = TailSortedMap(), dict[int, int]()
    for batch in batches:
        keys = np.array(batch, dtype=np.int64)
        found = sorted_map.find(keys)
        assert found.tolist() == [reference.get(k, -1) for k in batch]
        new = [k for k in batch if k not in reference]
        values = np.arange(len(reference), len(reference) + len(new), dtype=np.int64)
        sorted_map.add(np.array(new, dtype=np.int64), values)
        reference.update(zip(new, values.tolist()))
        assert np.all(np.diff(sorted_map.keys) > 0)
    probe = np.arange(-60, 61, dtype=np.int64)
    assert sorted_map.find(probe).tolist() == [reference.get(k, -1) for k in probe.tolist()]


def test_integer_keys_number_new_values_as_they_first_appear() -> None:
    keys = IntegerKeys(pa.int32())
    assert keys.slots_for([pa.array([30, 10, 30, 20], pa.int32())]).tolist() == [0, 1, 0, 2]
    assert keys.slots_for([pa.array([5, 20], pa.int32())], insert=False).tolist() == [-1, 2]
    assert keys.keys(np.array([2, 0]))[0].to_pylist() == [20, 30] and keys.keys(np.array([0]))[0].type == pa.int32()
    with pytest.raises(ValueError, match="NULL"):
        keys.slots_for([pa.array([None], pa.int32())])
    promised = IntegerKeys(pa.int32())
    assert promised.slots_for([pa.array([30, 10, 20], pa.int32())], distinct=True).tolist() == [0, 1, 2]
    assert promised.slots_for([pa.array([40, 20, 5], pa.int32())], distinct=True).tolist() == [3, 2, 4]
    assert promised.keys(np.array([4, 3]))[0].to_pylist() == [5, 40]


FIELDS = {
    "string": [pa.field("K", pa.string()), pa.field("WINDOWSTART", pa.int64())],
    "integer": [pa.field("K", pa.int64()), pa.field("WINDOWSTART", pa.int64())],
    "two columns": [pa.field("K", pa.int64()), pa.field("J", pa.string()), pa.field("WINDOWSTART", pa.int64())],
}


def _key_columns(fields: list[pa.Field], rng: np.random.Generator, rows: int) -> list[pa.Array]:
    columns = []
    for field in fields[:-1]:
        values = rng.integers(0, 6, rows)
        columns.append(pa.array([f"k{v}" for v in values] if field.type == pa.string() else values, field.type))
    columns.append(pa.array(rng.integers(0, 8, rows) * 1000, pa.int64()))
    return columns


@pytest.mark.parametrize("shape", sorted(FIELDS))
def test_window_key_index_agrees_with_key_index_through_removal_compaction_and_snapshots(shape: str) -> None:
    fields = FIELDS[shape]
    rng = np.random.default_rng(len(shape))
    index, reference = WindowKeyIndex(fields), KeyIndex(fields)
    for step in range(12):
        columns = _key_columns(fields, rng, 200)
        slots = index.slots_for(columns)
        assert slots.tolist() == reference.slots_for(columns).tolist()
        assert index.size == reference.size and index.live.tolist() == reference.live.tolist()
        keys = index.keys(slots)
        assert [k.to_pylist() for k in keys] == [c.to_pylist() for c in columns]
        assert index.window_starts(slots).tolist() == columns[-1].to_pylist()
        if step % 3 == 2:  # expire the two oldest windows
            live = np.flatnonzero(index.live)
            old = live[index.window_starts(live) <= 1000]
            index.remove(old)
            reference.remove(old)
            assert index.live_count == reference.live_count
            if index.should_compact() or step == 8:
                assert index.compact().tolist() == reference.compact().tolist()
        if step == 5:
            index = WindowKeyIndex.from_arrow(index.to_arrow())
        if step == 10:  # a snapshot of the general index restores into the window index
            index = WindowKeyIndex.from_arrow(reference.to_arrow())
        unknown = index.slots_for([*(c.slice(0, 3) for c in columns[:-1]), pa.array([99_000] * 3)], insert=False)
        assert unknown.tolist() == [-1, -1, -1]
    assert index.to_arrow().equals(reference.to_arrow())


def test_a_removed_window_that_comes_back_gets_a_new_slot() -> None:
    index = WindowKeyIndex(FIELDS["integer"])
    columns = [pa.array([1, 2], pa.int64()), pa.array([0, 0], pa.int64())]
    assert index.slots_for(columns).tolist() == [0, 1]
    index.remove(np.array([0]))
    assert index.slots_for(columns, insert=False).tolist() == [-1, 1]
    assert index.slots_for(columns).tolist() == [2, 1]
    assert index.live.tolist() == [False, True, True]


def test_window_key_index_needs_a_window_start_column() -> None:
    with pytest.raises(ValueError, match="window start"):
        WindowKeyIndex([pa.field("K", pa.string())])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 40_000)), min_size=1, max_size=60),
    st.sampled_from([(10_000, 2_000), (10_000, 10_000), (3_000, 1_000)]),
    st.booleans(),
)
def test_window_pairs_group_like_the_plain_key_lookup(
    rows: list[tuple[int, int]], window: tuple[int, int], windowed_index: bool
) -> None:
    """Groups, their slots and their order of first appearance are what looking every pair's (key,
    start) up in a KeyIndex and grouping by slot gives."""
    keys = pa.array([f"k{k}" for k, _ in rows])
    timestamps = np.array([ts for _, ts in rows], dtype=np.int64)
    pair_rows, starts = assign_time_windows(timestamps, TimeWindows.hopping(*window))
    fields = FIELDS["string"]
    store = AggregationStore(fields, [], windowed=windowed_index)
    reference = KeyIndex(fields)
    for _ in range(2):  # the second time every group already has a slot
        pairs = group_window_pairs(store, [keys], pair_rows, starts, window[1])
        expected = reference.lookup([keys.take(pa.array(pair_rows)), pa.array(starts, pa.int64())])
        grouping = pairs.grouping
        assert grouping.slots.tolist() == expected.row_slots.tolist()
        assert grouping.group_slots[pairs.appearance].tolist() == expected.slots.tolist()
        for group in range(grouping.group_count):
            members = grouping.order[grouping.starts[group] : grouping.starts[group] + grouping.counts[group]]
            assert np.all(np.diff(members) > 0)  # each group's pairs in batch order
            assert set(grouping.slots[members].tolist()) == {grouping.group_slots[group]}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 60_000), max_size=40),
    st.sampled_from([(10_000, 2_000), (10_000, 3_000), (10_000, 10_000), (5, 1)]),
)
def test_window_assignment_is_every_window_holding_each_row(timestamps: list[int], window: tuple[int, int]) -> None:
    """Rows far enough from 0 all get the same number of windows (the vectorized ladder); the others
    fewer; either way each row's windows come by ascending start."""
    size, advance = window
    rows, starts = assign_time_windows(np.array(timestamps, dtype=np.int64), TimeWindows.hopping(size, advance))
    expected = [
        (row, start)
        for row, ts in enumerate(timestamps)
        for start in range(0, ts + 1, advance)
        if start <= ts < start + size
    ]
    assert list(zip(rows.tolist(), starts.tolist())) == expected
