"""A table-table join's whole step at once (:mod:`headwater.engine.operators.join_step`): the as-of
machinery against brute force, and both joins' whole-step output against the same changes taken one
piece at a time (the per-piece path, which reads the other side's stored state only) on random
interleavings of upserts, deletes, NULL keys, NULL and moving foreign keys, over several steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.operators import join_step
from headwater.engine.operators.foreign_key_join import ForeignKeyJoinOperator
from headwater.engine.operators.join_output import JoinSide, JoinType
from headwater.engine.operators.join_sequence import PieceRuns
from headwater.engine.operators.join_step import (
    StepChanges,
    in_merged_order,
    latest_before,
    pair_blocks,
    pairs_by_target,
)
from headwater.engine.operators.table_table_join import TableTableJoinOperator
from headwater.engine.state.row_store import last_per_slot


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=40),
    st.lists(st.integers(-1, 6), max_size=10),
)
def test_latest_before_is_the_last_earlier_change_of_the_slot(changes: list[tuple[int, bool]], queries: list[int]) -> None:
    """Changes and queries share one sequence of positions: a query at position p sees the latest
    change of its slot at a position below p."""
    positions = np.random.default_rng(len(changes)).permutation(len(changes) + len(queries))
    change_positions = np.sort(positions[: len(changes)])
    query_positions = positions[len(changes):]
    change_slots = np.array([slot for slot, _ in changes], dtype=np.int64)
    query_slots = np.array(queries, dtype=np.int64)
    expected = []
    for slot, position in zip(query_slots.tolist(), query_positions.tolist()):
        earlier = [i for i in range(len(changes)) if change_slots[i] == slot and change_positions[i] < position]
        expected.append(earlier[-1] if earlier and slot >= 0 else -1)
    assert latest_before(change_slots, change_positions, query_slots, query_positions).tolist() == expected
    with pytest.MonkeyPatch.context() as patch:  # the queries in blocks of three give the same answers
        patch.setattr(join_step, "_QUERY_BLOCK", 3)
        assert latest_before(change_slots, change_positions, query_slots, query_positions).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=30), st.lists(st.integers(0, 8), max_size=10))
def test_pairs_by_target_lists_every_match_per_query_in_entry_order(targets: list[int], queries: list[int]) -> None:
    query_of_pair, entry = pairs_by_target(np.array(targets, dtype=np.int64), np.array(queries, dtype=np.int64))
    expected = [(q, e) for q, value in enumerate(queries) for e, target in enumerate(targets) if target == value]
    assert list(zip(query_of_pair.tolist(), entry.tolist())) == expected
    for size in (1, 2, 5):  # in blocks of about `size` pairs: the same pairs, each block whole queries
        blocks = list(pair_blocks(np.array(targets, dtype=np.int64), np.array(queries, dtype=np.int64), size))
        assert [(q, e) for qs, es in blocks for q, e in zip(qs.tolist(), es.tolist())] == expected
        # a block starts a new query only while it holds fewer than `size` pairs
        assert all(int(np.count_nonzero(qs != qs[-1])) < size for qs, _ in blocks)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1, 12), max_size=50))
def test_last_per_slot_keeps_each_slots_latest_position(slots: list[int]) -> None:
    """The row store keeps each slot's last write of a batch (sort-free for slots, -1 the general way)."""
    expected = sorted({slot: position for position, slot in enumerate(slots)}.values())
    assert last_per_slot(np.array(slots, dtype=np.int64)).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=30), st.lists(st.integers(0, 20), max_size=30), st.booleans())
def test_in_merged_order_is_a_stable_sort_of_both(first: list[int], second: list[int], ordered: bool) -> None:
    """Each entry's place in the merged order equals its place in a stable sort of the concatenation
    (sorted inputs take the binary-search way, unsorted ones the sort)."""
    if ordered:
        first, second = sorted(first), sorted(second)
    arrays = [np.array(first, dtype=np.int64), np.array(second, dtype=np.int64)]
    order = np.argsort(np.concatenate(arrays), kind="stable")
    expected = np.empty(len(order), dtype=np.int64)
    expected[order] = np.arange(len(order))
    assert np.concatenate(in_merged_order(arrays)).tolist() == expected.tolist()


