"""``headwater print TOPIC``: a topic's records as text, laid out as ksqlDB's ``PRINT`` lays them out.

Each record is one line, after ``Key format:`` and ``Value format:`` lines naming the formats detected
from the first record, exactly as the ``PRINT`` statement shows them (the rendering is the engine's,
:mod:`headwater.engine.runtime.print_topic`, so the two never differ)::

    Key format: KAFKA_STRING
    Value format: JSON
    rowtime: 2024/05/01 09:30:00.123 Z, key: Page_12, value: {"VIEWTIME":1714555800123}, partition: 0

Printing starts at the end of the topic (new records only) or, with ``--from-beginning``, at its start,
and goes on until Ctrl-C, ``--limit`` records, or with ``--exit-at-end`` the end of the topic as it was
when printing started. "Press CTRL-C to interrupt" goes to stderr once the starting offsets are fixed,
as ksqlDB's CLI says it.

Like the topic commands, this reads the event log directly (no engine is opened), so it can watch a
topic that a shell in another terminal is writing. Waiting for new records uses the log's tail read,
which sleeps until an append wakes it (no busy polling).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from headwater.engine.runtime.print_topic import render_batch
from headwater.repl.console import Console
from headwater.repl.topics import open_log
from headwater.storage import EventLog, Topic

__all__ = ["INTERRUPT_HINT", "print_records", "run_print_command"]

INTERRUPT_HINT = "Press CTRL-C to interrupt"
_READ_CHUNK = 10_000
_IDLE_WAIT_S = 0.5


def print_records(
    topic: Topic,
    *,
    from_beginning: bool = False,
    limit: int | None = None,
    exit_at_end: bool = False,
    partitions: list[int] | None = None,
) -> Iterator[list[str]]:
    """The lines ``headwater print`` shows, a batch of records at a time as they arrive (never ends
    unless ``limit`` or ``exit_at_end``)."""
    chosen = partitions if partitions is not None else list(range(topic.num_partitions))
    logs = [topic.partition(p) for p in chosen]
    positions = [log.start_offset if from_beginning else log.end_offset for log in logs]
    ends = [log.end_offset for log in logs] if exit_at_end else None
    key_columns = topic.key_columns()
    remaining = limit
    announced = False
    yield []  # the starting offsets are fixed: the caller may say so
    turn = 0
    while remaining is None or remaining > 0:
        progressed = False
        for index, log in enumerate(logs):
            want = _READ_CHUNK if remaining is None else min(_READ_CHUNK, remaining)
            if ends is not None:
                want = min(want, max(ends[index] - positions[index], 0))
                if want == 0:
                    continue
            result = log.read(positions[index], max_records=want)
            progressed |= result.next_offset != positions[index]
            positions[index] = result.next_offset
            for batch in result.batches:
                rendered = render_batch(batch, log.partition, key_columns)
                if remaining is not None:
                    rendered = rendered[:remaining]
                    remaining -= len(rendered)
                lines = [line for _, _, line in rendered]
                if not announced and rendered:
                    key_format, value_format, _ = rendered[0]
                    lines[:0] = [f"Key format: {key_format}", f"Value format: {value_format}"]
                    announced = True
                yield lines
            if remaining == 0:
                return
        if progressed:
            continue
        if ends is not None:
            return
        # Nothing new anywhere: sleep on one partition's tail read (woken by an append), taking turns.
        index = turn % len(logs)
        turn += 1
        logs[index].read_wait(positions[index], max_records=1, timeout_s=_IDLE_WAIT_S / len(logs))


def find_topic_name(log: EventLog, name: str) -> str:
    """The topic ``name`` means: itself if it exists, else the one topic whose name matches it ignoring
    case (ksqlDB's PRINT rule, since sinks get upper-case names from unquoted identifiers)."""
    if log.has_topic(name):
        return name
    matches = [topic for topic in log.list_topics() if topic.upper() == name.upper()]
    return matches[0] if len(matches) == 1 else name


def run_print_command(args: argparse.Namespace, data_dir: Path, console: Console | None = None) -> int:
    """Run ``headwater print``; returns the exit status (0, also when stopped with Ctrl-C)."""
    console = console or Console()
    with open_log(data_dir) as log:
        topic = log.topic(find_topic_name(log, args.topic))
        partitions = None
        if args.partition is not None:
            if args.partition >= topic.num_partitions:
                console.error(f"--partition {args.partition}: topic {topic.name} has {topic.num_partitions} partition(s)")
                return 1
            partitions = [args.partition]
        try:
            started = False
            for lines in print_records(
                topic,
                from_beginning=args.from_beginning,
                limit=args.limit,
                exit_at_end=args.exit_at_end,
                partitions=partitions,
            ):
                if not started:
                    console.err.write(INTERRUPT_HINT + "\n")
                    console.err.flush()
                    started = True
                console.lines(lines)
        except KeyboardInterrupt:
            print("Topic printing ceased", file=sys.stderr)
    return 0
