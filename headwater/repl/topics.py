"""``headwater topic create|list|describe|delete``: topic housekeeping straight on the event log.

These commands open the data directory's event log (``<data_dir>/log``) directly, not an engine: they
must work while a shell on the same directory is running its persistent queries, and opening a second
engine would start those queries a second time. The log allows this: any number of processes may read
and create topics, and a partition has one writer at a time, so deleting a topic that a running engine
writes is refused with a message naming the holder rather than corrupting anything.

Topics created here are *raw* (records are key and value bytes, as in Kafka); a stream or table is
declared over them with ``CREATE STREAM ... WITH (KAFKA_TOPIC=..., VALUE_FORMAT=...)``.

Example::

    $ headwater topic create orders --partitions 4 --config retention.ms=86400000
    Created topic orders with 4 partitions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from headwater.repl.console import Console
from headwater.repl.table import listing
from headwater.storage import EventLog, StorageError, Topic, TopicConfig, TopicExistsError, TopicNotFoundError

__all__ = ["LOG_DIR", "describe_lines", "open_log", "run_topic_command"]

LOG_DIR = "log"
_INTERNAL_PREFIX = "_"


def open_log(data_dir: Path) -> EventLog:
    """The event log of a data directory (created if missing, as the engine would)."""
    return EventLog.open(data_dir / LOG_DIR)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _records_and_bytes(topic: Topic) -> tuple[int, int]:
    """How many records a topic holds and how many bytes its segments take, from one listing."""
    segments = topic.segments()
    return sum(s.record_count for s in segments), sum(s.size_bytes for s in segments)


def run_topic_command(args: argparse.Namespace, data_dir: Path, console: Console | None = None) -> int:
    """Run ``headwater topic <action>``; returns the exit status."""
    console = console or Console()
    with open_log(data_dir) as log:
        if args.topic_command == "create":
            properties: dict[str, str | int] = dict(args.config)
            if "partitions" in properties:
                console.error("Give the partition count with --partitions, not --config partitions=...")
                return 1
            properties["partitions"] = args.partitions
            config = TopicConfig.from_properties(properties)
            try:
                log.create_topic(args.name, config)
            except TopicExistsError:
                if not args.if_not_exists:
                    raise
                console.line(f"Topic {args.name} already exists.")
                return 0
            console.line(f"Created topic {args.name} with {_plural(config.partitions, 'partition')}.")
        elif args.topic_command == "list":
            rows = []
            problems: list[str] = []
            for name in log.list_topics():
                try:
                    topic = log.topic(name)
                    records, size = _records_and_bytes(topic)
                except TopicNotFoundError:
                    continue  # deleted by another process while listing
                except StorageError as error:  # one damaged topic must not hide the others
                    rows.append([name, "damaged", "?", "?", "?"])
                    problems.append(f"Topic {name}: {error}")
                    continue
                rows.append([name, topic.kind, str(topic.num_partitions), f"{records:,}", f"{size:,}"])
            console.lines(listing(["Topic", "Kind", "Partitions", "Records", "Bytes"], rows, max_width=console.width))
            for problem in problems:
                console.error(problem)
            return 1 if problems else 0
        elif args.topic_command == "describe":
            console.lines(describe_lines(log.topic(args.name), width=console.width))
        elif args.topic_command == "delete":
            try:
                log.delete_topic(args.name)
            except TopicNotFoundError:
                if not args.if_exists:
                    raise
                console.line(f"Topic {args.name} does not exist.")
                return 0
            console.line(f"Deleted topic {args.name}.")
    return 0


def describe_lines(topic: Topic, *, width: int | None = None) -> list[str]:
    """What ``topic describe`` prints: kind, configuration, metadata, columns and partitions."""
    lines = [
        f"{'Topic':<12} : {topic.name}",
        f"{'Kind':<12} : {topic.kind} "
        + ("(key and value bytes)" if topic.is_raw else "(Arrow columns)"),
        f"{'Partitions':<12} : {topic.num_partitions}",
    ]
    config = topic.config.to_properties()
    config.pop("partitions", None)
    for title, values in (("Config", config), ("Metadata", topic.metadata)):
        for index, (key, value) in enumerate(sorted(values.items())):
            lines.append(f"{title:<12} : {key}={value}" if index == 0 else f"{'':<12}   {key}={value}")
    schema = topic.schema
    if schema is not None:
        from headwater.engine.types import from_arrow
        from headwater.storage.columns import is_key_field

        rows = []
        for field in schema:
            try:
                type_text = str(from_arrow(field.type))
            except TypeError:
                type_text = str(field.type)
            rows.append([field.name, type_text + ("  (key)" if is_key_field(field) else "")])
        lines.append("")
        lines.extend(listing(["Column", "Type"], rows, max_width=width))
    segments_by_partition: dict[int, list[int]] = {}
    for segment in topic.segments():
        counts = segments_by_partition.setdefault(segment.partition, [0, 0, 0])
        counts[0] += 1
        counts[1] += segment.record_count
        counts[2] += segment.size_bytes
    start_offsets = topic.start_offsets()
    end_offsets = topic.end_offsets()
    rows = []
    for partition in range(topic.num_partitions):
        segments, records, size = segments_by_partition.get(partition, [0, 0, 0])
        rows.append(
            [
                str(partition),
                str(start_offsets.get(partition, 0)),
                str(end_offsets.get(partition, 0)),
                f"{records:,}",
                str(segments),
                f"{size:,}",
            ]
        )
    lines.append("")
    lines.extend(
        listing(["Partition", "Start Offset", "End Offset", "Records", "Segments", "Bytes"], rows, max_width=width)
    )
    return lines