def test_step_positions_number_the_merged_order() -> None:
    left = pa.record_batch({"K": pa.array([1, 2, 3, 4], pa.int64())})
    right = pa.record_batch({"K": pa.array([9, 8], pa.int64())})
    runs = PieceRuns({True: left, False: right}, np.array([True, False, True, False, True]), np.array([2, 1, 0, 1, 2]))
    step = StepChanges.of(runs)
    assert step is not None
    assert step.positions[True].tolist() == [0, 1, 4, 5] and step.positions[False].tolist() == [2, 3]
    sliced = StepChanges.of(list(runs))
    assert sliced is not None
    assert {side: p.tolist() for side, p in sliced.positions.items()} == {side: p.tolist() for side, p in step.positions.items()}
    mixed = [(True, left), (True, pa.record_batch({"K": pa.array(["x"])}))]
    assert StepChanges.of(mixed) is None


# --------------------------------------------------------------------------------------------------------
# whole steps against one piece at a time: string left keys (key order differs from arrival order),
# two-column keys for the primary-key join (a windowed table's key and window start)

LEFT = pa.schema([("NAME", pa.string()), ("FK", pa.int64()), ("V", pa.int64())])
RIGHT = pa.schema([("RID", pa.int64()), ("LABEL", pa.string())])
PAIR = pa.schema([("ID", pa.int64()), ("START", pa.int64()), ("V", pa.string())])


