"""``headwater print``: ksqlDB PRINT-style lines, from the beginning or live, limits and partitions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from headwater.storage import EventLog, TopicConfig

LINE = re.compile(r"^rowtime: (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}) Z, key: (.*), value: (.*), partition: (\d+)$")


def records(out: str) -> list[tuple[str, str, str]]:
    """(key, value, partition) of each printed record line."""
    found = []
    for line in out.splitlines():
        match = LINE.match(line)
        if match:
            found.append((match.group(2), match.group(3), match.group(4)))
    return found


def test_from_beginning_prints_every_record_with_rowtime_key_value_and_partition(
    headwater, data_dir: Path, make_topic, append_json
) -> None:
    make_topic("t")
    append_json("t", [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], key_field="id")
    with EventLog.open(data_dir / "log") as log:  # one record with a known timestamp and no key
        log.topic("t").append(pa.RecordBatch.from_pydict(
            {"__key": pa.array([None], pa.binary()), "__value": pa.array([b"\xff\x00"]), "__timestamp": pa.array([86_400_123])}
        ))
    run = headwater("print", "t", "--from-beginning", "--exit-at-end")
    assert run.status == 0, run.err
    # Formats are detected from the first record, as ksqlDB's PRINT does.
    assert run.out_lines[:2] == ["Key format: KAFKA_STRING", "Value format: JSON"]
    assert records(run.out)[:2] == [("1", '{"id":1,"v":"a"}', "0"), ("2", '{"id":2,"v":"b"}', "0")]
    assert "rowtime: 1970/01/02 00:00:00.123 Z, key: <null>" in run.out
    assert len(records(run.out)) == 3


def test_limit_stops_after_that_many_records(headwater, make_topic, append_json) -> None:
    make_topic("t", 2)
    append_json("t", [{"k": i} for i in range(20)], key_field="k")
    run = headwater("print", "t", "--from-beginning", "--limit", "5")
    assert run.status == 0
    assert len(records(run.out)) == 5


def test_partition_flag_prints_one_partition(headwater, make_topic, append_json) -> None:
    make_topic("t", 3)
    append_json("t", [{"k": i} for i in range(30)], key_field="k")
    everything = records(headwater("print", "t", "--from-beginning", "--exit-at-end").out)
    only_one = records(headwater("print", "t", "--from-beginning", "--exit-at-end", "--partition", "1").out)
    assert only_one == [r for r in everything if r[2] == "1"] and only_one
    assert headwater("print", "t", "--partition", "3").status == 1


def test_without_from_beginning_only_new_records_are_printed(
    data_dir: Path, tmp_path: Path, make_topic, append_json
) -> None:
    make_topic("live")
    append_json("live", [{"old": True}])
    env = {k: v for k, v in os.environ.items() if k != "HEADWATER_DATA_DIR"}
    command = [str(Path(sys.executable).parent / "headwater"), "print", "live", "--data-dir", str(data_dir), "--limit", "2"]
    printer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    try:
        assert printer.stdout is not None
        # The printer fixes its starting offsets before it says how to interrupt it: once that is out,
        # whatever is produced is new to it.
        assert printer.stderr is not None
        assert printer.stderr.readline() == b"Press CTRL-C to interrupt\n"
        append_json("live", [{"new": 1}])  # from this process: the printer is another one
        append_json("live", [{"new": 2}])
        out, err = printer.communicate(timeout=30)
    finally:
        printer.kill()
    assert printer.returncode == 0, err
    assert [value for _, value, _ in records(out.decode())] == ['{"new":1}', '{"new":2}']


def test_typed_topics_print_key_columns_and_json_values(headwater, data_dir: Path) -> None:
    schema = pa.schema([
        pa.field("ID", pa.int32(), metadata={"headwater.key": "true"}),
        pa.field("NAME", pa.string()),
        pa.field("PRICE", pa.float64()),
    ])
    with EventLog.open(data_dir / "log") as log:
        topic = log.create_topic("typed", TopicConfig(), schema=schema, metadata={"key_format": "KAFKA", "value_format": "JSON"})
        topic.append(pa.RecordBatch.from_pydict(
            {"ID": pa.array([7], pa.int32()), "NAME": ["tea"], "PRICE": [2.5], "__tombstone": [False]}
        ))
        topic.append(pa.RecordBatch.from_pydict(
            {"ID": pa.array([8], pa.int32()), "NAME": [None], "PRICE": [None], "__tombstone": [True]}
        ))
    run = headwater("print", "typed", "--from-beginning", "--exit-at-end")
    assert run.status == 0, run.err
    assert run.out_lines[:2] == ["Key format: KAFKA", "Value format: JSON"]
    assert records(run.out) == [("7", '{"NAME":"tea","PRICE":2.5}', "0"), ("8", "<null>", "0")]


def test_missing_topic(headwater) -> None:
    run = headwater("print", "nope")
    assert run.status == 1 and run.err.strip() == "Error: Topic 'nope' does not exist"
