"""Several source partitions are consumed in event-time order, as Kafka Streams interleaves them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
