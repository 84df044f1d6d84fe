"""State stores checked against plain Python oracles: key index vs a dict, row store vs a dict of rows,
the join window store vs a brute-force scan; snapshots are Arrow IPC and restore identically."""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.state import KeyIndex, RowStore, SlotColumn, pack, scalar, scalars, unpack
from headwater.engine.state.key_index import unique_rows
from headwater.engine.state.window_store import TimestampedRows
from headwater.errors import ExecutionError


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.integers(-3, 3)), max_size=12), max_size=6))
def test_key_index_agrees_with_a_dictionary(batches):
    index = KeyIndex([pa.field("S", pa.string()), pa.field("I", pa.int64())])
    oracle: dict[tuple, int] = {}
    for rows in batches:
        strings = pa.array([r[0] for r in rows], pa.string())
        ints = pa.array([r[1] for r in rows], pa.int64())
        slots = index.slots_for([strings, ints]).tolist()
        expected = [oracle.setdefault(r, len(oracle)) for r in rows]
        assert slots == expected
    assert index.size == len(oracle)
    if oracle:
        all_slots = np.arange(index.size)
        keys = index.keys(all_slots)
        assert list(zip(keys[0].to_pylist(), keys[1].to_pylist())) == list(oracle)


def test_key_index_nested_keys_and_lookup_without_insert():
    index = KeyIndex([pa.field("L", pa.list_(pa.int64()))])
    assert index.slots_for([pa.array([[1, 2], [3], [1, 2]])]).tolist() == [0, 1, 0]
    assert index.slots_for([pa.array([[3], [9]])], insert=False).tolist() == [1, -1]


def test_key_index_remove_compact_and_restore():
    index = KeyIndex([pa.field("K", pa.int64())])
    index.slots_for([pa.array(list(range(3000)), pa.int64())])
    index.remove(np.arange(0, 2500))
    assert index.should_compact()
    kept = index.compact()
    assert kept.tolist() == list(range(2500, 3000))
    assert index.slots_for([pa.array([2999, 2500], pa.int64())], insert=False).tolist() == [499, 0]
    restored = KeyIndex.from_arrow(index.to_arrow())
    assert restored.slots_for([pa.array([2999, 7], pa.int64())]).tolist() == [499, 500]


def test_unique_rows_first_appearance_order():
    keys = unique_rows([pa.array(["x", "y", "x", None, "y"]), pa.array([1, 1, 1, 1, 2])])
    assert keys.first_rows.tolist() == [0, 1, 3, 4]
    assert keys.inverse.tolist() == [0, 1, 0, 2, 3]


@pytest.mark.parametrize(
    "arrow_type, values",
    [
        (pa.int32(), [1, None, -5]),
        (pa.float64(), [1.5, None, float("inf")]),
        (pa.timestamp("ms"), [0, None, 1_700_000_000_000]),
        (pa.date32(), [1, None, 19000]),
        (pa.string(), ["a", None, ""]),
        (pa.decimal128(5, 2), [decimal.Decimal("1.25"), None, decimal.Decimal("-3.00")]),
        (pa.list_(pa.string()), [["a"], None, []]),
        (pa.map_(pa.string(), pa.int64()), [[("k", 1)], None, []]),
    ],
)
def test_slot_column_scatter_gather_and_arrow_round_trip(arrow_type, values):
    column = SlotColumn(arrow_type)
    column.resize(4)
    column.scatter(np.array([3, 1, 0]), pa.array(values, arrow_type))
    gathered = column.gather(np.array([0, 1, 2, 3]))
    assert gathered.type == arrow_type
    python = pa.array(values, arrow_type).to_pylist()
    assert gathered.to_pylist() == [python[2], python[1], None, python[0]]
    restored = SlotColumn.from_arrow(column.to_arrow())
    assert restored.gather(np.arange(4)).equals(gathered)


