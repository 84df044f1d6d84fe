"""Engine.insert_rows: many rows in one call, each stored exactly as INSERT VALUES stores it, refused
with INSERT VALUES' message, and nothing after the first refused row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from headwater.engine import Engine
from headwater.errors import HeadwaterError, PlanError

COLUMNS = (
    "(ID INT KEY, N BIGINT, D DECIMAL(6, 2), X DOUBLE, S STRING, B BOOLEAN, T TIMESTAMP, "
    "A ARRAY<INT>, M MAP<STRING, INT>, R STRUCT<F1 INT, F2 STRING>)"
)


@pytest.fixture
def engine(driven_engine: Engine) -> Engine:
    opened = driven_engine
    for name in ("BY_STATEMENT", "BY_ROWS"):
        opened.execute(
            f"CREATE STREAM {name} {COLUMNS} WITH (KAFKA_TOPIC='{name.lower()}', PARTITIONS=3, VALUE_FORMAT='JSON');"
        )
    return opened


def _stored(engine: Engine, topic: str) -> list[tuple[int, Any, Any, int]]:
    out = []
    log_topic = engine.log.topic(topic)
    for partition in range(len(log_topic.end_offsets())):
        part = log_topic.partition(partition)
        for batch in part.read(part.start_offset).batches:
            for row in batch.to_pylist():
                out.append((partition, row["__key"], row["__value"], row["__timestamp"]))
    return out


ROWS: list[dict[str, Any]] = [
    {"ID": 1, "N": 10, "D": Decimal("1.5"), "X": Decimal("2.25"), "S": "a", "B": True, "ROWTIME": 1000},
    {"id": 2, "n": 3_000_000_000, "d": 7, "x": 3, "s": "it's", "b": False, "rowtime": 2000},
    {"ID": 3, "T": "2024-01-02T03:04:05.000", "A": [1, None, 3], "M": {"k": 1}, "R": {"f1": 5, "f2": "z"}, "ROWTIME": 3000},
    {"ID": None, "S": None, "ROWTIME": 4000},
    {"ID": 5, "D": Decimal("1.235"), "ROWTIME": 5000},  # more digits than the scale: as INSERT VALUES rounds
]

STATEMENTS = [
    "INSERT INTO BY_STATEMENT (ID, N, D, X, S, B, ROWTIME) VALUES (1, 10, 1.5, 2.25E0, 'a', TRUE, 1000);",
    "INSERT INTO BY_STATEMENT (ID, N, D, X, S, B, ROWTIME) VALUES (2, 3000000000, 7, 3, 'it''s', FALSE, 2000);",
    "INSERT INTO BY_STATEMENT (ID, T, A, M, R, ROWTIME) VALUES "
    "(3, '2024-01-02T03:04:05.000', ARRAY[1, NULL, 3], MAP('k' := 1), STRUCT(F1 := 5, F2 := 'z'), 3000);",
    "INSERT INTO BY_STATEMENT (ID, S, ROWTIME) VALUES (NULL, NULL, 4000);",
    "INSERT INTO BY_STATEMENT (ID, D, ROWTIME) VALUES (5, 1.235, 5000);",
]


def test_rows_are_stored_as_insert_values_stores_them(engine: Engine) -> None:
    for statement in STATEMENTS:
        engine.execute(statement)
    assert engine.insert_rows("BY_ROWS", ROWS) == [None] * len(ROWS)
    by_statement, by_rows = _stored(engine, "by_statement"), _stored(engine, "by_rows")
    assert len(by_rows) == len(ROWS)
    assert sorted(by_rows, key=lambda r: r[3]) == sorted(by_statement, key=lambda r: r[3])


@pytest.mark.parametrize(
    ("bad_row", "statement"),
    [
        ({"ID": 9, "N": "x"}, "INSERT INTO BY_STATEMENT (ID, N) VALUES (9, 'x');"),
        ({"ID": 9, "D": Decimal("12345.6")}, "INSERT INTO BY_STATEMENT (ID, D) VALUES (9, 12345.6);"),
        ({"ID": 3_000_000_000}, "INSERT INTO BY_STATEMENT (ID) VALUES (3000000000);"),
        ({"ID": 9, "T": "not a time"}, "INSERT INTO BY_STATEMENT (ID, T) VALUES (9, 'not a time');"),
        ({"ID": 9, "NOPE": 1}, "INSERT INTO BY_STATEMENT (ID, NOPE) VALUES (9, 1);"),
        ({"ID": 9, "ROWOFFSET": 1}, "INSERT INTO BY_STATEMENT (ID, ROWOFFSET) VALUES (9, 1);"),
        ({"ID": 9, "A": ["x"]}, "INSERT INTO BY_STATEMENT (ID, A) VALUES (9, ARRAY['x']);"),
    ],
)
def test_the_first_refused_row_ends_the_call_with_insert_values_message(
    engine: Engine, bad_row: dict[str, Any], statement: str
) -> None:
    with pytest.raises(HeadwaterError) as refused:
        engine.execute(statement)
    answers = engine.insert_rows("BY_ROWS", [ROWS[0], ROWS[1], bad_row, ROWS[2]])
    assert answers[:2] == [None, None] and len(answers) == 3
    error = answers[2]
    assert isinstance(error, HeadwaterError) and error.message == refused.value.message
    assert sorted(r[3] for r in _stored(engine, "by_rows")) == [1000, 2000]  # the rows before it only


def test_an_empty_row_and_unknown_or_read_only_targets(engine: Engine) -> None:
    answers = engine.insert_rows("BY_ROWS", [{}])
    assert len(answers) == 1 and isinstance(answers[0], PlanError) and answers[0].message == "No columns supplied."
    with pytest.raises(PlanError, match="Cannot insert values into an unknown stream/table: `NOPE`"):
        engine.insert_rows("NOPE", [{"ID": 1}])
    engine.execute(
        "CREATE SOURCE TABLE RO (ID INT PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='ro', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    with pytest.raises(PlanError, match="Cannot insert values into read-only table: RO"):
        engine.insert_rows("RO", [{"ID": 1}])


def test_rows_reach_a_query_sink_and_are_kept_committed(engine: Engine) -> None:
    engine.execute("CREATE STREAM COPY AS SELECT ID, S FROM BY_ROWS;")
    assert engine.insert_rows("COPY", [{"ID": 7, "S": "direct", "ROWTIME": 5}, {"ID": 8, "S": "also"}]) == [None, None]
    rows = sorted(
        (row["ID"], row["S"])
        for partition in range(engine.partition_count("COPY"))
        for batch in engine.log.topic("COPY").partition(partition).read(0).batches
        for row in batch.to_pylist()
    )
    assert rows == [(7, "direct"), (8, "also")]
