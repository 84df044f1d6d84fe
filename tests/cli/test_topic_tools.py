"""``headwater topic create|list|describe|delete`` on a real data directory, in real processes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from headwater.storage import EventLog, TopicConfig


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|")]


def test_create_then_list_and_describe(headwater, data_dir: Path) -> None:
    created = headwater("topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=60000")
    assert created.status == 0, created.err
    assert created.out.strip() == "Created topic orders with 3 partitions."

    listed = headwater("topic", "list")
    assert listed.status == 0
    assert cells(listed.out_lines[0])[:3] == ["Topic", "Kind", "Partitions"]
    assert cells(listed.out_lines[2])[:4] == ["orders", "raw", "3", "0"]

    described = headwater("topic", "describe", "orders")
    assert described.status == 0
    text = described.out
    assert "Partitions   : 3" in text
    assert "retention.ms=60000" in text
    partition_rows = [cells(line) for line in described.out_lines if line.startswith(" ") and line.strip()[:1].isdigit()]
    assert [row[0] for row in partition_rows] == ["0", "1", "2"]

    # The topic is really in the log, with the config given.
    with EventLog.open(data_dir / "log") as log:
        topic = log.topic("orders")
        assert topic.num_partitions == 3 and topic.config.retention_ms == 60000 and topic.is_raw


def test_data_dir_may_come_after_the_subcommand(headwater, data_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    run = headwater("topic", "create", "t", "--data-dir", str(other))
    assert run.status == 0
    with EventLog.open(other / "log") as log:
        assert log.list_topics() == ["t"]


def test_create_existing_topic_fails_unless_if_not_exists(headwater) -> None:
    assert headwater("topic", "create", "t").status == 0
    again = headwater("topic", "create", "t")
    assert again.status == 1
    assert again.err.strip() == "Error: Topic 't' already exists"
    assert "Traceback" not in again.err
    quiet = headwater("topic", "create", "t", "--if-not-exists")
    assert quiet.status == 0 and "already exists" in quiet.out


def test_bad_names_and_configs_are_refused_with_a_message(headwater, data_dir: Path) -> None:
    escape = headwater("topic", "create", "../outside")
    assert escape.status == 1 and "only ASCII letters" in escape.err
    assert not (data_dir.parent / "outside").exists()
    unknown = headwater("topic", "create", "t", "--config", "colour=blue")
    assert unknown.status == 1 and "Unknown topic property 'colour'" in unknown.err
    malformed = headwater("topic", "create", "t", "--config", "retention.ms")
    assert malformed.status == 2 and "expected NAME=VALUE" in malformed.err
    zero = headwater("topic", "create", "t", "--partitions", "0")
    assert zero.status == 2 and "greater than 0" in zero.err


def test_delete(headwater, data_dir: Path) -> None:
    headwater("topic", "create", "gone")
    deleted = headwater("topic", "delete", "gone")
    assert deleted.status == 0 and deleted.out.strip() == "Deleted topic gone."
    with EventLog.open(data_dir / "log") as log:
        assert not log.has_topic("gone")
    missing = headwater("topic", "delete", "gone")
    assert missing.status == 1 and "does not exist" in missing.err
    assert headwater("topic", "delete", "gone", "--if-exists").status == 0


def test_describe_missing_topic(headwater) -> None:
    run = headwater("topic", "describe", "nope")
    assert run.status == 1 and run.err.strip() == "Error: Topic 'nope' does not exist"


def test_list_counts_records_per_topic(headwater) -> None:
    headwater("topic", "create", "a", "-p", "2")
    headwater("produce", "a", "--format", "json", stdin="".join(f'{{"n":{i}}}\n' for i in range(25)))
    rows = [cells(line) for line in headwater("topic", "list").out_lines[2:-1]]
    assert rows == [["a", "raw", "2", "25", rows[0][4]]]


def test_describe_a_typed_topic_shows_its_columns_and_metadata(headwater, data_dir: Path) -> None:
    schema = pa.schema([
        pa.field("ID", pa.int32(), metadata={"headwater.key": "true"}),
        pa.field("TAGS", pa.list_(pa.string())),
    ])
    with EventLog.open(data_dir / "log") as log:
        log.create_topic("sink", TopicConfig(), schema=schema, metadata={"key_format": "KAFKA", "value_format": "JSON"})
    run = headwater("topic", "describe", "sink")
    assert run.status == 0, run.err
    assert "Kind         : typed (Arrow columns)" in run.out
    assert "Metadata     : key_format=KAFKA" in run.out
    columns = [cells(line) for line in run.out_lines if line.startswith(" ID ") or line.startswith(" TAGS ")]
    assert columns == [["ID", "INTEGER  (key)"], ["TAGS", "ARRAY<STRING>"]]
