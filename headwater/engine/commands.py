"""The command topic: every catalog-changing statement, in order, so a restart rebuilds the catalog.

Each record holds the statement's text and the configuration overrides in force when it ran (a query
created under ``auto.offset.reset=earliest`` is replayed with it). On start the engine reads the topic
from the beginning and re-executes each statement in *replay* mode: topics already exist, queries resume
from their checkpoints instead of starting over, and nothing is appended to the command topic again.

The topic is typed, one partition (a total order), columns ``STATEMENT`` STRING and ``CONFIG`` STRING
(a JSON object of property overrides).

A record that cannot be read back (no statement text, a configuration that is not a JSON object) is
damage, not a statement that no longer applies: :meth:`CommandLog.read_all` raises
:class:`CorruptCommandError` naming its offset and what is wrong, because replaying past it silently
would rebuild a different catalog than the one the user built. Like ksqlDB, which stops processing its
command topic at a corrupt record unless told otherwise, the engine does not start over it; the user can
restore the topic's files from a backup, or set :data:`SKIP_CORRUPT_PROPERTY` to ``true`` to replay
everything else (each skipped record is reported).

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

from headwater.errors import StorageError

__all__ = ["COMMAND_TOPIC", "SKIP_CORRUPT_PROPERTY", "Command", "CommandLog", "CorruptCommandError"]

COMMAND_TOPIC = "_headwater_command_topic"

SKIP_CORRUPT_PROPERTY = "headwater.command.topic.skip.corrupt"
"""The engine property that lets a start replay past damaged command records instead of stopping."""

_SCHEMA = pa.schema([pa.field("STATEMENT", pa.string()), pa.field("CONFIG", pa.string())])


@dataclass(frozen=True, slots=True)
class Command:
    """One recorded statement and the property overrides it ran with."""

    statement: str
    config: dict[str, Any] = field(default_factory=dict)
    offset: int = -1
    """Where the command sits in the command topic (-1 until it is appended or read back)."""


class CorruptCommandError(StorageError):
    """A command-topic record that cannot be read back as a statement and its configuration.

    Attributes:
        offset: the record's offset in the command topic.
        problem: what is wrong with it, without the advice (for the reports of skipped records).
    """

    def __init__(self, offset: int, problem: str) -> None:
        self.offset = offset
        self.problem = problem
        super().__init__(
            f"The command topic {COMMAND_TOPIC!r} is damaged at offset {offset}: {problem}. The catalog "
            "(streams, tables, types and queries) is rebuilt from this topic at every start, so the start "
            "stops here rather than rebuild something different. Restore the topic's files from a backup, "
            f"or start with the property {SKIP_CORRUPT_PROPERTY}=true to replay every other record (the "
            "statement this record held is then lost)."
        )


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

    def read_all(self) -> Iterator[Command | CorruptCommandError]:
        """Every recorded command, oldest first; a record that cannot be read back comes as the
        :class:`CorruptCommandError` describing it (yielded, not raised, so the caller decides whether
        to stop or to go on past it). A topic whose columns are not ``STATEMENT`` and ``CONFIG`` text
        raises it: no record of it can be read."""
        if not self.log.has_topic(COMMAND_TOPIC):
            return
        partition = self.log.topic(COMMAND_TOPIC).partition(0)
        offset = int(partition.start_offset)
        result = partition.read(offset)
        for batch in result.batches:
            for name in ("STATEMENT", "CONFIG"):
                if batch.schema.get_field_index(name) < 0 or not pa.types.is_string(batch.schema.field(name).type):
                    raise CorruptCommandError(
                        offset, f"its records have no {name} column of text (the columns are {batch.schema.names})"
                    )
            statements = batch.column("STATEMENT").to_pylist()
            configs = batch.column("CONFIG").to_pylist()
            for statement, config in zip(statements, configs):
                yield _decode(offset, statement, config)
                offset += 1

    def next_sequence_number(self) -> int:
        if not self.log.has_topic(COMMAND_TOPIC):
            return 0
        return int(self.log.topic(COMMAND_TOPIC).partition(0).end_offset)


def _decode(offset: int, statement: str | None, config: str | None) -> Command | CorruptCommandError:
    """One record as a command, or the error saying why it is not one."""
    if statement is None or not statement.strip():
        return CorruptCommandError(offset, "its STATEMENT is empty" if statement is not None else "its STATEMENT is null")
    if not config:
        return Command(statement, {}, offset)
    try:
        values = orjson.loads(config)
    except orjson.JSONDecodeError as error:
        return CorruptCommandError(offset, f"its CONFIG {_excerpt(config)} is not JSON ({error})")
    if not isinstance(values, dict):
        return CorruptCommandError(offset, f"its CONFIG {_excerpt(config)} is not a JSON object of properties")
    return Command(statement, values, offset)


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