def _left_changes(rng: np.random.Generator, size: int, keys: int, first: int) -> pa.RecordBatch:
    deleted = rng.random(size) < 0.2
    names = [f"k{int(k):03d}"[::-1] for k in rng.integers(0, keys, size)]
    return pa.record_batch({
        "NAME": pa.array(names, pa.string(), mask=rng.random(size) < 0.04),
        "FK": pa.array(rng.integers(0, max(keys // 2, 1), size), pa.int64(), mask=deleted | (rng.random(size) < 0.1)),
        "V": pa.array(first + np.arange(size), pa.int64(), mask=deleted),
        "ROWTIME": pa.array(first + np.arange(size) * 2 + rng.integers(0, 3, size), pa.int64()),
        "__null_value": pa.array(deleted),
    })


def _right_changes(rng: np.random.Generator, size: int, keys: int, first: int) -> pa.RecordBatch:
    deleted = rng.random(size) < 0.25
    return pa.record_batch({
        "RID": pa.array(rng.integers(0, max(keys // 2, 1), size), pa.int64(), mask=rng.random(size) < 0.04),
        "LABEL": pa.array([f"r{first + i}" for i in range(size)], pa.string(), mask=deleted),
        "ROWTIME": pa.array(first + np.arange(size) * 2 + rng.integers(0, 3, size), pa.int64()),
        "__null_value": pa.array(deleted),
    })


def _pair_changes(rng: np.random.Generator, size: int, keys: int, first: int) -> pa.RecordBatch:
    deleted = rng.random(size) < 0.2
    return pa.record_batch({
        "ID": pa.array(rng.integers(0, keys, size), pa.int64(), mask=rng.random(size) < 0.04),
        "START": pa.array(rng.integers(0, 3, size) * 1000, pa.int64()),
        "V": pa.array([f"v{first + i}" for i in range(size)], pa.string(), mask=deleted),
        "ROWTIME": pa.array(first + np.arange(size) * 2 + rng.integers(0, 3, size), pa.int64()),
        "__null_value": pa.array(deleted),
    })


def _pieces(kind: str, seed: int, count: int, keys: int, left_share: float) -> list[tuple[bool, pa.RecordBatch]]:
    rng = np.random.default_rng(seed)
    pieces, first = [], 0
    for _ in range(count):
        size, is_left = int(rng.integers(1, 5)), bool(rng.random() < left_share)
        if kind == "fk":
            batch = (_left_changes if is_left else _right_changes)(rng, size, keys, first)
        else:
            batch = _pair_changes(rng, size, keys, first)
        pieces.append((is_left, batch))
        first += size
    return pieces


def _as_runs(pieces: list[tuple[bool, pa.RecordBatch]]) -> PieceRuns:
    whole = {
        side: pa.Table.from_batches([b for s, b in pieces if s == side]).combine_chunks().to_batches()[0]
        for side in (True, False)
        if any(s == side for s, _ in pieces)
    }
    for side in (True, False):
        whole.setdefault(side, pa.record_batch({}))
    return PieceRuns(whole, np.array([s for s, _ in pieces]), np.array([b.num_rows for _, b in pieces]))


def _make(kind: str, join_type: str) -> Any:
    if kind == "fk":
        left = JoinSide(("NAME",), (("FK", "FK"), ("V", "V")), LEFT)
        right = JoinSide(("RID",), (("LABEL", "LABEL"),), RIGHT)
        return ForeignKeyJoinOperator(left, right, ("FK",), ("NAME",), join_type)
    left = JoinSide(("ID", "START"), (("V", "L_V"),), PAIR)
    right = JoinSide(("ID", "START"), (("V", "R_V"),), PAIR)
    return TableTableJoinOperator(left, right, ("ID", "START"), join_type)


def _one_by_one(join: Any, pieces: list[tuple[bool, pa.RecordBatch]]) -> list[dict[str, Any]]:
    return [
        row
        for is_left, batch in pieces
        for out in (join.left_input if is_left else join.right_input).process(batch)
        for row in out.to_pylist()
    ]


def _whole(join: Any, pieces: list[tuple[bool, pa.RecordBatch]], runs: bool) -> list[dict[str, Any]]:
    step = _as_runs(pieces) if runs else pieces
    return [row for out in join.process_sequence(step) for row in out.to_pylist()]


CASES = [("fk", JoinType.INNER), ("fk", JoinType.LEFT)] + [("pk", t) for t in JoinType.ALL]


@pytest.mark.parametrize("kind, join_type", CASES)
@pytest.mark.parametrize("keys", [2, 6, 60])
@pytest.mark.parametrize("seed", range(4))
def test_whole_steps_equal_pieces_one_by_one(kind: str, join_type: str, keys: int, seed: int) -> None:
    """Three steps of random size and side mix (a side missing from a step included), each compared row
    for row, in order, with the per-piece path; the final states agree too (the next step would show
    any difference)."""
    rng = np.random.default_rng(seed * 31 + keys)
    expected_join, actual_join = _make(kind, join_type), _make(kind, join_type)
    produced = 0
    for step in range(4):
        share = (0.0, 1.0, 0.5, 0.3)[(step + seed) % 4] if step < 2 else float(rng.random())
        pieces = _pieces(kind, seed * 1000 + step, int(rng.integers(1, 90)), keys, share)
        expected = _one_by_one(expected_join, pieces)
        assert _whole(actual_join, pieces, runs=bool(step % 2)) == expected
        produced += len(expected)
    assert produced > 5


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(CASES), st.integers(1, 8))
def test_any_interleaving_equals_pieces_one_by_one(seed: int, case: tuple[str, str], keys: int) -> None:
    kind, join_type = case
    expected_join, actual_join = _make(kind, join_type), _make(kind, join_type)
    with pytest.MonkeyPatch.context() as patch:  # lookups and pairs in blocks of a few: the same output
        patch.setattr(join_step, "_QUERY_BLOCK", 1 + seed % 7)
        for step in range(2):
            pieces = _pieces(kind, seed + step, 25, keys, 0.5)
            assert _whole(actual_join, pieces, runs=step == 1) == _one_by_one(expected_join, pieces)
