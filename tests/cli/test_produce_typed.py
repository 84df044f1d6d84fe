"""``headwater produce`` into typed topics (columns): lines decoded by the value formats, bad lines named
with the format's message, keys placed by the partitioner as the engine places them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from headwater.storage import EventLog, TopicConfig, murmur2_bytes

SCHEMA = pa.schema([
    pa.field("ID", pa.int32(), metadata={"headwater.key": "true"}),
    pa.field("NAME", pa.string()),
    pa.field("PRICE", pa.float64()),
])


@pytest.fixture
def typed_topic(data_dir: Path) -> str:
    with EventLog.open(data_dir / "log") as log:
        log.create_topic("typed", TopicConfig(partitions=3), schema=SCHEMA,
                         metadata={"key_format": "KAFKA", "value_format": "JSON"})
    return "typed"


def rows(data_dir: Path) -> list[tuple[int, dict]]:
    out: list[tuple[int, dict]] = []
    with EventLog.open(data_dir / "log") as log:
        topic = log.topic("typed")
        for partition in range(topic.num_partitions):
            for batch in topic.partition(partition).read(0).batches:
                out.extend((partition, row) for row in batch.select(["ID", "NAME", "PRICE"]).to_pylist())
    return sorted(out, key=lambda item: item[1]["ID"])


def test_json_lines_fill_the_columns_by_name_case_insensitively(headwater, data_dir: Path, typed_topic: str) -> None:
    lines = '{"id": 1, "name": "tea", "price": 2.5}\n{"ID": 2, "NAME": "cake"}\n{"Id": "3", "price": 4}\n'
    run = headwater("produce", typed_topic, "--format", "json", stdin=lines)
    assert run.status == 0, run.err
    stored = rows(data_dir)
    assert [row for _, row in stored] == [
        {"ID": 1, "NAME": "tea", "PRICE": 2.5},
        {"ID": 2, "NAME": "cake", "PRICE": None},
        {"ID": 3, "NAME": None, "PRICE": 4.0},
    ]
    # Partitioned by the key serialised in the topic's key format (KAFKA INT: 4 bytes big-endian).
    for partition, row in stored:
        key = row["ID"].to_bytes(4, "big", signed=True)
        assert partition == (murmur2_bytes(key) & 0x7FFFFFFF) % 3


def test_json_lines_the_format_rejects_are_bad_lines_with_its_message(headwater, data_dir: Path, typed_topic: str) -> None:
    lines = '{"id": 1, "name": "tea"}\n{"id": "x"}\nnull\n{bad\n'
    run = headwater("produce", typed_topic, "--format", "json", stdin=lines)
    assert run.status == 1
    errors = run.err.splitlines()
    assert errors[0].startswith("line 2: Failed to deserialize value from topic: typed.")
    assert "INTEGER" in errors[0]
    assert errors[1] == "line 3: the line is null, not a record"
    assert errors[2].startswith("line 4: Failed to deserialize value from topic: typed.")
    assert rows(data_dir) == []
    skipped = headwater("produce", typed_topic, "--format", "json", "--skip-bad-lines", stdin=lines)
    assert skipped.status == 0
    assert [row["ID"] for _, row in rows(data_dir)] == [1]


def test_csv_lines_in_column_order_or_named_by_a_header(headwater, data_dir: Path, typed_topic: str) -> None:
    run = headwater("produce", typed_topic, "--format", "csv", "--skip-bad-lines", stdin="1,tea,2.5\n2,cake\n")
    assert run.status == 0
    assert run.err.splitlines()[0] == (
        "line 2: Error deserializing delimited: Column count mismatch on deserialization. "
        "topic: typed, expected: 3, got: 2"
    )
    run = headwater("produce", typed_topic, "--format", "csv", "--header", "--skip-bad-lines",
                    stdin="price,id,name\n1.5,7,jam\nabc,8,pie\n")
    assert run.status == 0
    assert run.err.splitlines()[0] == 'line 3: Error deserializing delimited: For input string: "abc"'
    assert [row for _, row in rows(data_dir)] == [
        {"ID": 1, "NAME": "tea", "PRICE": 2.5},
        {"ID": 7, "NAME": "jam", "PRICE": 1.5},
    ]


def test_a_header_must_name_the_topics_columns(headwater, typed_topic: str) -> None:
    run = headwater("produce", typed_topic, "--format", "csv", "--header", stdin="id,colour,price\n1,red,2\n")
    assert run.status == 1
    assert "does not have: colour" in run.err


def test_key_flag_is_for_raw_topics(headwater, typed_topic: str) -> None:
    run = headwater("produce", typed_topic, "--format", "json", "--key", "id", stdin='{"id": 1}\n')
    assert run.status == 1
    assert "typed: record keys come from its key columns (ID)" in run.err


def test_raw_keys_of_other_types_and_formats(headwater, data_dir: Path, make_topic) -> None:
    make_topic("k")
    lines = '{"id": 1}\n{"id": "2"}\n{"id": "x"}\n{"id": 3000000000}\n'
    run = headwater("produce", "k", "--format", "json", "--key", "id", "--key-type", "INT", "--skip-bad-lines", stdin=lines)
    assert run.status == 0
    assert run.err.splitlines()[:2] == ["line 3: key 'x' is not a valid INT", "line 4: key 3000000000 is not a valid INT"]
    run = headwater("produce", "k", "--format", "json", "--key", "id", "--key-format", "JSON", stdin='{"id": "a"}\n')
    assert run.status == 0
    with EventLog.open(data_dir / "log") as log:
        keys = [k for batch in log.topic("k").partition(0).read(0).batches for k in batch.column("__key").to_pylist()]
    assert keys == [b"\x00\x00\x00\x01", b"\x00\x00\x00\x02", b'"a"']
    refused = headwater("produce", "k", "--format", "json", "--key", "id", "--key-type", "BOOLEAN", stdin='{"id": true}\n')
    assert refused.status == 1
    assert "The KAFKA key format does not support BOOLEAN keys" in refused.err
