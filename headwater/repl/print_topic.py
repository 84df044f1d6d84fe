"""``headwater print TOPIC``: a topic's records as text, laid out as ksqlDB's ``PRINT`` lays them out.

Each record is one line::

    rowtime: 2024/05/01 09:30:00.123 Z, key: Page_12, value: {"VIEWTIME":1714555800123,"USERID":"User_3"}, partition: 0

preceded by ``Key format:`` and ``Value format:`` lines, as in ksqlDB. Printing starts at the end of the
topic (new records only) or, with ``--from-beginning``, at its start, and goes on until Ctrl-C,
``--limit`` records, or with ``--exit-at-end`` the end of the topic as it was when printing caught up.

Like the topic commands, this reads the event log directly (no engine is opened), so it can watch a
topic that a shell in another terminal is writing. Waiting for new records uses the log's tail read,
which sleeps until an append wakes it (no busy polling).

Rendering is per record because its product is one line of text per record; the timestamps are
formatted for a whole batch at once.
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from headwater.repl.console import Console
from headwater.repl.topics import open_log
from headwater.repl.values import cell_text, json_default
from headwater.storage import KEY, SYSTEM_COLUMNS, TIMESTAMP, TOMBSTONE, VALUE, Topic
from headwater.storage.columns import is_key_field

__all__ = ["format_rowtimes", "print_records", "record_lines", "run_print_command"]

_READ_CHUNK = 10_000
_IDLE_WAIT_S = 0.5


def format_rowtimes(timestamps: pa.Array) -> list[str]:
    """Event times (ms since the epoch) as ksqlDB's PRINT shows them: ``2024/05/01 09:30:00.123 Z``.

    Example:
        >>> format_rowtimes(pa.array([0, 1714555800123]))
        ['1970/01/01 00:00:00.000 Z', '2024/05/01 09:30:00.123 Z']
    """
    as_time = timestamps.cast(pa.int64()).cast(pa.timestamp("ms"))
    # For millisecond timestamps %S prints seconds with their three decimals.
    stamped = pc.strftime(as_time, format="%Y/%m/%d %H:%M:%S Z")
    return [str(text) for text in stamped.to_pylist()]


def _bytes_text(data: bytes | None) -> str:
    """Raw key or value bytes as text: UTF-8 when they are, else base64 (marked, so it is not mistaken
    for the data itself)."""
    if data is None:
        return "<null>"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data).decode("ascii")


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=json_default, option=orjson.OPT_NON_STR_KEYS).decode()


def _typed_key_text(values: tuple[Any, ...]) -> str:
    """A typed record's key: the value itself for one key column (strings unquoted, as PRINT shows a
    KAFKA string key), a JSON array for several."""
    if all(value is None for value in values):
        return "<null>"
    if len(values) == 1:
        return cell_text(values[0])
    return _json_text(list(values))


def record_lines(batch: pa.RecordBatch, partition: int) -> list[str]:
    """One PRINT line per record of a stored batch (raw or typed)."""
    rowtimes = format_rowtimes(batch.column(TIMESTAMP))
    names = batch.schema.names
    if KEY in names and VALUE in names:
        keys = [_bytes_text(k) for k in batch.column(KEY).to_pylist()]
        values = [_bytes_text(v) for v in batch.column(VALUE).to_pylist()]
    else:
        key_fields = [f.name for f in batch.schema if is_key_field(f)]
        value_fields = [f.name for f in batch.schema if f.name not in SYSTEM_COLUMNS and not is_key_field(f)]
        key_columns = [batch.column(name).to_pylist() for name in key_fields]
        keys = [_typed_key_text(row) for row in zip(*key_columns)] if key_fields else ["<null>"] * batch.num_rows
        tombstones = batch.column(TOMBSTONE).to_pylist() if TOMBSTONE in names else [False] * batch.num_rows
        value_rows = batch.select(value_fields).to_pylist() if value_fields else [{}] * batch.num_rows
        values = ["<null>" if dead else _json_text(row) for row, dead in zip(value_rows, tombstones)]
    return [
        f"rowtime: {rowtime}, key: {key}, value: {value}, partition: {partition}"
        for rowtime, key, value in zip(rowtimes, keys, values)
    ]


def _format_lines(topic: Topic) -> list[str]:
    """The ``Key format`` / ``Value format`` lines: the formats recorded with the topic when a stream or
    table was declared over it, else what the bytes are (raw topics) or how they are shown (typed)."""
    metadata = topic.metadata
    key_format = metadata.get("key_format") or ("bytes, shown as UTF-8 text" if topic.is_raw else "KAFKA")
    value_format = metadata.get("value_format") or ("bytes, shown as UTF-8 text" if topic.is_raw else "JSON")
    return [f"Key format: {key_format}", f"Value format: {value_format}"]


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
    remaining = limit
    yield _format_lines(topic)
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
                lines = record_lines(batch, log.partition)
                if remaining is not None:
                    lines = lines[:remaining]
                    remaining -= len(lines)
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
        result = logs[index].read_wait(positions[index], max_records=1, timeout_s=_IDLE_WAIT_S / len(logs))
        if result.batches:
            continue  # the next round reads it, with the other partitions


def run_print_command(args: argparse.Namespace, data_dir: Path, console: Console | None = None) -> int:
    """Run ``headwater print``; returns the exit status (0, also when stopped with Ctrl-C)."""
    console = console or Console()
    with open_log(data_dir) as log:
        topic = log.topic(args.topic)
        partitions = None
        if args.partition is not None:
            if args.partition >= topic.num_partitions:
                console.error(f"--partition {args.partition}: topic {topic.name} has {topic.num_partitions} partition(s)")
                return 1
            partitions = [args.partition]
        try:
            for lines in print_records(
                topic,
                from_beginning=args.from_beginning,
                limit=args.limit,
                exit_at_end=args.exit_at_end,
                partitions=partitions,
            ):
                console.lines(lines)
        except KeyboardInterrupt:
            print("Topic printing ceased", file=sys.stderr)
    return 0
