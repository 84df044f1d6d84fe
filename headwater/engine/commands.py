"""The command topic: every catalog-changing statement, in order, so a restart rebuilds the catalog.

Each record holds the statement's text and the configuration overrides in force when it ran (a query
created under ``auto.offset.reset=earliest`` is replayed with it). On start the engine reads the topic
from the beginning and re-executes each statement in *replay* mode: topics already exist, queries resume
from their checkpoints instead of starting over, and nothing is appended to the command topic again.

The topic is typed, one partition (a total order), columns ``STATEMENT`` STRING and ``CONFIG`` STRING
(a JSON object of property overrides).

Example:
    >>> Command("CREATE STREAM S (V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');", {}).statement[:13]
    'CREATE STREAM'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

__all__ = ["COMMAND_TOPIC", "Command", "CommandLog"]

COMMAND_TOPIC = "_headwater_command_topic"

_SCHEMA = pa.schema([pa.field("STATEMENT", pa.string()), pa.field("CONFIG", pa.string())])


@dataclass(frozen=True, slots=True)
class Command:
    """One recorded statement and the property overrides it ran with."""

    statement: str
    config: dict[str, Any] = field(default_factory=dict)


class CommandLog:
    """Appends commands to, and reads them back from, the command topic of an event log."""

    def __init__(self, log: Any) -> None:
        self.log = log

    def _topic(self) -> Any:
        if self.log.has_topic(COMMAND_TOPIC):
            return self.log.topic(COMMAND_TOPIC)
        from headwater.storage import TopicConfig

        return self.log.create_topic(COMMAND_TOPIC, TopicConfig(partitions=1), schema=_SCHEMA)

    def append(self, command: Command) -> int:
        """Record ``command`` durably; returns its sequence number (its offset)."""
        batch = pa.RecordBatch.from_arrays(
            [pa.array([command.statement]), pa.array([orjson.dumps(command.config).decode()])], schema=_SCHEMA
        )
        results = self._topic().append(batch, partition=0)
        return int(results[0].base_offset)

    def read_all(self) -> Iterator[Command]:
        """Every recorded command, oldest first."""
        if not self.log.has_topic(COMMAND_TOPIC):
            return
        partition = self.log.topic(COMMAND_TOPIC).partition(0)
        result = partition.read(partition.start_offset)
        for batch in result.batches:
            statements = batch.column("STATEMENT").to_pylist()
            configs = batch.column("CONFIG").to_pylist()
            for statement, config in zip(statements, configs):
                yield Command(statement, orjson.loads(config) if config else {})

    def next_sequence_number(self) -> int:
        if not self.log.has_topic(COMMAND_TOPIC):
            return 0
        return int(self.log.topic(COMMAND_TOPIC).partition(0).end_offset)
