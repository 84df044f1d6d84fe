"""``headwater produce TOPIC``: append one record per input line, in the spirit of kcat's producer.

The input (stdin, or a file) is read in blocks (:mod:`headwater.repl.lines`), each block checked and
turned into records at once (:mod:`headwater.repl.line_records`), and appended to the topic with one
call per block, so a load of millions of lines costs a few hundred appends.

A bad line is never lost silently. It is reported on stderr with its line number and the reason, and
then, depending on ``--skip-bad-lines``:

- without it (the default), the whole load is rejected: every block is checked before anything is
  written, every bad line is listed, nothing is appended, and the exit status is 1;
- with it, the good lines are written and each bad line is listed; the exit status is 0.

Large inputs get a progress bar on stderr (when stderr is a terminal; ``--progress always|never``
overrides). A summary line on stderr says how many records were written, how many lines were skipped as
blank and how many were bad; stdout stays empty.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import stat
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

import numpy as np
import pyarrow.compute as pc

from headwater.errors import HeadwaterError, StorageError
from headwater.repl.keys import KeySerializer
from headwater.repl.line_records import (
    BadLine,
    CsvLayout,
    LineParser,
    ParsedBlock,
    RawCsvParser,
    RawJsonParser,
    parse_csv_fields,
)
from headwater.repl.lines import LineBlock, read_line_blocks
from headwater.repl.progress import ProgressBar
from headwater.repl.topics import open_log
from headwater.storage import Topic, TopicNotFoundError

__all__ = ["ProduceError", "ProduceOptions", "ProduceReport", "produce", "run_produce_command"]

# Below this input size (when the size is known) a load is too quick for a progress bar to help.
PROGRESS_THRESHOLD_BYTES = 1 << 20


class ProduceError(HeadwaterError, ValueError):
    """Input or options that ``headwater produce`` cannot load (the message says which line or flag)."""


@dataclass(frozen=True, slots=True)
class ProduceOptions:
    """What to load and how (the command line's flags)."""

    input_format: str
    key_field: str | None = None
    key_format: str = "KAFKA"
    key_type: str = "STRING"
    header: bool = False
    delimiter: str = ","
    skip_bad_lines: bool = False
    partition: int | None = None


@dataclass
class ProduceReport:
    """What a load did."""

    records: int = 0
    blank_lines: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    written: bool = False

    def interrupted_summary(self, topic: str) -> str:
        """What was kept when the load was interrupted: the records appended so far (with
        --skip-bad-lines), or nothing (a load that rejects bad lines writes only after checking them all)."""
        if self.records == 0:
            return f"Interrupted: nothing written to topic {topic}."
        return (
            f"Interrupted: {self.records:,} record{'s' if self.records != 1 else ''} written to topic {topic} "
            "(they stay); the rest of the input was not read."
        )

    def summary(self, topic: str) -> str:
        parts = [f"{self.records:,} record{'s' if self.records != 1 else ''} written to topic {topic}"]
        if not self.written:
            parts = [f"Nothing written to topic {topic}: {len(self.bad_lines):,} bad line(s) "
                     "(use --skip-bad-lines to write the good ones)"]
        elif self.bad_lines:
            parts.append(f"{len(self.bad_lines):,} bad line(s) skipped")
        if self.blank_lines:
            parts.append(f"{self.blank_lines:,} blank line(s) ignored")
        return "; ".join(parts) + "."


def _first_non_blank(block: LineBlock) -> int | None:
    """Index of the block's first non-empty line, if any."""
    found = np.flatnonzero(pc.binary_length(block.lines).to_numpy(zero_copy_only=False) > 0)
    return int(found[0]) if len(found) else None


def _chain(first: Iterable[LineBlock], rest: Iterator[LineBlock]) -> Iterator[LineBlock]:
    yield from first
    yield from rest


def _first_line(
    blocks: Iterator[LineBlock], *, consume: bool
) -> tuple[tuple[int, bytes] | None, Iterator[LineBlock]]:
    """The first non-blank line (number and bytes) and the input to go on with: without that line when
    ``consume`` (a CSV header is not a record), else unchanged."""
    seen: list[LineBlock] = []
    for block in blocks:
        index = _first_non_blank(block)
        if index is None:
            seen.append(block)
            continue
        found = (block.line_number(index), block.lines[index].as_py())
        if consume:
            rest = LineBlock(block.lines.slice(index + 1), block.first_line + index + 1, block.bytes_read)
            return found, _chain([*seen, rest], blocks)
        return found, _chain([*seen, block], blocks)
    return None, iter(seen)


def _csv_layout(
    blocks: Iterator[LineBlock], options: ProduceOptions, known_field_count: int | None
) -> tuple[CsvLayout | None, Iterator[LineBlock]]:
    """The CSV field layout, from the header line, else the known column count (typed topics), else the
    first record; None for empty input."""
    if known_field_count is not None and not options.header:
        return CsvLayout(None, known_field_count, options.delimiter), blocks
    first, blocks = _first_line(blocks, consume=options.header)
    if first is None:
        return None, blocks
    number, line = first
    fields = _parse_fields(line, number, options.delimiter, "header" if options.header else "first line")
    names = tuple(fields) if options.header else None
    return CsvLayout(names, len(fields), options.delimiter), blocks


def _parse_fields(line: bytes, number: int, delimiter: str, what: str) -> list[str]:
    try:
        return parse_csv_fields(line, delimiter)
    except Exception as error:  # pyarrow's parse errors: say which line, in our words
        raise ProduceError(
            f"line {number}: cannot read the {what} of the CSV input, which sets the number of fields: {error}"
        ) from None


def _parser_for(topic: Topic, options: ProduceOptions, layout: CsvLayout | None) -> LineParser:
    if not topic.is_raw:
        from headwater.repl.typed_records import typed_parser

        if options.key_field is not None:
            raise ProduceError(
                f"Topic {topic.name} is typed: record keys come from its key columns "
                f"({', '.join(topic.key_columns()) or 'none'}); --key applies to raw topics only."
            )
        return typed_parser(topic, options, layout)
    keys = KeySerializer(options.key_format, options.key_type)
    if options.input_format == "json":
        return RawJsonParser(options.key_field, keys)
    assert layout is not None
    key_index = None
    if options.key_field is not None:
        try:
            key_index = layout.field_index(options.key_field)
        except ValueError as error:
            raise ProduceError(f"--key {options.key_field}: {error}") from None
    return RawCsvParser(layout, key_index, keys)


def produce(
    topic: Topic,
    stream: BinaryIO,
    options: ProduceOptions,
    *,
    errors: TextIO,
    progress: ProgressBar | None = None,
    report: ProduceReport | None = None,
) -> ProduceReport:
    """Load ``stream`` into ``topic`` (see the module docstring); bad lines are listed on ``errors``.

    ``report`` (a fresh one when not given) is filled in as the load goes, so a caller interrupted by
    Ctrl-C still knows how many records were written. An interrupt never splits an append: it is held
    until the block being appended is in the log.

    Raises:
        ProduceError: options that do not fit the topic or the input.
        StorageError: the log refused an append (the message says how much was written before).
    """
    report = ProduceReport() if report is None else report
    blocks: Iterator[LineBlock] = read_line_blocks(stream)
    layout = None
    if options.input_format == "csv":
        known = None
        if not topic.is_raw:
            from headwater.repl.typed_records import line_field_count

            known = line_field_count(topic)
        layout, blocks = _csv_layout(blocks, options, known)
        if layout is None:
            report.written = True
            return report
    parser = _parser_for(topic, options, layout)
    # Without --skip-bad-lines nothing may be written until every line has been checked.
    pending: list[ParsedBlock] = []
    bytes_done = checked_records = 0
    for block in blocks:
        parsed = parser.parse(block)
        bytes_done += block.bytes_read
        checked_records += parsed.batch.num_rows
        report.blank_lines += parsed.blank_lines
        report.bad_lines.extend(parsed.bad_lines)
        for bad in parsed.bad_lines:
            errors.write(f"line {bad.line}: {bad.reason}\n")
        if options.skip_bad_lines:
            _append(topic, parsed, options, report)
        elif not report.bad_lines:
            pending.append(parsed)
        if progress is not None:
            progress.update(bytes_done=bytes_done, records=checked_records)
    if report.bad_lines and not options.skip_bad_lines:
        return report
    for parsed in pending:
        _append(topic, parsed, options, report)
    report.written = True
    return report


def _append(topic: Topic, parsed: ParsedBlock, options: ProduceOptions, report: ProduceReport) -> None:
    if parsed.batch.num_rows == 0:
        return
    with _interrupts_held():
        _append_block(topic, parsed, options, report)


def _append_block(topic: Topic, parsed: ParsedBlock, options: ProduceOptions, report: ProduceReport) -> None:
    try:
        if options.partition is not None:
            topic.append(parsed.batch, partition=options.partition)
        elif parsed.key_bytes is not None:
            topic.append(parsed.batch, key_bytes=parsed.key_bytes)
        else:
            topic.append(parsed.batch)
    except StorageError as error:
        raise type(error)(f"{error} (after {report.records:,} records were written)") from None
    report.records += parsed.batch.num_rows


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT while a block is appended, then raise KeyboardInterrupt if one came.

    One block's records go to several partitions in several appends; an interrupt between them would
    leave part of the block written and uncounted. Only the main thread can set signal handlers; elsewhere
    (a test's thread) nothing is held.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _input_size(stream: BinaryIO) -> int | None:
    """The input's size when it is a regular file (for a percentage), else None."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def run_produce_command(args: argparse.Namespace, data_dir: Path) -> int:
    """Run ``headwater produce``; returns the exit status."""
    options = ProduceOptions(
        input_format=args.format,
        key_field=args.key,
        key_format=args.key_format,
        key_type=args.key_type,
        header=args.header,
        delimiter=args.delimiter,
        skip_bad_lines=args.skip_bad_lines,
        partition=args.partition,
    )
    if options.header and options.input_format != "csv":
        raise ProduceError("--header applies to --format csv only")
    if len(options.delimiter) != 1:
        raise ProduceError(f"--delimiter must be a single character, got {options.delimiter!r}")
    try:
        stream: BinaryIO = open(args.input, "rb") if args.input else sys.stdin.buffer  # noqa: SIM115
    except OSError as error:
        raise ProduceError(f"Cannot read {args.input}: {error.strerror}") from None
    try:
        with open_log(data_dir) as log:
            try:
                topic = log.topic(args.topic)
            except TopicNotFoundError:
                raise ProduceError(
                    f"Topic {args.topic!r} does not exist; create it first: headwater topic create {args.topic}"
                ) from None
            if options.partition is not None and options.partition >= topic.num_partitions:
                raise ProduceError(
                    f"--partition {options.partition}: topic {topic.name} has {topic.num_partitions} partition(s)"
                )
            total = _input_size(stream)
            show = args.progress == "always" or (
                args.progress == "auto"
                and sys.stderr.isatty()
                and (total is None or total >= PROGRESS_THRESHOLD_BYTES)
            )
            progress = ProgressBar(sys.stderr, total_bytes=total) if show else None
            report = ProduceReport()
            try:
                produce(topic, stream, options, errors=sys.stderr, progress=progress, report=report)
            except KeyboardInterrupt:
                if progress is not None:
                    progress.finish()
                print(report.interrupted_summary(args.topic), file=sys.stderr)
                raise
            if progress is not None:
                progress.finish()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    print(report.summary(args.topic), file=sys.stderr)
    return 0 if report.written else 1
