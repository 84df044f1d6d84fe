"""The engine: one data directory, its catalog, its persistent queries, and the statements that drive them.

Data directory layout::

    <data_dir>/log/                       the event log (headwater.storage): every topic, including
                                           _headwater_command_topic (the command topic) and
                                           headwater_processing_log (records queries could not process)
    <data_dir>/queries/<QUERY_ID>/checkpoint.json, checkpoint.1.json
                                           each persistent query's committed offsets and state, two slot
                                           files written in turn (see runtime.checkpoint)
    <data_dir>/queries/_retired/checkpoint.json
                                           sink end offsets of terminated queries (recovery keeps them)
    <data_dir>/queries/clean-shutdown     present while no engine runs after a clean close

Opening an engine replays the command topic (the catalog, types and queries come back), after a crash
truncates sinks to their committed end offsets (see :mod:`headwater.engine.runtime.persistent`), and
starts the queries (``background=True``) or leaves them to be driven (``background=False``).

Example (runnable once the storage and parser packages are installed)::

    engine = Engine(tmp_path)
    engine.execute("CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
    engine.close()
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pyarrow as pa

from headwater import parser
from headwater.engine.catalog import Catalog, DataSource, FormatSpec, SourceType
from headwater.engine.commands import SKIP_CORRUPT_PROPERTY, Command, CommandLog, CorruptCommandError
from headwater.engine.config import EngineConfig
from headwater.engine.entities import Entity
from headwater.engine.functions.registry import FunctionRegistry
from headwater.engine.operators.sink import stored_schema
from headwater.engine.planner.binding import compile_timestamp_parser
from headwater.engine.planner.logical import PlanNode
from headwater.engine.planner.physical import LoweringContext, lower
from headwater.engine.runtime.checkpoint import Checkpoint, CheckpointStore
from headwater.engine.runtime.persistent import (
    DEFAULT_COMMIT_INTERVAL_MS,
    PersistentQuery,
    QueryState,
    SinkLocks,
)
from headwater.engine.runtime.processing_log import (
    PROCESSING_LOG_SCHEMA,
    PROCESSING_LOG_STREAM,
    PROCESSING_LOG_TOPIC,
    ProcessingLog,
    ProcessingLogEntry,
)
from headwater.engine.runtime.recovery import recover_sinks
from headwater.engine.schema import Namespace, format_type, quote
from headwater.engine.statements.context import StatementContext
from headwater.errors import ExecutionError, HeadwaterError, ParseError, PlanError
from headwater.parser import ast
from headwater.parser.variables import normalise_variables, substitute_variables

__all__ = ["Engine"]

_LOGGER = logging.getLogger("headwater.engine")

RETIRED_WRITER = "_retired"
CLEAN_SHUTDOWN_MARKER = "clean-shutdown"


class Engine:
    """A Headwater engine over ``data_dir``.

    Args:
        data_dir: the directory holding the log and checkpoints (created when missing).
        config: ksqlDB properties overriding the defaults for every statement.
        background: run persistent queries on threads (True) or leave them to the caller (False).
        function_registry: the functions statements may call (default: the product's library).
    """

    def __init__(
        self,
        data_dir: str | Path,
        *,
        config: Mapping[str, Any] | None = None,
        background: bool = True,
        function_registry: FunctionRegistry | None = None,
    ) -> None:
        from headwater.storage import EventLog

        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = EventLog.open(self.data_dir / "log")
        self.config = EngineConfig().with_overrides(dict(config or {}))
        if function_registry is None:
            function_registry = _default_registry()
        self.registry = function_registry
        self.background = background
        self.catalog = Catalog()
        self.variables: dict[str, str] = {}
        self.processing_log = ProcessingLog(self.log)
        self.commands = CommandLog(self.log)
        self.last_command_sequence = -1
        self._queries: dict[str, PersistentQuery] = {}
        self._query_counter = 0
        self._transient_counter = 0
        self._sink_locks = SinkLocks()
        self._lock = threading.RLock()
        self._closed = False
        self.recovery_report: dict[tuple[str, int], int] = {}
        self.replay_warnings: list[str] = []
        self._replaying = True
        try:
            self._replay()
        except HeadwaterError:
            self._abandon_start()
            raise
        self._replaying = False
        self._recover_sinks(after_crash=not self._take_clean_marker())
        self._register_processing_log_stream()
        for query in self._queries.values():
            try:
                query.initialise()
            except HeadwaterError as error:  # a damaged source or checkpoint: keep it listed, failed
                self._fail_replayed_query(query, error)
            if background and query.state == QueryState.RUNNING:
                query.start()

    # -- public API --------------------------------------------------------------------------------------
    def execute(
        self,
        sql: str,
        properties: Mapping[str, Any] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> list[Entity]:
        """Run every statement of ``sql``; one entity per statement.

        Raises:
            HeadwaterError: a ParseError when the text does not parse (nothing runs), or the error of
                the first failing statement, whose 0-based position in the text is its
                ``statement_index``; the statements before it took effect.
        """
        from headwater.engine.statements import dispatch

        ctx = StatementContext(self, self.config.with_overrides(dict(properties or {})))
        ctx.variables = {**self.variables, **dict(variables or {})}
        entities: list[Entity] = []
        with self._lock:
            # The whole text is parsed first, as ksqlDB parses a request: positions in messages count
            # from the start of the text, and a syntax error anywhere runs nothing.
            statements = parser.parse(sql, variables=ctx.variables or None)
            for index, parsed in enumerate(statements):
                statement = _through_semicolon(sql, parsed)
                try:
                    entities.append(dispatch(ctx, statement))
                except HeadwaterError as error:
                    error.statement_index = index  # type: ignore[attr-defined]
                    raise
        return entities

    def stream(
        self,
        sql: str,
        properties: Mapping[str, Any] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Any:
        """Run a query (push, pull, historical) or PRINT and return its :class:`QueryStream`.

        Text that ksqlDB's grammar refuses but that reads as a query (SELECT, WITH, FROM, VALUES) is
        Headwater's SQL extension for historical queries (ORDER BY, subqueries, window functions...),
        answered by DuckDB; its parse error is then ksqlDB's own when it is no SQL query either.
        ``variables`` (as for :meth:`execute`) fill ``${name}`` references for this call only, on
        top of the engine's DEFINEd ones; the extension gets the text with them substituted.
        """
        from headwater.engine.historical import run_select
        from headwater.engine.historical.session import looks_like_query
        from headwater.engine.runtime.transient import open_stream

        ctx = StatementContext(self, self.config.with_overrides(dict(properties or {})))
        ctx.variables = {**normalise_variables(self.variables), **normalise_variables(variables)}
        try:
            statement = parser.parse_statement(sql, variables=ctx.variables or None)
        except ParseError as refused:
            if variables:
                sql = substitute_variables(sql, ctx.variables)
            # only what the grammar refuses can be the extension's; ksqlDB's checks of a statement it
            # parsed ("Value must be integer for command: LIMIT") stand
            if not refused.message.startswith("Syntax Error") or not looks_like_query(sql):
                raise
            try:
                return run_select(self, sql, None, ctx.config)
            except (PlanError, ExecutionError) as failed:
                # neither ksqlDB's grammar nor a query the extension can run: ksqlDB's syntax error
                # first (what a ksqlDB client expects), the extension's reason after it
                raise ParseError(
                    f"{refused.message}\nNot a query of Headwater's SQL extension either: {failed}",
                    line=refused.line,
                    column=refused.column,
                    token=refused.token,
                    expected=refused.expected,
                    source=refused.source,
                ) from failed
        return open_stream(ctx, statement)

    def insert_rows(
        self,
        target: str,
        rows: Sequence[Mapping[str, Any]],
        properties: Mapping[str, Any] | None = None,
    ) -> list[HeadwaterError | None]:
        """Append ``rows`` (column name -> JSON-style value) to the stream or table ``target`` with
        INSERT VALUES' checks, conversions and messages, converted by column and appended as one batch
        (:mod:`headwater.engine.statements.insert_rows`).

        Returns:
            One entry per row looked at: None for each row appended, then the error of the first row
            refused, which ends the list (later rows are not appended).

        Raises:
            PlanError: the target is unknown or read-only.
        """
        from headwater.engine.statements.insert_rows import insert_rows

        ctx = StatementContext(self, self.config.with_overrides(dict(properties or {})))
        with self._lock:
            return insert_rows(ctx, target, rows)

    def persistent_queries(self) -> list[PersistentQuery]:
        """The running persistent queries, in creation order (CREATE OR REPLACE keeps the position)."""
        return list(self._queries.values())

    def query(self, query_id: str) -> PersistentQuery | None:
        return self._queries.get(query_id) or next(
            (q for q in self._queries.values() if q.query_id.upper() == query_id.upper()), None
        )

    def close(self) -> None:
        """Stop every query and release the log. When every query stopped between steps (nothing is
        half-written), a clean-shutdown marker tells the next start that every record in the sinks is
        committed, including records produced into them while the engine was down."""
        if self._closed:
            return
        self._closed = True
        stopped = [query.close() for query in self._queries.values()]
        if all(stopped):
            _write_marker(self.data_dir / "queries" / CLEAN_SHUTDOWN_MARKER)
        close = getattr(self.log, "close", None)
        if close is not None:
            close()

    def _abandon_start(self) -> None:
        """Release what a start that cannot finish holds, writing nothing: no clean-shutdown marker
        (the sinks may still need recovery next time) and no checkpoint."""
        self._closed = True
        close = getattr(self.log, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- used by statement handlers --------------------------------------------------------------------
    def record(self, ctx: StatementContext, statement: ast.Statement) -> None:
        """Append a catalog-changing statement to the command topic (not while replaying)."""
        if ctx.replaying:
            self.last_command_sequence += 1
            return
        text = getattr(statement, "text", "") or parser.to_sql(statement)
        self.last_command_sequence = self.commands.append(Command(text, ctx.config.overridden()))

    def next_transient_id(self) -> str:
        """An id for a push or historical query (ksqlDB's transient ids are opaque too)."""
        self._transient_counter += 1
        return f"transient_{self._transient_counter}"

    def peek_query_id(self, prefix: str) -> str:
        """The id :meth:`next_query_id` would hand out next (EXPLAIN plans without taking it)."""
        return f"{prefix}{self._query_counter}"

    def next_query_id(self, prefix: str) -> str:
        query_id = f"{prefix}{self._query_counter}"
        self._query_counter += 1
        return query_id

    def sink_lock(self, topic: str) -> threading.RLock:
        """The writer lock of ``topic``, shared by every engine writer of it (queries, INSERT VALUES)."""
        return self._sink_locks.lock(topic)

    def partition_count(self, topic: str) -> int:
        """How many partitions ``topic`` has, from its configuration alone: opening the partitions is
        not needed, and would make a damaged partition stop the statements that only plan over the
        topic (a replayed query over it must stay defined, and fail when it reads)."""
        return int(self.log.topic(topic).config.partitions)

    def create_raw_topic(self, topic: str, partitions: int, source: DataSource) -> None:
        from headwater.storage import TopicConfig

        self.log.create_topic(
            topic,
            TopicConfig(partitions=partitions),
            schema=None,
            metadata={"key_format": source.key_format.name, "value_format": source.value_format.name},
        )

    def ensure_sink_topic(self, sink: DataSource, partitions: int) -> None:
        """Create the typed topic of a sink, or check an existing one can take its rows (a raw topic
        takes them serialised in the sink's formats)."""
        from headwater.storage import TopicConfig

        schema = stored_schema(sink)
        if self.log.has_topic(sink.topic):
            topic = self.log.topic(sink.topic)
            existing = getattr(topic, "schema", None)
            if existing is None:
                return
            missing = not set(schema.names) <= set(existing.names)
            if missing and hasattr(topic, "set_schema"):
                topic.set_schema(schema)
            return
        self.log.create_topic(
            sink.topic,
            TopicConfig(partitions=partitions),
            schema=schema,
            metadata={
                "key_format": sink.key_format.name,
                "value_format": sink.value_format.name,
                "writer": sink.name,
            },
        )

    def queries_using(self, name: str) -> list[PersistentQuery]:
        return [
            q for q in self._queries.values() if q.sink.name == name or name in [s.name for s in q.sources]
        ]

    def writer_of(self, sink_name: str) -> PersistentQuery | None:
        for query in self._queries.values():
            if query.sink.name == sink_name and query.query_id.startswith(("CSAS_", "CTAS_")):
                return query
        return None

    def check_replace(self, existing: DataSource, replacement: DataSource) -> None:
        """CREATE OR REPLACE's source-level check (ksqlDB's StructuredDataSource.canUpgradeTo): the
        kind, the schema (the key identical; value columns only added at the end), the topic and its
        formats, and the timestamp column may not change.

        Raises:
            PlanError: "Cannot upgrade data source: " and ksqlDB's message per property that changed.
        """
        problems = [
            message
            for message in (
                _property_change(existing, "type", _kind_text(existing), _kind_text(replacement)),
                _schema_change(existing, replacement),
                _property_change(existing, "topic", _topic_text(existing), _topic_text(replacement)),
                _property_change(
                    existing, "timestampColumn", _timestamp_text(existing), _timestamp_text(replacement)
                ),
            )
            if message
        ]
        if problems:
            raise PlanError("Cannot upgrade data source: " + "\n\tAND ".join(problems))

    def start_query(
        self,
        ctx: StatementContext,
        query_id: str,
        statement_text: str,
        plan: PlanNode,
        sources: tuple[DataSource, ...],
        sink: DataSource,
    ) -> PersistentQuery:
        old = self._queries.get(query_id)
        if old is not None:
            old.close()
        graph = lower(plan, self._lowering_context(ctx, query_id))
        query = PersistentQuery(
            query_id=query_id,
            statement_text=statement_text,
            plan=plan,
            sources=sources,
            sink=sink,
            graph=graph,
            log=self.log,
            checkpoints=CheckpointStore(self.data_dir / "queries" / query_id),
            sink_lock=self._sink_locks.lock(sink.topic),
            start_at_end=str(ctx.config.get("auto.offset.reset", "latest")).lower() == "latest",
            commit_interval_ms=_commit_interval_ms(ctx.config),
        )
        self._queries[query_id] = query
        if not ctx.replaying:
            query.initialise()
            if self.background:
                query.start()
        return query

    def terminate_query(self, query_id: str) -> None:
        query = self._queries.pop(query_id, None)
        if query is None:
            return
        query.stop(state=QueryState.TERMINATED)
        query.close()
        checkpoint = query.checkpoints.load()
        if checkpoint is not None:
            retired = CheckpointStore(self.data_dir / "queries" / RETIRED_WRITER)
            previous = retired.load() or Checkpoint()
            sinks = dict(previous.sinks)
            for tp, end in checkpoint.sinks.items():
                sinks[tp] = max(end, sinks.get(tp, 0))
            retired.commit(Checkpoint(epoch=previous.epoch + 1, sinks=sinks))
        query.checkpoints.delete()

    def pause_query(self, query_id: str) -> None:
        """PAUSE: the query stops consuming until RESUME (its checkpoint stays)."""
        query = self._queries.get(query_id)
        if query is not None:
            query.pause()

    def resume_query(self, query_id: str) -> None:
        """RESUME: the query consumes again from its committed offsets."""
        query = self._queries.get(query_id)
        if query is not None:
            query.resume(background=self.background and not self._replaying)

    def note_external_append(self, topic_name: str) -> None:
        """Records appended outside a query (INSERT VALUES) to a query's sink count as committed: the
        "_retired" writer's checkpoint takes the topic's new end offsets, so recovery keeps them."""
        if not any(q.sink.topic == topic_name for q in self._queries.values()):
            return
        retired = CheckpointStore(self.data_dir / "queries" / RETIRED_WRITER)
        previous = retired.load() or Checkpoint()
        sinks = dict(previous.sinks)
        for partition, end in self.log.topic(topic_name).end_offsets().items():
            sinks[(topic_name, partition)] = max(int(end), sinks.get((topic_name, partition), 0))
        retired.commit(Checkpoint(epoch=previous.epoch + 1, sinks=sinks))

    # -- internals ---------------------------------------------------------------------------------------
    def _lowering_context(self, ctx: StatementContext, query_id: str) -> LoweringContext:
        def report_row(kind: str, row: int, message: str) -> None:
            self.processing_log.write([ProcessingLogEntry.processing(query_id, message, None)])

        def report_record(
            topic: str, target: str, partition: int, offset: int, message: str, raw: bytes | None
        ) -> None:
            self.processing_log.write(
                [ProcessingLogEntry.deserialization(query_id, topic, partition, target, message, raw, offset)]
            )

        def open_topic(name: str) -> tuple[Any, int, bool, DataSource | None]:
            topic = self.log.topic(name)
            raw = getattr(topic, "schema", None) is None
            writer = None
            if not raw:
                writer = next((s for s in self.catalog.sources() if s.topic == name and s.is_sink), None)
            # the configured count: opening the partitions here would let a damaged one stop the
            # query from being defined at all (it fails when it reads instead, and stays listed)
            return topic, int(topic.config.partitions), raw, writer

        return LoweringContext(
            config=ctx.config.as_dict(),
            report_row=report_row,
            report_record=report_record,
            open_topic=open_topic,
            timestamp_parser=self._timestamp_parser(ctx),
        )

    def _timestamp_parser(
        self, ctx: StatementContext
    ) -> Callable[[DataSource], Callable[[pa.Array], tuple[pa.Array, list[tuple[int, str]]]] | None]:
        """Parsers of STRING timestamp columns (TIMESTAMP_FORMAT), built per source."""

        def for_source(
            source: DataSource,
        ) -> Callable[[pa.Array], tuple[pa.Array, list[tuple[int, str]]]] | None:
            if source.timestamp_column is None or source.timestamp_format is None:
                return None
            return compile_timestamp_parser(
                source.timestamp_column, source.timestamp_format, self.registry, ctx.config.as_dict()
            )

        return for_source

    def _replay(self) -> None:
        """Re-execute the command topic. A damaged record (see :mod:`headwater.engine.commands`) stops
        the start with a :class:`CorruptCommandError` unless ``headwater.command.topic.skip.corrupt`` is
        true; a statement that parses but no longer applies is skipped, as ksqlDB's command runner skips
        it. Every skipped record is reported: in :attr:`replay_warnings`, the ``headwater.engine``
        logger and the processing log."""
        from headwater.engine.statements import dispatch

        skip_corrupt = self.config.get_bool(SKIP_CORRUPT_PROPERTY)
        for command in list(self.commands.read_all()):
            if isinstance(command, CorruptCommandError):
                if not skip_corrupt:
                    raise command
                self._replay_warning(f"Skipped command {command.offset}: {command.problem}.", "")
                continue
            try:
                statement = parser.parse_statement(command.statement)
            except ParseError as error:  # recorded only after it ran, so it parsed then: damage
                first_line = str(error).splitlines()[0] if str(error) else "a syntax error"
                problem = f"its STATEMENT {_excerpt(command.statement)} does not parse ({first_line})"
                corrupt = CorruptCommandError(command.offset, problem)
                if not skip_corrupt:
                    raise corrupt from None
                self._replay_warning(f"Skipped command {command.offset}: {corrupt.problem}.", command.statement)
                continue
            ctx = StatementContext(self, self.config.with_overrides(command.config), replaying=True)
            try:
                dispatch(ctx, statement)
            except HeadwaterError as error:  # a statement that no longer applies: keep going
                self._replay_warning(f"Command {command.offset} no longer applies and was skipped: {error}", command.statement)

    def _fail_replayed_query(self, query: PersistentQuery, error: HeadwaterError) -> None:
        """Leave a replayed query that cannot start defined, in the ERROR state with the reason (SHOW
        QUERIES lists it, its sink stays readable, TERMINATE removes it), instead of dropping it: the
        damage is usually in files the user can restore, and the query must be there when they are."""
        query.state = QueryState.ERROR
        query.error = f"{error} (the query could not start after a restart; restore the damaged files and restart, or TERMINATE {query.query_id})"
        self._replay_warning(f"Query {query.query_id} could not start: {error}", query.statement_text)

    def _replay_warning(self, message: str, statement: str) -> None:
        self.replay_warnings.append(message)
        _LOGGER.warning("%s", message)
        detail = f"{message} ({statement})" if statement else message
        self.processing_log.write([ProcessingLogEntry.processing("REPLAY", detail, None)])

    def _register_processing_log_stream(self) -> None:
        """With ``ksql.logging.processing.stream.auto.create``, the processing log is a stream
        (``KSQL_PROCESSING_LOG`` unless ``ksql.logging.processing.stream.name`` says otherwise) that
        queries can read, as in ksqlDB. It is registered at every start, not recorded as a command."""
        if not self.config.get_bool("ksql.logging.processing.stream.auto.create"):
            return
        name = str(self.config.get("ksql.logging.processing.stream.name") or PROCESSING_LOG_STREAM)
        if self.catalog.source(name) is not None:
            return
        self.processing_log.ensure_topic()
        self.catalog.put_source(
            DataSource(
                name=name,
                kind=SourceType.STREAM,
                schema=PROCESSING_LOG_SCHEMA,
                topic=PROCESSING_LOG_TOPIC,
                key_format=FormatSpec("NONE"),
                value_format=FormatSpec("JSON"),
                sql=f"CREATE STREAM {name} WITH (KAFKA_TOPIC='{PROCESSING_LOG_TOPIC}', VALUE_FORMAT='JSON');",
            )
        )

    def _take_clean_marker(self) -> bool:
        """Whether the previous engine on this directory shut down cleanly (the marker is removed: from
        now on a crash must be detectable)."""
        marker = self.data_dir / "queries" / CLEAN_SHUTDOWN_MARKER
        if not marker.exists():
            return False
        marker.unlink()
        _fsync_directory(marker.parent)
        return True

    def _recover_sinks(self, *, after_crash: bool) -> None:
        """After a crash, truncate each sink partition to the largest end offset any writer committed
        for it: that removes exactly the output of steps that did not commit. After a clean shutdown
        nothing is uncommitted, and whatever follows the committed ends was produced while the engine
        was down (a topic tool, another program): it is kept."""
        if not after_crash:
            self.recovery_report = {}
            return
        stores = [q.checkpoints for q in self._queries.values()]
        stores.append(CheckpointStore(self.data_dir / "queries" / RETIRED_WRITER))
        self.recovery_report = recover_sinks(self.log, stores)


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_marker(path: Path) -> None:
    """Create ``path`` durably (the file and its directory entry)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_directory(path.parent)


def _default_registry() -> FunctionRegistry:
    """The product's function library (an empty registry while the library is not installed)."""
    from headwater.engine import functions

    factory = getattr(functions, "default_registry", None)
    return factory() if factory is not None else FunctionRegistry()


def _through_semicolon(sql: str, statement: ast.Statement) -> ast.Statement:
    """``statement`` with its text running through the ``;`` that ends it in ``sql``, as ksqlDB's
    statementText does (its grammar's single statement ends with the ``;``): entities, the command
    log and query descriptions then show the statement as written. Text the parser took from a
    variable substitution (it no longer lines up with ``sql``) is kept as the parser gave it."""
    span = getattr(statement, "span", None)
    if span is None or not statement.text or sql[span.start : span.end] != statement.text:
        return statement
    rest = sql[span.end :]
    semicolon = len(rest) - len(rest.lstrip())
    if rest[semicolon : semicolon + 1] != ";":
        return statement
    return dataclasses.replace(cast(Any, statement), text=sql[span.start : span.end + semicolon + 1])


# -- CREATE OR REPLACE: what may change ---------------------------------------------------------------------


def _property_change(source: DataSource, name: str, old: str, new: str) -> str:
    """ksqlDB's message for a property of ``source`` an upgrade may not change ('' when unchanged)."""
    if old == new:
        return ""
    return f"DataSource '{quote(source.name)}' has {name} = {old} which is not upgradeable to {new}"


def _kind_text(source: DataSource) -> str:
    return "KTABLE" if source.kind is SourceType.TABLE else "KSTREAM"


def _topic_text(source: DataSource) -> str:
    window = "" if source.window is None else f", windowInfo={source.window.type.value}"
    return (
        f"KsqlTopic{{kafkaTopicName='{source.topic}', keyFormat={source.key_format.name}{window}, "
        f"valueFormat={source.value_format.name}}}"
    )


def _timestamp_text(source: DataSource) -> str:
    if source.timestamp_column is None:
        return "Optional.empty"
    return f"Optional[TimestampColumn{{column={quote(source.timestamp_column)}, format={source.timestamp_format}}}]"


def _schema_change(existing: DataSource, replacement: DataSource) -> str:
    """The schema part of the check: a column of the old schema must be in the new one with the same
    name, type and namespace at the same index within its namespace; the key columns must all match
    (ksqlDB's LogicalSchema.compatibleSchema)."""

    def placed(source: DataSource, keys: bool) -> list[tuple[int, Any]]:
        columns = [c for c in source.schema if c.is_key == keys]
        return list(enumerate((c.name, c.type, c.namespace) for c in columns))

    def described(placed_column: tuple[int, Any]) -> str:
        name, sql_type, namespace = placed_column[1]
        return f"{quote(name)} {format_type(sql_type)}{' KEY' if namespace is Namespace.KEY else ''}"

    old_keys, new_keys = placed(existing, True), placed(replacement, True)
    if old_keys != new_keys:
        changed = [described(c) for c in old_keys if c not in new_keys]
        reason = "Key columns must be identical. The following key columns are changed, missing or reordered: "
    else:
        new_values = set(placed(replacement, False))
        changed = [described(c) for c in placed(existing, False) if c not in new_values]
        reason = "The following columns are changed, missing or reordered: "
        if not changed:
            return ""
    return (
        f"DataSource '{quote(existing.name)}' has schema = {existing.schema} which is not upgradeable to "
        f"{replacement.schema}. ({reason}[{', '.join(changed)}])"
    )


def _commit_interval_ms(config: EngineConfig) -> int:
    """The query's ``commit.interval.ms`` (ksqlDB's streams property; its default when unset or not a
    non-negative whole number, which SET has already refused with a message)."""
    try:
        value = config.get_int("commit.interval.ms")
    except ValueError:
        return DEFAULT_COMMIT_INTERVAL_MS
    return value if value is not None and value >= 0 else DEFAULT_COMMIT_INTERVAL_MS
