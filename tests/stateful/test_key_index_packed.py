"""The key index's packed lookup (keys of one to three integer-like columns, found by binary search on
packed codes) hands out exactly the slots a key -> slot dictionary would: new keys in order of first appearance, the
same slot for the same key, -1 for unknown keys without insertion, fresh slots after removal, dense
renumbering on compaction, and the same behaviour after a snapshot round trip. NULL is a value of its
own in a key of several columns; a column with more distinct values than its bits hold moves the index to dictionary lookup for good."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.state.key_index import KeyIndex, unique_rows

FIELDS = {
    "int": [pa.field("K", pa.int32())],
    "bigint, boolean": [pa.field("N", pa.int64()), pa.field("B", pa.bool_())],
    "bigint, date, timestamp": [pa.field("N", pa.int64()), pa.field("D", pa.date32()), pa.field("T", pa.timestamp("ms"))],
    "string, bigint (dictionary lookup)": [pa.field("S", pa.string()), pa.field("N", pa.int64())],
}
_VALUES: dict[pa.DataType, list[Any]] = {
    pa.int32(): [0, 1, -1, 7, 2**31 - 1],  # the one-column key is never NULL (callers drop NULL keys)
    pa.int64(): [0, 5, -(2**63), 2**63 - 1, None],
    pa.bool_(): [True, False, None],
    pa.string(): ["", "a", "b", "é", None],
    pa.date32(): [datetime.date(2020, 1, 1), datetime.date(1970, 1, 1), None],
    pa.timestamp("ms"): [datetime.datetime(2020, 1, 1, 0, 0, 1), datetime.datetime(1960, 5, 1), None],
}


class Model:
    """The reference: a dict from key tuple to slot."""

    def __init__(self) -> None:
        self.slot_of: dict[tuple[Any, ...], int] = {}
        self.key_of: list[tuple[Any, ...] | None] = []

    def lookup(self, rows: list[tuple[Any, ...]], insert: bool) -> list[int]:
        out = []
        for row in rows:
            slot = self.slot_of.get(row)
            if slot is None and insert:
                slot = len(self.key_of)
                self.slot_of[row] = slot
                self.key_of.append(row)
            out.append(-1 if slot is None else slot)
        return out

    def remove(self, slots: list[int]) -> None:
        for slot in slots:
            key = self.key_of[slot]
            if key is not None:
                del self.slot_of[key]
                self.key_of[slot] = None

    def compact(self) -> list[int]:
        kept = [slot for slot, key in enumerate(self.key_of) if key is not None]
        self.key_of = [self.key_of[slot] for slot in kept]
        self.slot_of = {key: slot for slot, key in enumerate(self.key_of) if key is not None}
        return kept


def _columns(fields: list[pa.Field], rows: list[tuple[Any, ...]]) -> list[pa.Array]:
    return [pa.array([row[i] for row in rows], f.type) for i, f in enumerate(fields)]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(FIELDS)))
def test_packed_lookup_matches_a_dictionary(data: st.DataObject, kind: str) -> None:
    fields = FIELDS[kind]
    row = st.tuples(*(st.sampled_from(_VALUES[f.type]) for f in fields))
    index, model = KeyIndex(fields), Model()
    for _ in range(data.draw(st.integers(1, 12))):
        action = data.draw(st.sampled_from(["insert", "insert", "find", "remove", "compact", "snapshot"]))
        if action in ("insert", "find"):
            rows = data.draw(st.lists(row, min_size=1, max_size=10))
            expected = model.lookup(rows, insert=action == "insert")
            assert index.slots_for(_columns(fields, rows), insert=action == "insert").tolist() == expected
        elif action == "remove" and index.size:
            slots = data.draw(st.lists(st.integers(0, index.size - 1), max_size=4))
            index.remove(np.asarray(slots, dtype=np.int64))
            model.remove(slots)
        elif action == "compact":
            assert index.compact().tolist() == model.compact()
        elif action == "snapshot":
            index = KeyIndex.from_arrow(index.to_arrow())
        assert index.live_count == len(model.slot_of)
        assert index.size == len(model.key_of)
        live = [slot for slot, key in enumerate(model.key_of) if key is not None]
        assert np.flatnonzero(index.live).tolist() == live
        if live:
            keys = index.keys(np.asarray(live, dtype=np.int64))
            assert list(zip(*(k.to_pylist() for k in keys))) == [model.key_of[s] for s in live]


def test_a_column_outgrowing_its_bits_moves_to_dictionary_lookup() -> None:
    fields = [pa.field("A", pa.int64()), pa.field("B", pa.int64()), pa.field("C", pa.int32())]
    index = KeyIndex(fields)
    count = (1 << 21) + 5  # three columns pack 21 bits each
    values = np.arange(count, dtype=np.int64)
    first = index.slots_for([pa.array(values), pa.array(values % 3), pa.array(np.zeros(count, np.int32))])
    assert first.tolist() == list(range(count))
    # the same keys find the same slots afterwards, new ones come next
    again = index.slots_for([pa.array([count - 1, 3, -1]), pa.array([(count - 1) % 3, 0, 0]), pa.array([0, 0, 0], pa.int32())])
    assert again.tolist() == [count - 1, 3, count]
    index.remove(np.array([3]))
    assert index.slots_for([pa.array([3]), pa.array([0]), pa.array([0], pa.int32())], insert=False).tolist() == [-1]


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(sorted(FIELDS)))
def test_unique_rows_numbers_distinct_keys_by_first_appearance(data: st.DataObject, kind: str) -> None:
    """``unique_rows`` (the batch's distinct keys, hashed without a sort) against a dict over the rows:
    each row's key number and each key's first row, NULL a value of its own."""
    fields = FIELDS[kind]
    rows = data.draw(st.lists(st.tuples(*(st.sampled_from(_VALUES[f.type]) for f in fields)), min_size=1, max_size=40))
    columns = [pa.array([row[i] for row in rows], f.type) for i, f in enumerate(fields)]
    numbered = unique_rows(columns)
    number_of: dict[tuple[Any, ...], int] = {}
    first_rows: list[int] = []
    for position, row in enumerate(rows):
        if row not in number_of:
            number_of[row] = len(number_of)
            first_rows.append(position)
    assert numbered.inverse.tolist() == [number_of[row] for row in rows]
    assert numbered.first_rows.tolist() == first_rows