def test_row_store_agrees_with_a_dictionary():
    rng = np.random.default_rng(7)
    schema = pa.schema([pa.field("V", pa.int64()), pa.field("S", pa.string())])
    store = RowStore([pa.field("K", pa.int64())], schema)
    oracle: dict[int, tuple] = {}
    for _ in range(200):
        keys = rng.integers(0, 40, size=rng.integers(1, 30))
        slots = store.index.slots_for([pa.array(keys, pa.int64())])
        if rng.random() < 0.3:
            store.delete(slots)
            for k in keys.tolist():
                oracle.pop(k, None)
        else:
            values = rng.integers(0, 1000, size=len(keys))
            store.upsert(slots, pa.table({"V": values, "S": [str(v) for v in values]}))
            for k, v in zip(keys.tolist(), values.tolist()):
                oracle[k] = (v, str(v))
    probe = np.arange(50)
    slots = store.index.slots_for([pa.array(probe, pa.int64())], insert=False)
    present = store.present(slots)
    rows = store.rows(slots)
    got = {int(k): (v, s) for k, ok, v, s in zip(probe, present, rows.column("V").to_pylist(), rows.column("S").to_pylist()) if ok}
    assert got == oracle
    keys, values = store.to_arrow()
    restored = RowStore.from_arrow(keys, values, schema)
    again = restored.rows(slots)
    assert again.equals(rows)


def test_window_store_matches_brute_force():
    rng = np.random.default_rng(3)
    store = TimestampedRows(pa.schema([pa.field("V", pa.int64())]))
    slots_all: list[int] = []
    ts_all: list[int] = []
    for _ in range(5):
        slots = rng.integers(0, 6, 40)
        ts = rng.integers(0, 1000, 40)
        store.append(slots, ts, pa.table({"V": np.arange(len(ts)) + len(ts_all)}))
        slots_all += slots.tolist()
        ts_all += ts.tolist()
    store.purge(100)
    probes_slots = rng.integers(-1, 6, 30)
    low = rng.integers(0, 1000, 30)
    high = low + rng.integers(-5, 200, 30)
    probes, found = store.match(probes_slots, low, high)
    got = list(zip(probes.tolist(), store.rows(found).column("V").to_pylist()))
    expected = []
    for p, (s, lo, hi) in enumerate(zip(probes_slots, low, high)):
        hits = [(t, v) for v, (ss, t) in enumerate(zip(slots_all, ts_all)) if ss == s and lo <= t <= hi and t > 100]
        expected += [(p, v) for t, v in sorted(hits)]
    assert got == expected
    restored = TimestampedRows.from_arrow(store.to_arrow(), store.value_schema)
    again = restored.match(probes_slots, low, high)
    assert again[0].tolist() == probes.tolist() and again[1].tolist() == found.tolist()


def test_tombstones_are_the_row_batches_null_value_flag():
    from headwater.engine.operators.base import NULL_VALUE_COLUMN
    from headwater.engine.state.changelog import TOMBSTONE_COLUMN

    assert TOMBSTONE_COLUMN == NULL_VALUE_COLUMN


def test_snapshot_sections_are_arrow_and_corruption_is_reported():
    data = pack({"a": pa.table({"x": [1, 2]}), "clock": scalars(stream_time=None, n=3)})
    sections = unpack(data)
    assert sections["a"].column("x").to_pylist() == [1, 2]
    assert scalar(sections["clock"], "stream_time") is None and scalar(sections["clock"], "n") == 3
    assert pa.ipc.open_stream(pa.py_buffer(data)).read_all().column_names == ["section", "payload"]
    with pytest.raises(ExecutionError, match="Corrupt operator state"):
        unpack(b"not arrow")


def test_slot_column_growing_a_little_at_a_time_keeps_every_value() -> None:
    """Growth reuses spare capacity: the values, the nulls of new slots, a compaction (take) in
    between and a dense column's default all come out as if each resize had copied."""
    values = SlotColumn(pa.int64())
    names = SlotColumn(pa.string())
    for size in range(1, 60):
        values.resize(size)
        names.resize(size)
        if size % 3:
            values.scatter_numpy(np.array([size - 1]), np.array([size * 10]))
            names.scatter(np.array([size - 1]), pa.array([f"n{size}"]))
    expected = [size * 10 if size % 3 else None for size in range(1, 60)]
    assert values.to_arrow().to_pylist() == expected
    assert names.to_arrow().to_pylist() == [f"n{size}" if size % 3 else None for size in range(1, 60)]
    values.take(np.array([4, 0]))
    values.resize(5)
    assert values.to_arrow().to_pylist() == [50, 10, None, None, None]
    counts = SlotColumn(pa.int64(), dense=True)
    counts.resize(2)
    counts.clear(np.array([0, 1]))
    counts.resize(4)
    assert counts.to_arrow().to_pylist() == [None, None, 0, 0]
