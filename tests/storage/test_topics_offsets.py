"""Topic lifecycle, persisted configuration and metadata, and consumer-group offsets."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from headwater.storage import (
    EventLog,
    InvalidConfigError,
    StorageError,
    TopicConfig,
    TopicExistsError,
    TopicNotFoundError,
)


def test_create_list_delete(log: EventLog, orders_schema: pa.Schema) -> None:
    assert log.list_topics() == []
    log.create_topic("b")
    log.create_topic("a", TopicConfig(partitions=3), schema=orders_schema)
    assert log.list_topics() == ["a", "b"]
    assert log.has_topic("a") and not log.has_topic("c")
    with pytest.raises(TopicExistsError, match="'a' already exists"):
        log.create_topic("a")
    with pytest.raises(TopicNotFoundError, match="'c' does not exist"):
        log.topic("c")
    topic = log.topic("a")
    log.delete_topic("a")
    assert log.list_topics() == ["b"]
    with pytest.raises(TopicNotFoundError):
        topic.append_rows([{"id": 1}])
    with pytest.raises(TopicNotFoundError):
        log.delete_topic("a")
    assert list((log.path / "tmp").iterdir()) == []
    again = log.create_topic("a")
    assert again.is_raw and again.partition(0).end_offset == 0


def test_config_and_metadata_persist(log_dir: Path, orders_schema: pa.Schema) -> None:
    log = EventLog.open(log_dir)
    config = TopicConfig(partitions=2, retention_ms=5000, cleanup_policy="compact", segment_bytes=1 << 20)
    topic = log.create_topic("t", config, schema=orders_schema, metadata={"key.format": "KAFKA"})
    topic.update_metadata({"value.format": "JSON", "key.format": None})
    log.close()
    log = EventLog.open(log_dir)
    topic = log.topic("t")
    assert topic.config == config
    assert topic.metadata == {"value.format": "JSON"}
    assert topic.schema is not None and topic.schema.equals(orders_schema, check_metadata=True)
    document = json.loads((topic.directory / "topic.json").read_text())
    assert document["config"]["retention.ms"] == "5000" and document["kind"] == "typed"
    log.close()


def test_update_config_grows_partitions_only(log: EventLog, make_orders: Any, orders_schema: pa.Schema) -> None:
    topic = log.create_topic("t", TopicConfig(partitions=2), schema=orders_schema)
    topic.update_config({"partitions": 4, "retention.bytes": "100"})
    assert topic.num_partitions == 4 and topic.config.retention_bytes == 100
    assert topic.append(make_orders(0, 3), partition=3)[0].base_offset == 0
    with pytest.raises(InvalidConfigError, match="can grow but not shrink"):
        topic.update_config({"partitions": 1})
    with pytest.raises(InvalidConfigError, match="Unknown topic property"):
        topic.update_config({"retention.hours": 1})
    with pytest.raises(InvalidConfigError, match=r"cleanup\.policy"):
        topic.update_config({"cleanup.policy": "shred"})


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"partitions": "0"}, "at least 1"),
        ({"segment.bytes": "12"}, "segment.bytes must be at least"),
        ({"retention.ms": "-2"}, "retention.ms"),
        ({"flush.policy": "sometimes"}, "flush.policy"),
        ({"segment.ms": "soon"}, "must be an integer"),
    ],
)
def test_bad_config_is_refused(properties: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidConfigError, match=message):
        TopicConfig.from_properties(properties)


def test_bad_metadata_is_refused(log: EventLog) -> None:
    with pytest.raises(InvalidConfigError, match="strings to strings"):
        log.create_topic("t", metadata={"a": 1})  # type: ignore[dict-item]
    assert log.list_topics() == []


def test_offsets_commit_fetch_atomic_and_persistent(log_dir: Path) -> None:
    log = EventLog.open(log_dir)
    assert log.offsets.fetch("g", "t", 0) is None
    log.offsets.commit("g", {("t", 0): 10, ("t", 1): 20})
    log.offsets.commit("g", {("t", 1): 25, ("u", 0): 1})
    log.offsets.commit("other/../group", {("t", 0): 3})
    assert log.offsets.fetch("g", "t", 0) == 10 and log.offsets.fetch("g", "t", 1) == 25
    with pytest.raises(InvalidConfigError, match="Offset must be an int >= 0"):
        log.offsets.commit("g", {("t", 0): 11, ("t", 1): -1})
    assert log.offsets.fetch("g", "t", 0) == 10, "a refused commit changes nothing"
    log.close()
    log = EventLog.open(log_dir)
    assert log.offsets.fetch_all("g") == {("t", 0): 10, ("t", 1): 25, ("u", 0): 1}
    assert log.offsets.fetch("other/../group", "t", 0) == 3
    assert log.offsets.groups() == ["g", "other/../group"]
    assert all(p.parent == log_dir / "offsets" for p in (log_dir / "offsets").iterdir())
    log.offsets.delete_group("g")
    assert log.offsets.fetch("g", "t", 0) is None
    log.close()


def test_concurrent_commits_never_lose_or_mix_partitions(log: EventLog) -> None:
    def worker(n: int) -> None:
        for i in range(30):
            log.offsets.commit("g", {("t", n): i, ("u", n): i})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.offsets.fetch_all("g") == {(topic, n): 29 for topic in ("t", "u") for n in range(4)}
    leftovers = [p.name for p in (log.path / "offsets").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_closed_log_refuses_work(log_dir: Path) -> None:
    log = EventLog.open(log_dir)
    log.create_topic("t")
    log.close()
    with pytest.raises(StorageError, match="closed"):
        log.topic("t")


def test_appending_to_a_topic_deleted_by_another_log_says_so(log_dir: Path, orders_schema: pa.Schema,
                                                            make_orders: Any) -> None:
    first = EventLog.open(log_dir)
    stale = first.create_topic("t", schema=orders_schema)
    second = EventLog.open(log_dir)
    second.delete_topic("t")
    with pytest.raises(TopicNotFoundError, match="no longer exists"):
        stale.append(make_orders(0, 1))
    assert not first.has_topic("t")
    first.close()
    second.close()
