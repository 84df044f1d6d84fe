"""Write generated events where each system reads them: Headwater topics, Parquet files, Arrow files.

One pass over the generator feeds every destination, so all systems see exactly the same events:

* **Headwater**: three typed topics (``person``, ``auction``, ``bid``; see :mod:`benchmarks.nexmark.schemas`),
  appended with :meth:`headwater.storage.Topic.append` as Arrow batches, each record's ``__timestamp`` set
  to its DATETIME. :func:`declare_streams` then declares the streams PERSON, AUCTION and BID over them with
  ``CREATE STREAM``, so SQL sees them.
* **DuckDB**: ``<kind>.parquet`` (uncompressed, one row group per generated chunk).
* **Flink**: ``<kind>.arrows``, the Arrow IPC stream format, read by the job's own Arrow file source (see
  :mod:`benchmarks.nexmark.flink_jar` for why not Parquet), and an empty ``<kind>.empty.arrows`` with the
  same schema (the JVM's warm-up job reads it when there is no sample).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.nexmark.generator import EventChunk, NexmarkGenerator
from benchmarks.nexmark.schemas import EVENT_KINDS, EventKind
from headwater.storage import EventLog, TopicConfig

__all__ = ["Dataset", "declare_streams", "load", "stored_batch"]

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Dataset:
    """Where one run's events are and how many of each kind there are.

    Attributes:
        directory: the directory holding the Parquet and Arrow files.
        events: total events.
        counts: events per kind, by topic name.
        bytes_per_kind: Arrow bytes (user columns) per kind, by topic name.
    """

    directory: Path
    events: int
    counts: dict[str, int] = field(default_factory=dict)
    bytes_per_kind: dict[str, int] = field(default_factory=dict)

    def parquet(self, kind: EventKind) -> Path:
        """The Parquet file of one kind."""
        return self.directory / f"{kind.topic}.parquet"

    def arrow(self, kind: EventKind, *, empty: bool = False) -> Path:
        """The Arrow IPC stream file of one kind (or its empty twin)."""
        return self.directory / (f"{kind.topic}.empty.arrows" if empty else f"{kind.topic}.arrows")


def stored_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch as appended to its topic: the user columns plus ``__timestamp`` = DATETIME in ms."""
    return batch.append_column("__timestamp", batch.column("DATETIME").cast(pa.int64()))


def load(
    generator: NexmarkGenerator,
    directory: Path,
    log: EventLog | None,
    *,
    partitions: int = 1,
    parquet: bool = True,
    arrow: bool = True,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Generate every event once and write it to the topics of ``log`` (when given) and to the files.

    Args:
        generator: the events.
        directory: where the files go (created when missing).
        log: the event log to create the three topics in, or None for files only.
        partitions: partitions per topic; chunks are spread over them round robin.
        parquet: write the Parquet files (for DuckDB).
        arrow: write the Arrow stream files (for Flink).
        progress: called with the number of events written so far after each chunk.
    """
    directory.mkdir(parents=True, exist_ok=True)
    topics = {}
    if log is not None:
        for kind in EVENT_KINDS:
            topics[kind.topic] = log.create_topic(kind.topic, TopicConfig(partitions=partitions), schema=kind.schema)
    counts = dict.fromkeys((k.topic for k in EVENT_KINDS), 0)
    sizes = dict.fromkeys((k.topic for k in EVENT_KINDS), 0)
    dataset = Dataset(directory, generator.config.events, counts, sizes)
    with contextlib.ExitStack() as stack:
        writers: list[tuple[EventKind, Any]] = []
        for kind in EVENT_KINDS:
            if parquet:
                writers.append((kind, stack.enter_context(
                    pq.ParquetWriter(dataset.parquet(kind), kind.schema, compression="none"))))
            if arrow:
                writers.append((kind, stack.enter_context(
                    pa.ipc.new_stream(str(dataset.arrow(kind)), kind.schema))))
                with pa.ipc.new_stream(str(dataset.arrow(kind, empty=True)), kind.schema):
                    pass
        done = 0
        for index, chunk in enumerate(generator.chunks()):
            _write_chunk(chunk, index, topics, writers, partitions, counts, sizes)
            done += chunk.events
            if progress is not None:
                progress(done)
    return dataset


def _write_chunk(chunk: EventChunk, index: int, topics: dict[str, Any], writers: list[tuple[EventKind, Any]],
                 partitions: int, counts: dict[str, int], sizes: dict[str, int]) -> None:
    for kind in EVENT_KINDS:
        batch = chunk.batch(kind)
        if batch.num_rows == 0:
            continue
        counts[kind.topic] += batch.num_rows
        sizes[kind.topic] += batch.nbytes
        if kind.topic in topics:
            topics[kind.topic].append(stored_batch(batch), partition=index % partitions)
    for kind, writer in writers:
        batch = chunk.batch(kind)
        if batch.num_rows:
            writer.write_batch(batch)


def declare_streams(engine: Any) -> None:
    """``CREATE STREAM`` PERSON, AUCTION and BID over the topics :func:`load` created."""
    engine.execute("\n".join(kind.create_stream_sql() for kind in EVENT_KINDS))
