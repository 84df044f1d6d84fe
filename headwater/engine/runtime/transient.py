"""Transient queries: push queries (``EMIT CHANGES``) and historical SELECTs over streams (DuckDB).

A :class:`QueryStream` is what :meth:`headwater.engine.Engine.stream` returns: ``header`` (a
:class:`~headwater.engine.entities.QueryHeader`), iteration over :class:`~headwater.engine.entities.QueryRow`
as rows come, ``close()``, and ``final_message`` once the query ended by itself.

* **Push queries** run the stateless operators on a thread over the source's partitions, from the end
  (or from the beginning with ``auto.offset.reset=earliest``), tailing with ``read_wait``; LIMIT ends
  them with "Limit Reached". Records without a value produce no rows.
* **Pull queries** (a SELECT without EMIT CHANGES) over a table read its materialized state
  (:mod:`headwater.engine.runtime.pull`); over streams they are historical queries, which DuckDB answers
  over the topics' segments (:func:`headwater.engine.historical.run_select`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pyarrow as pa

from headwater.engine.catalog import SourceType
from headwater.engine.entities import FinalMessage, QueryHeader, QueryRow
from headwater.engine.operators.base import null_value_mask, without_null_values
from headwater.engine.operators.limit import LimitOperator
from headwater.engine.operators.source_scan import PARTITION_COLUMN
from headwater.engine.planner.builder import BuiltQuery, QueryBuilder
from headwater.engine.planner.graph import OperatorGraph
from headwater.engine.planner.physical import LoweringContext, lower
from headwater.engine.runtime.processing_log import ProcessingLogEntry
from headwater.engine.schema import Namespace, format_type
from headwater.engine.statements.context import StatementContext
from headwater.errors import ExecutionError, PlanError
from headwater.parser import ast

__all__ = ["QueryStream", "open_stream"]

_END = object()


class QueryStream:
    """Rows of one transient query, as they come."""

    def __init__(self, header: QueryHeader) -> None:
        self.header = header
        self.final_message: FinalMessage | None = None
        self._rows: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()
        self._error: BaseException | None = None

    # producer side
    def _put(self, row: QueryRow) -> None:
        self._rows.put(row)

    def _finish(self, message: str | None = None, error: BaseException | None = None) -> None:
        if message is not None:
            self.final_message = FinalMessage(message)
        self._error = error
        self._rows.put(_END)

    # consumer side
    def __iter__(self) -> Iterator[QueryRow]:
        while True:
            item = self._rows.get()
            if item is _END:
                if self._error is not None:
                    raise self._error
                return
            yield item

    def close(self) -> None:
        """Stop the query; iteration ends after the rows already produced."""
        if not self._closed.is_set():
            self._closed.set()
            self._rows.put(_END)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()


def _header(built: BuiltQuery, query_id: str, *, keys: bool = True) -> QueryHeader:
    """The header of a query's rows; a push query, or a pull query over a stream, marks no column KEY,
    as ksqlDB's do not."""
    columns = [c.column for c in built.columns]
    if not keys:
        columns = [replace(c, namespace=Namespace.VALUE) for c in columns]
    schema = ", ".join(c.describe() for c in columns)
    return QueryHeader(
        query_id, schema, tuple(c.name for c in columns), tuple(format_type(c.type) for c in columns)
    )


def _rows(batch: pa.RecordBatch, names: list[str], *, tombstones: bool = False) -> list[QueryRow]:
    columns = [batch.column(n).to_pylist() for n in names]
    if not tombstones:
        return [QueryRow(tuple(values)) for values in zip(*columns)]
    deleted = null_value_mask(batch)
    if deleted is None:
        return [QueryRow(tuple(values)) for values in zip(*columns)]
    return [QueryRow(tuple(values), bool(gone)) for values, gone in zip(zip(*columns), deleted.tolist())]


def open_stream(ctx: StatementContext, statement: ast.Statement) -> QueryStream:
    if isinstance(statement, ast.PrintTopic):
        return _print(ctx, statement)
    if not isinstance(statement, ast.SelectStatement):
        raise PlanError("Only SELECT and PRINT statements stream rows; use Engine.execute for the others.")
    query = statement.query
    builder = QueryBuilder(ctx.catalog, ctx.engine.registry, ctx.config.as_dict(), ctx.engine.partition_count)
    if query.emit is None:
        return _pull(ctx, query, statement.text)
    built = builder.build(query, sink_name=None, persistent=False)
    query_id = ctx.engine.next_transient_id()
    stream = QueryStream(_header(built, query_id, keys=False))
    lowering = _lowering(ctx, query_id)
    graph = lower(built.plan, lowering)
    earliest = str(ctx.config.get("auto.offset.reset", "latest")).lower() == "earliest"
    names = [c.column.name for c in built.columns]
    # The start positions are taken now, not on the thread: a record appended after stream() returns
    # is always seen.
    positions: dict[tuple[str, int], int] = {}
    for topic_name in graph.source_topics:
        topic = ctx.log.topic(topic_name)
        ends = topic.end_offsets()
        for p in range(len(ends)):
            positions[(topic_name, p)] = int(topic.partition(p).start_offset) if earliest else int(ends[p])
    table = built.kind is SourceType.TABLE
    thread = threading.Thread(
        target=_run_push, args=(ctx, graph, stream, names, positions, table), name=query_id, daemon=True
    )
    thread.start()
    return stream


