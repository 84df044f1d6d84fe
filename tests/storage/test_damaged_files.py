"""Damaged files and misplaced directories on open: a StorageError that names the file and what is wrong,
or a repair that is reported, never a builtin exception and never silent loss of good records."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from headwater.errors import StorageError
from headwater.storage import EventLog, TopicExistsError


def make_topic(log_dir: Path, schema: pa.Schema, make_orders: Any, count: int = 5) -> Path:
    with EventLog.open(log_dir) as log:
        topic = log.create_topic("orders", schema=schema)
        topic.append(make_orders(0, count))
        return topic.directory


@pytest.mark.parametrize("document", ["[1, 2]", '"text"', "42", '{"config": [1]}', '{"metadata": "x"}'])
def test_a_topic_json_of_the_wrong_shape_is_a_storage_error(log_dir: Path, orders_schema: pa.Schema,
                                                            make_orders: Any, document: str) -> None:
    directory = make_topic(log_dir, orders_schema, make_orders)
    (directory / "topic.json").write_text(document)
    with EventLog.open(log_dir, recover=False) as log, pytest.raises(StorageError) as raised:
        log.topic("orders")
    assert "topic.json" in str(raised.value) and "expected a JSON object" in str(raised.value)


def test_a_topic_directory_without_topic_json_is_reported_as_damaged_not_missing(
    log_dir: Path, orders_schema: pa.Schema, make_orders: Any
) -> None:
    directory = make_topic(log_dir, orders_schema, make_orders)
    config = (directory / "topic.json").read_text()
    (directory / "topic.json").unlink()
    segments_before = sorted(p.name for p in (directory / "0").iterdir())
    with EventLog.open(log_dir) as log:
        assert log.has_topic("orders"), "the records are still there: the name is not free"
        with pytest.raises(StorageError, match=r"Topic 'orders' is damaged: .* has no topic.json"):
            log.topic("orders")
        with pytest.raises(TopicExistsError):
            log.create_topic("orders", schema=orders_schema)  # would hide the old records
    assert sorted(p.name for p in (directory / "0").iterdir()) == segments_before
    (directory / "topic.json").write_text(config)  # restoring the file brings every record back
    with EventLog.open(log_dir) as log:
        assert log.topic("orders").partition(0).read(0).record_count == 5


def test_a_log_path_that_is_a_file_is_a_storage_error(tmp_path: Path) -> None:
    target = tmp_path / "log"
    target.write_text("precious")
    with pytest.raises(StorageError, match="is a file"):
        EventLog.open(target)
    with pytest.raises(StorageError, match="is a file"):
        EventLog.open(target / "below")
    assert target.read_text() == "precious"


def test_a_torn_tail_cut_on_open_is_logged_as_a_warning(log_dir: Path, orders_schema: pa.Schema,
                                                        make_orders: Any, caplog: pytest.LogCaptureFixture) -> None:
    directory = make_topic(log_dir, orders_schema, make_orders)
    segment = next((directory / "0").glob("*.arrow"))
    with open(segment, "ab") as f:
        f.write(make_orders(5, 40).serialize().to_pybytes()[:-3])
    with caplog.at_level(logging.WARNING, logger="headwater.storage"), EventLog.open(log_dir) as log:
        assert log.topic("orders").partition(0).read(0).record_count == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("topic 'orders' partition 0 removed 1 unreadable record batch" in m for m in warnings), warnings


def test_a_clean_open_logs_nothing(log_dir: Path, orders_schema: pa.Schema, make_orders: Any,
                                   caplog: pytest.LogCaptureFixture) -> None:
    make_topic(log_dir, orders_schema, make_orders)
    with caplog.at_level(logging.WARNING, logger="headwater.storage"), EventLog.open(log_dir):
        pass
    assert not [r for r in caplog.records if r.name == "headwater.storage"]


def test_a_garbage_segment_closes_its_partition_not_the_log(log_dir: Path, orders_schema: pa.Schema,
                                                            make_orders: Any, caplog: pytest.LogCaptureFixture) -> None:
    directory = make_topic(log_dir, orders_schema, make_orders)
    with EventLog.open(log_dir) as log:
        log.create_topic("other", schema=orders_schema).append(make_orders(0, 3))
    segment = next((directory / "0").glob("*.arrow"))
    garbage = b"\x00garbage" * 100
    segment.write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="headwater.storage"), EventLog.open(log_dir) as log:
        assert [(t, p) for t, p, _ in log.last_recovery.damaged] == [("orders", 0)]
        assert not log.last_recovery.clean
        assert log.topic("other").partition(0).read(0).record_count == 3, "the other topics open as before"
        with pytest.raises(StorageError) as raised:
            log.topic("orders").partition(0).read(0)
        assert segment.name in str(raised.value)
    assert segment.read_bytes() == garbage, "the damaged file is left for someone to look at"
    assert any("Topic 'orders' partition 0 is damaged" in r.getMessage() for r in caplog.records)


def test_topic_json_that_is_not_json_is_a_storage_error(log_dir: Path, orders_schema: pa.Schema,
                                                        make_orders: Any) -> None:
    directory = make_topic(log_dir, orders_schema, make_orders)
    (directory / "topic.json").write_text(json.dumps({"config": {}})[:-2])
    with EventLog.open(log_dir, recover=False) as log, pytest.raises(StorageError, match=r"unreadable topic\.json"):
        log.topic("orders")


@pytest.mark.parametrize(
    "document",
    [
        "[1, 2]",
        "7",
        '{"format": 1, "group": "g", "offsets": [{"topic": "t"}]}',
        '{"format": 1, "group": "g", "offsets": [{"topic": "t", "partition": "zero", "offset": 1}]}',
        '{"format": 1, "group": "g", "offsets": 5}',
    ],
)
def test_an_offsets_file_of_the_wrong_shape_is_a_storage_error_and_is_not_overwritten(log: EventLog,
                                                                                     document: str) -> None:
    log.offsets.commit("g", {("t", 0): 5})
    path = next(p for p in (log.path / "offsets").glob("*.json"))
    path.write_text(document)
    with pytest.raises(StorageError, match="Offsets of consumer group 'g' are unreadable"):
        log.offsets.fetch("g", "t", 0)
    with pytest.raises(StorageError, match="unreadable"):
        log.offsets.commit("g", {("t", 1): 9})
    assert path.read_text() == document, "a commit must not replace offsets it could not read"
    expected = ["g"] if document.startswith("{") else []  # listing the groups skips what is not one
    assert log.offsets.groups() == expected
