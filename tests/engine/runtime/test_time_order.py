"""Several source partitions are consumed in event-time order, as Kafka Streams interleaves them."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine import Engine
from headwater.engine.runtime.merge import merge_by_time


def test_runs_follow_head_timestamps_and_keep_offset_order() -> None:
    runs = merge_by_time({("a", 0): np.array([1, 5, 6]), ("b", 0): np.array([2, 3, 9])}, set())
    assert runs == [(("a", 0), 0, 1), (("b", 0), 0, 2), (("a", 0), 1, 3), (("b", 0), 2, 3)]
    # ties go to the partition listed first; a partition never reorders its own records
    assert merge_by_time({("a", 0): np.array([5, 1]), ("b", 0): np.array([5])}, set()) == [
        (("a", 0), 0, 2),
        (("b", 0), 0, 1),
    ]


def test_an_open_ended_chunk_bounds_the_merge() -> None:
    # "a" may have more records after its chunk: once it is used up, nothing more of "b" is taken
    runs = merge_by_time({("a", 0): np.array([1, 2]), ("b", 0): np.array([1, 3, 4])}, {("a", 0)})
    assert runs == [(("a", 0), 0, 1), (("b", 0), 0, 1), (("a", 0), 1, 2)]


def _taken_one_by_one(chunks: list[list[int]], open_ended: set[int]) -> list[tuple[int, int]]:
    """(partition, position) of each record as the definition takes them: again and again the head
    with the smallest running maximum (ties: the partition listed first), stopping once an open-ended
    partition is used up (or at once when one is empty)."""
    if any(not chunks[p] for p in open_ended):
        return []
    heads = [0] * len(chunks)
    highs = [max(chunk[:1], default=0) for chunk in chunks]
    taken: list[tuple[int, int]] = []
    while True:
        live = [p for p in range(len(chunks)) if heads[p] < len(chunks[p])]
        if not live:
            return taken
        chosen = min(live, key=lambda p: (max(highs[p], chunks[p][heads[p]]), p))
        highs[chosen] = max(highs[chosen], chunks[chosen][heads[chosen]])
        taken.append((chosen, heads[chosen]))
        heads[chosen] += 1
        if chosen in open_ended and heads[chosen] == len(chunks[chosen]):
            return taken


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 20), max_size=12), min_size=1, max_size=4),
    st.sets(st.integers(0, 3)),
)
def test_runs_equal_taking_records_one_by_one(chunks: list[list[int]], open_ended: set[int]) -> None:
    open_ended = {p for p in open_ended if p < len(chunks)}
    timestamps = {("t", p): np.asarray(chunk, dtype=np.int64) for p, chunk in enumerate(chunks)}
    runs = merge_by_time(timestamps, {("t", p) for p in open_ended})
    flat = [(tp[1], position) for tp, start, stop in runs for position in range(start, stop)]
    assert flat == _taken_one_by_one(chunks, open_ended)
    assert all(a[0] != b[0] for a, b in pairwise(runs))  # runs are maximal


def test_a_join_sees_table_rows_that_came_first_in_event_time(tmp_path: Path) -> None:
    engine = Engine(tmp_path, config={"auto.offset.reset": "earliest"}, background=False)
    engine.execute(
        "CREATE TABLE T (ID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE STREAM A (ID INT KEY, V INT) WITH (KAFKA_TOPIC='a', PARTITIONS=1, VALUE_FORMAT='JSON');"
        "CREATE STREAM J AS SELECT A.ID AS ID, A.V AS V, T.NAME AS NAME FROM A LEFT JOIN T ON A.ID = T.ID;"
    )
    # the stream's topic sorts first, but its records are later in event time than the table's
    engine.execute("INSERT INTO A (ID, V, ROWTIME) VALUES (1, 10, 2000);")
    engine.execute("INSERT INTO A (ID, V, ROWTIME) VALUES (2, 20, 500);")
    engine.execute("INSERT INTO T (ID, NAME, ROWTIME) VALUES (1, 'one', 1000);")
    engine.execute("INSERT INTO T (ID, NAME, ROWTIME) VALUES (2, 'two', 1000);")
    (query,) = engine.persistent_queries()
    assert query.process_available() == 4
    rows = [r for b in engine.log.topic("J").partition(0).read(0).batches for r in b.to_pylist()]
    # A's records keep their offset order: (1, 10) waits for T's rows at 1000, (2, 20) follows it
    assert [(r["ID"], r["V"], r["NAME"]) for r in rows] == [(1, 10, "one"), (2, 20, "two")]
    engine.close()
