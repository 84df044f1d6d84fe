"""Exporting a stream or table to Parquet: ``headwater export NAME --to PATH.parquet``.

An export is :func:`~headwater.engine.historical.reading.read_query` (the source's columns, then ROWTIME,
ROWPARTITION and ROWOFFSET, within ``[since, until)`` and ``where``) written to one Parquet file. A stream
is exported segment by segment, so memory stays at one segment's rows and progress is reported after
each; segments outside the time range are not read at all. A table (its latest row per key) is one step.

The file is written under a temporary name next to the target and renamed over it at the end, so a
failed or interrupted export leaves no half-written file. Reading it back in DuckDB
(``SELECT * FROM 'PATH.parquet'``) gives the rows and types the historical query gives.

The command-line wiring is two functions the ``headwater`` command calls: :func:`add_export_parser`
adds the subcommand, :func:`run_export_command` runs it with a progress bar on stderr.

Example::

    report = export(engine, "orders", "orders.parquet", since="2024-05-01", where="QTY > 2",
                    progress=lambda p: print(p.segments_done, p.segments_total))
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from headwater.engine.historical.ksql_plan import KsqlPlanner
from headwater.engine.historical.plan import RelationMode
from headwater.engine.historical.reading import find_source, read_query
from headwater.engine.historical.session import HistoricalSession
from headwater.engine.historical.times import TimeLike
from headwater.engine.types import to_arrow
from headwater.errors import ExecutionError, PlanError

__all__ = [
    "ExportProgress",
    "ExportReport",
    "ProgressBar",
    "add_export_parser",
    "export",
    "run_export_command",
]


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """How far an export is: segments done of those to read, and rows written so far."""

    segments_done: int
    segments_total: int
    rows_written: int

    @property
    def fraction(self) -> float:
        return 1.0 if self.segments_total == 0 else self.segments_done / self.segments_total


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote.

    Attributes:
        name: the stream or table.
        path: the Parquet file.
        rows: rows written.
        segments_read: segments read (of ``segments_total`` in the topic).
        undecodable_records: records skipped because they did not decode, per topic.
        seconds: wall-clock time.
    """

    name: str
    path: Path
    rows: int
    segments_read: int
    segments_total: int
    undecodable_records: dict[str, int]
    seconds: float


ProgressCallback = Callable[[ExportProgress], None]


def export(
    engine: Any,
    name: str,
    path: str | os.PathLike[str],
    *,
    since: TimeLike | None = None,
    until: TimeLike | None = None,
    where: str | None = None,
    progress: ProgressCallback | None = None,
    config: Any = None,
) -> ExportReport:
    """Write the rows of stream or table ``name`` to the Parquet file ``path`` (see the module docstring).

    Raises:
        PlanError: unknown source, bad time or ``where``.
        ExecutionError: the file cannot be written.
    """
    started = time.perf_counter()
    target = Path(path)
    source = find_source(engine.catalog, name)
    query = read_query(source, since, until, where)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with HistoricalSession(engine, config) as session:
        plan = KsqlPlanner(engine.catalog, engine.registry, session.config, session.udfs).plan(query)
        (request,) = plan.relations
        schema = pa.schema([pa.field(c.name, to_arrow(c.type)) for c in plan.columns])
        # which segments to read: a dry registration selects them without reading any
        selection = session.registrar.register(request, dry_run=True)
        snapshot_segments = list(selection.selected)
        steps: list[set[str] | None] = (
            [{p} for p in snapshot_segments] if request.mode is RelationMode.STREAM else [None]
        )
        rows = 0
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(temporary, schema) as writer:
                if progress is not None:
                    progress(ExportProgress(0, len(steps), 0))
                for done, only in enumerate(steps, start=1):
                    session.registrar.register(request, only=only)
                    table = session.execute(plan)
                    if table.num_rows:
                        writer.write_table(table.cast(schema))
                        rows += table.num_rows
                    if progress is not None:
                        progress(ExportProgress(done, len(steps), rows))
            os.replace(temporary, target)
        except OSError as error:
            raise ExecutionError(f"Cannot write {target}: {error.strerror or error}") from None
        finally:
            if temporary.exists():
                temporary.unlink()
        return ExportReport(
            source.name,
            target,
            rows,
            len(snapshot_segments) if request.mode is RelationMode.STREAM else selection.segments_selected,
            selection.segments_total,
            session.report.counts,
            time.perf_counter() - started,
        )


class ProgressBar:
    """A one-line progress bar on a terminal (``[#####.....]  52%  3/6 segments  1,234,567 rows``),
    redrawn in place; nothing when ``enabled`` is False."""

    def __init__(self, stream: TextIO, enabled: bool, width: int = 30) -> None:
        self.stream = stream
        self.enabled = enabled
        self.width = width
        self._drawn = False

    def __call__(self, state: ExportProgress) -> None:
        if not self.enabled:
            return
        filled = round(state.fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {state.fraction * 100:5.1f}%  {state.segments_done}/{state.segments_total} "
            f"segments  {state.rows_written:,} rows"
        )
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def add_export_parser(commands: Any, parents: list[argparse.ArgumentParser] | None = None) -> argparse.ArgumentParser:
    """Add ``export`` to the ``headwater`` command's subcommands (an ``add_subparsers()`` object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "export",
        parents=parents or [],
        help="write a stream or table to a Parquet file",
        description="Write the rows of a stream or table (its latest row per key) to a Parquet file, with "
        "ROWTIME, ROWPARTITION and ROWOFFSET. Times are milliseconds since the epoch or ISO-8601 "
        "(2024-05-01, 2024-05-01T12:00:00Z); --since is inclusive, --until exclusive.",
    )
    parser.add_argument("name", help="the stream or table")
    parser.add_argument("--to", required=True, metavar="PATH.parquet", help="the Parquet file to write")
    parser.add_argument("--since", metavar="TIME", help="only rows with ROWTIME at or after TIME")
    parser.add_argument("--until", metavar="TIME", help="only rows with ROWTIME before TIME")
    parser.add_argument("--where", metavar="EXPR", help="only rows for which this ksqlDB expression is true")
    parser.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress bar on stderr: auto shows it on a terminal",
    )
    return parser


def run_export_command(
    args: argparse.Namespace, data_dir: str | os.PathLike[str], err: TextIO | None = None
) -> int:
    """Run ``headwater export`` over the engine in ``data_dir``; returns the exit status.

    Persistent queries are not started (the engine opens with ``background=False``).
    """
    from headwater.engine import Engine

    err = err or sys.stderr
    if not str(args.to).endswith(".parquet"):
        raise PlanError(f"--to must name a .parquet file, not {args.to}")
    show = args.progress == "always" or (args.progress == "auto" and err.isatty())
    bar = ProgressBar(err, show)
    with Engine(data_dir, background=False) as engine:
        try:
            report = export(
                engine, args.name, args.to, since=args.since, until=args.until, where=args.where, progress=bar
            )
        finally:
            bar.finish()
    skipped = sum(report.undecodable_records.values())
    note = f", {skipped} undecodable record(s) skipped (see KSQL_PROCESSING_LOG)" if skipped else ""
    err.write(
        f"Exported {report.rows:,} rows of {report.name} to {report.path} "
        f"({report.segments_read} of {report.segments_total} segments read, {report.seconds:.1f} s{note})\n"
    )
    return 0