def _lowering(ctx: StatementContext, query_id: str) -> LoweringContext:
    engine = ctx.engine

    def report_row(kind: str, row: int, message: str) -> None:
        engine.processing_log.write([ProcessingLogEntry.processing(query_id, message, None)])

    def report_record(
        topic: str, target: str, partition: int, offset: int, message: str, raw: bytes | None
    ) -> None:
        engine.processing_log.write(
            [ProcessingLogEntry.deserialization(query_id, topic, partition, target, message, raw, offset)]
        )

    base = engine._lowering_context(ctx, query_id)
    return LoweringContext(
        config=base.config,
        report_row=report_row,
        report_record=report_record,
        open_topic=base.open_topic,
        timestamp_parser=base.timestamp_parser,
    )


def _run_push(
    ctx: StatementContext,
    graph: OperatorGraph,
    stream: QueryStream,
    names: list[str],
    positions: dict[tuple[str, int], int],
    table: bool,
) -> None:
    """Tail every source partition and stream the rows the operators produce. Over a table the
    changes are rows and deletes come as tombstone rows; over a stream records without a value produce
    no row."""
    try:
        limit = graph.find(LimitOperator)
        assert limit is None or isinstance(limit, LimitOperator)
        if limit is not None and limit.limit == 0:
            stream._finish("Limit Reached")
            return
        while not stream.closed:
            progressed = False
            for (topic_name, partition), offset in positions.items():
                result = ctx.log.topic(topic_name).partition(partition).read(offset, max_records=10_000)
                if int(result.next_offset) == offset:
                    continue
                progressed = True
                positions[(topic_name, partition)] = int(result.next_offset)
                for batch in result.batches:
                    if batch.num_rows == 0:
                        continue
                    stored = batch.append_column(
                        PARTITION_COLUMN, pa.repeat(pa.scalar(partition, pa.int32()), batch.num_rows)
                    )
                    for out in graph.push(topic_name, stored):
                        rows = _rows(out, names, tombstones=True) if table else _rows(without_null_values(out), names)
                        for row in rows:
                            stream._put(row)
                    if limit is not None and limit.done:
                        stream._finish("Limit Reached")
                        return
            if not progressed:
                if not positions:
                    stream._closed.wait(0.1)
                else:
                    wait = 0.1 / max(1, len(positions))
                    for (topic_name, partition), offset in positions.items():
                        ctx.log.topic(topic_name).partition(partition).read_wait(offset, 1, wait)
    except BaseException as error:
        stream._finish(error=error if isinstance(error, Exception) else ExecutionError(str(error)))


def _print(ctx: StatementContext, statement: ast.PrintTopic) -> QueryStream:
    """PRINT topic [FROM BEGINNING] [INTERVAL n] [LIMIT n] as rows of one text column."""
    from headwater.engine.runtime.print_topic import render_batch

    log = ctx.log
    name = statement.topic
    if not log.has_topic(name):
        matches = [t for t in log.list_topics() if t.upper() == name.upper()]
        if len(matches) != 1:
            raise PlanError(
                f"Could not find topic '{name}', or the KSQL user does not have permissions to list the topic. "
                "Topic names are case-sensitive."
            )
        name = matches[0]
    topic = log.topic(name)
    key_columns = topic.key_columns()
    stream = QueryStream(QueryHeader(ctx.engine.next_transient_id(), "`TEXT` STRING", ("TEXT",), ("STRING",)))
    interval = max(1, statement.interval or 1)
    limit = statement.limit

    ends = topic.end_offsets()  # taken now, so a record appended after stream() returns is printed
    positions = {
        p: (int(topic.partition(p).start_offset) if statement.from_beginning else int(ends[p]))
        for p in range(len(ends))
    }

    def run() -> None:
        try:
            seen = printed = 0
            announced = False
            while not stream.closed:
                progressed = False
                for partition, offset in positions.items():
                    result = topic.partition(partition).read(offset, max_records=1000)
                    if int(result.next_offset) == offset:
                        continue
                    progressed = True
                    positions[partition] = int(result.next_offset)
                    for batch in result.batches:
                        for key_format, value_format, line in render_batch(batch, partition, key_columns):
                            seen += 1
                            if (seen - 1) % interval:
                                continue
                            if not announced:
                                stream._put(QueryRow((f"Key format: {key_format}",)))
                                stream._put(QueryRow((f"Value format: {value_format}",)))
                                announced = True
                            stream._put(QueryRow((line,)))
                            printed += 1
                            if limit is not None and printed >= limit:
                                stream._finish("Limit Reached")
                                return
                if not progressed:
                    for p, offset in positions.items():
                        topic.partition(p).read_wait(offset, 1, 0.1 / max(1, len(positions)))
        except Exception as error:  # handed to the consumer, who sees it on iteration
            stream._finish(error=error)

    threading.Thread(target=run, name="print-" + name, daemon=True).start()
    return stream


def _pull(ctx: StatementContext, query: ast.Query, text: str) -> Any:
    """A SELECT without EMIT CHANGES: a pull query over a table's materialized state
    (:mod:`headwater.engine.runtime.pull`), or a historical query over streams, answered by DuckDB
    (:func:`headwater.engine.historical.run_select`)."""
    from headwater.engine.historical import run_select
    from headwater.engine.runtime.pull import check_pull_query, is_table_pull, run_table_pull

    check_pull_query(ctx, query)
    table = is_table_pull(ctx, query)
    if table is None:
        return run_select(ctx.engine, text, query, ctx.config)
    built, batches = run_table_pull(ctx, query, table)
    stream = QueryStream(_header(built, ctx.engine.next_transient_id()))
    names = [c.column.name for c in built.columns]
    for batch in batches:
        for row in _rows(batch, names):
            stream._put(row)
    stream._finish()
    return stream
