"""The integer key index and its sorted runs against the general KeyIndex and a dict: slots, unknown
keys, removal and return, compaction, snapshots in either direction; and the operators that use it
(aggregation, table filter) giving what they give with the general index."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.aggregates.store import AggregationStore
from headwater.engine.operators.table_filter import TableFilterOperator
from headwater.engine.state.integer_key_index import IntegerKeyIndex
from headwater.engine.state.key_index import KeyIndex
from headwater.engine.state.sorted_runs import SortedRuns


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(-10**12, 10**12), min_size=1, max_size=40, unique=True), min_size=1, max_size=12))
def test_sorted_runs_match_a_dict(batches: list[list[int]]) -> None:
    runs, reference = SortedRuns(), dict[int, int]()
    for number, batch in enumerate(batches):
        keys = np.array(batch, dtype=np.int64)
        assert runs.find(keys).tolist() == [reference.get(k, -1) for k in batch]
        new = [k for k in batch if k not in reference]
        runs.add(np.array(new, dtype=np.int64), np.arange(len(new), dtype=np.int64) + 100 * number)
        reference.update({k: i + 100 * number for i, k in enumerate(new)})
        if number % 3 == 1:  # overwrite some values, keys absent from the map are ignored
            runs.assign(np.array([*batch[:2], 10**13], dtype=np.int64), np.array([-2, -2, 7][: len(batch[:2]) + 1]))
            reference.update({k: -2 for k in batch[:2]})
    keys, values = runs.items()
    assert keys.tolist() == sorted(reference) and values.tolist() == [reference[k] for k in sorted(reference)]
    assert len(runs) == len(reference)


FIELDS = {
    "one int64": [pa.field("ID", pa.int64())],
    "one int32": [pa.field("ID", pa.int32())],
    "int64 and timestamp": [pa.field("ID", pa.int64()), pa.field("AT", pa.timestamp("ms"))],
    "date and int16": [pa.field("D", pa.date32()), pa.field("N", pa.int16())],
}


def _columns(fields: list[pa.Field], rng: np.random.Generator, rows: int) -> list[pa.Array]:
    columns = []
    for field in fields:
        values = rng.integers(-3, 40, rows)
        if pa.types.is_integer(field.type):
            columns.append(pa.array(values * (10**9 if field.type == pa.int64() else 1)).cast(field.type))
        else:
            storage = pa.int32() if field.type.bit_width == 32 else pa.int64()
            columns.append(pa.array(values).cast(storage).view(field.type))
    return columns


@pytest.mark.parametrize("shape", sorted(FIELDS))
def test_integer_key_index_agrees_with_key_index(shape: str) -> None:
    fields = FIELDS[shape]
    rng = np.random.default_rng(len(shape))
    index, reference = IntegerKeyIndex(fields), KeyIndex(fields)
    for step in range(14):
        columns = _columns(fields, rng, 150)
        found, expected = index.lookup(columns), reference.lookup(columns)
        assert found.inverse.tolist() == expected.inverse.tolist()
        assert found.slots.tolist() == expected.slots.tolist()
        assert index.size == reference.size and index.live.tolist() == reference.live.tolist()
        assert [k.to_pylist() for k in index.keys(found.row_slots)] == [c.to_pylist() for c in columns]
        assert index.keys(found.row_slots)[0].type == fields[0].type
        probe = _columns(fields, np.random.default_rng(step), 30)
        assert index.slots_for(probe, insert=False).tolist() == reference.slots_for(probe, insert=False).tolist()
        if step % 4 == 3:
            doomed = np.flatnonzero(index.live)[::2]
            index.remove(doomed)
            reference.remove(doomed)
            assert index.live_count == reference.live_count
            if index.should_compact() or step == 7:
                assert index.compact().tolist() == reference.compact().tolist()
        if step == 5:
            index = IntegerKeyIndex.from_arrow(index.to_arrow())
        if step == 9:
            index = IntegerKeyIndex.from_arrow(reference.to_arrow())
    assert index.to_arrow().equals(reference.to_arrow())


def test_integer_key_index_refuses_null_keys_and_other_types() -> None:
    assert not IntegerKeyIndex.supports([pa.field("S", pa.string())])
    assert not IntegerKeyIndex.supports([pa.field(name, pa.int64()) for name in "ABC"])
    with pytest.raises(ValueError, match="integer"):
        IntegerKeyIndex([pa.field("S", pa.string())])
    with pytest.raises(ValueError, match="NULL"):
        IntegerKeyIndex([pa.field("ID", pa.int64())]).slots_for([pa.array([1, None])])


def test_aggregation_store_picks_the_index_for_its_key() -> None:
    assert isinstance(AggregationStore([pa.field("ID", pa.int64())], []).index, IntegerKeyIndex)
    assert isinstance(AggregationStore([pa.field("ID", pa.string())], []).index, KeyIndex)


class _Over:
    def evaluate(self, batch: pa.RecordBatch) -> pa.Array:
        return pc.greater(batch.column("V"), 5)


def _changes(ids: list[int], values: list[int | None], key_type: pa.DataType) -> pa.RecordBatch:
    keys = pa.array(ids, pa.int64())
    return pa.record_batch(
        {
            "ID": keys if key_type == pa.int64() else pa.array([str(i) for i in ids]),
            "V": pa.array(values, pa.int64()),
            "ROWTIME": pa.array(range(len(ids)), pa.int64()),
            "__null_value": pa.array([v is None for v in values]),
        }
    )


def test_table_filter_on_integer_keys_emits_what_it_emits_on_string_keys() -> None:
    rng = np.random.default_rng(5)
    batches = []
    for _ in range(6):
        ids = rng.integers(0, 6, 40).tolist()
        values = [None if r < 0.1 else int(v) for r, v in zip(rng.random(40), rng.integers(0, 10, 40))]
        batches.append((ids, values))
    outputs = {}
    for key_type in (pa.int64(), pa.string()):
        op = TableFilterOperator(_Over(), ["ID"])
        rows = []
        for number, (ids, values) in enumerate(batches):
            if number == 3:  # through a checkpoint
                state = op.snapshot()
                assert state is not None
                op = TableFilterOperator(_Over(), ["ID"])
                op.restore(state)
            for out in op.process(_changes(ids, values, key_type)):
                rows += [(str(r["ID"]), r["V"], r["__null_value"]) for r in out.to_pylist()]
        outputs[str(key_type)] = rows
    assert outputs["int64"] == outputs["string"] and any(deleted for _, _, deleted in outputs["int64"])


def test_two_column_keys_move_from_offsets_to_codes_when_a_value_is_far_away() -> None:
    fields = [pa.field("ID", pa.int64()), pa.field("START", pa.int64())]
    index, reference = IntegerKeyIndex(fields), KeyIndex(fields)
    batches = [
        ([5, 6, 5], [1_000, 1_000, 2_000]),
        ([6, 7], [2_000, 3_000]),
        ([5, 2**40], [1_000, 3_000]),  # an id four thousand times past the offsets' range
        ([7, 2**40, -(2**45)], [3_000, 3_000, -(2**50)]),
    ]
    for number, (ids, starts) in enumerate(batches):
        columns = [pa.array(ids, pa.int64()), pa.array(starts, pa.int64())]
        assert index.lookup(columns).slots.tolist() == reference.lookup(columns).slots.tolist()
        if number == 1:
            index.remove(np.array([1]))
            reference.remove(np.array([1]))
    assert index.to_arrow().equals(reference.to_arrow())
    assert index.slots_for([pa.array([6]), pa.array([1_000])], insert=False).tolist() == [-1]
