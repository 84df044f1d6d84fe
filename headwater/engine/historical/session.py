"""Running historical SELECTs: one DuckDB connection, its views and functions, the plan, the result.

:class:`HistoricalSession` is the unit of work: it owns a DuckDB connection configured for ksqlDB's
arithmetic (division by zero is NULL), a :class:`~headwater.engine.historical.udfs.UdfRegistry` on it,
and registers the views a plan asks for. :func:`run_select` is the engine's entry point: it takes the
statement's text (and, when the engine already parsed it, the query), runs it, and returns a
:class:`~headwater.engine.historical.result.HistoricalResult`.

A statement in ksqlDB's grammar is planned by :mod:`.ksql_plan`. One the ksqlDB parser refuses but that
reads as SQL over the catalog's streams and tables (ORDER BY, subqueries, window functions, CTEs...) is
Headwater's SQL extension, planned by :mod:`.extension`.

Example::

    result = run_select(engine, "SELECT ITEM, SUM(QTY) FROM ORDERS GROUP BY ITEM;")
    result.table            # pyarrow.Table
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from headwater import parser
from headwater.engine.historical.decode import HISTORICAL_QUERY_ID, DecodeCache, DecodeReport
from headwater.engine.historical.duck_types import duckdb_arrow_type
from headwater.engine.historical.ksql_plan import KsqlPlanner
from headwater.engine.historical.plan import HistoricalPlan
from headwater.engine.historical.relations import RelationRegistrar
from headwater.engine.historical.result import HistoricalResult, QueryStats, SourceStats
from headwater.engine.historical.segments import SealedSegmentCache
from headwater.engine.historical.udfs import UdfRegistry
from headwater.engine.runtime.processing_log import ProcessingLogEntry
from headwater.engine.types import to_arrow
from headwater.errors import ExecutionError, HeadwaterError, ParseError, PlanError
from headwater.parser import ast

__all__ = [
    "HistoricalSession",
    "decode_cache_for",
    "engine_config",
    "looks_like_query",
    "run_select",
    "sealed_cache_for",
]

_CACHES: weakref.WeakKeyDictionary[Any, DecodeCache] = weakref.WeakKeyDictionary()
_DATABASES: weakref.WeakKeyDictionary[Any, duckdb.DuckDBPyConnection] = weakref.WeakKeyDictionary()
_SEALED: weakref.WeakKeyDictionary[Any, SealedSegmentCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def sealed_cache_for(engine: Any) -> SealedSegmentCache:
    """The prepared sealed segments shared by every historical query of ``engine``."""
    with _CACHES_LOCK:
        cache = _SEALED.get(engine)
        if cache is None:
            cache = _SEALED[engine] = SealedSegmentCache()
        return cache


def _database_for(engine: Any) -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB database historical queries of ``engine`` run in, one cursor per query.

    Opening a DuckDB database costs 60-100 ms, a cursor well under one; views are created TEMP (per
    cursor) and functions under names unique in the database, so concurrent queries do not meet. SQL
    from a shell or a server reaches it: it may read streams and tables, not the server's files
    (``read_csv('/etc/...')``) or the network, so external access is switched off for good.
    """
    with _CACHES_LOCK:
        database = _DATABASES.get(engine)
        if database is None:
            database = duckdb.connect()
            database.execute("SET enable_external_access = false")
            _DATABASES[engine] = database
        return database.cursor()


def decode_cache_for(engine: Any) -> DecodeCache:
    """The decoded-segment cache shared by every historical query of ``engine``."""
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = DecodeCache()
        return cache


def engine_config(engine: Any, config: Any = None) -> dict[str, Any]:
    """The effective configuration: the engine's, with ``config`` (a mapping or an ``EngineConfig``)
    layered over it."""
    if config is not None and hasattr(config, "as_dict"):
        return dict(config.as_dict())
    base = engine.config.with_overrides(dict(config or {}))
    return dict(base.as_dict())


class HistoricalSession:
    """A DuckDB connection prepared for historical queries over one engine.

    Args:
        engine: the engine (catalog, log, function registry, processing log).
        config: properties for this session, over the engine's configuration.
        cache: decoded segments to reuse (default: the engine's shared cache).
    """

    def __init__(
        self,
        engine: Any,
        config: Any = None,
        cache: DecodeCache | None = None,
        *,
        dry_run: bool = False,
        external_access: bool = False,
    ) -> None:
        self.engine = engine
        self.config = engine_config(engine, config)
        self.dry_run = dry_run
        self.connection = duckdb.connect() if external_access else _database_for(engine)
        self.connection.execute("SET error_on_division_by_zero = false")
        self.report = DecodeReport()
        self.udfs = UdfRegistry(self.connection, self.config, on_error=self._log_failure)
        self.registrar = RelationRegistrar(
            engine,
            self.connection,
            self.config,
            cache if cache is not None else decode_cache_for(engine),
            self.report,
            sealed_cache_for(engine),
        )

    def _log_failure(self, message: str) -> None:
        self.engine.processing_log.write([ProcessingLogEntry.processing(HISTORICAL_QUERY_ID, message, None)])

    def close(self) -> None:
        """Drop this session's functions and close its cursor (its temporary views go with it)."""
        self.udfs.remove_all()
        self.connection.close()

    def __enter__(self) -> HistoricalSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- planning ------------------------------------------------------------------------------------------
    def plan(self, statement_text: str, query: ast.Query | None = None) -> HistoricalPlan:
        """Plan a SELECT (see the module docstring) and register the views it reads.

        Raises:
            ParseError: the text is neither ksqlDB's grammar nor SQL.
            PlanError: it cannot run as a historical query.
        """
        if query is None:
            try:
                statement = parser.parse_statement(statement_text, variables=dict(self.engine.variables) or None)
            except ParseError as error:
                return self._plan_extension(statement_text, error)
            if not isinstance(statement, ast.SelectStatement):
                raise PlanError("Only SELECT statements run as historical queries.")
            query = statement.query
        if query.emit is not None:
            raise PlanError("A query with EMIT is a push query, not a historical one.")
        plan = KsqlPlanner(self.engine.catalog, self.engine.registry, self.config, self.udfs).plan(query)
        joins = len(plan.relations) > 1
        for relation in plan.relations:
            self.registrar.register(relation, dry_run=self.dry_run, materialize=joins)
        return plan

    def _plan_extension(self, statement_text: str, error: ParseError) -> HistoricalPlan:
        from headwater.engine.historical.extension import plan_extension

        return plan_extension(self, statement_text, error)

    # -- running -------------------------------------------------------------------------------------------
    def execute(self, plan: HistoricalPlan) -> pa.Table:
        """Run ``plan``'s SQL; the result has Headwater's Arrow types.

        Raises:
            ExecutionError: DuckDB failed (an integer overflow, a bad cast...).
        """
        try:
            table = self.connection.sql(plan.sql).to_arrow_table()
        except duckdb.Error as error:
            raise ExecutionError(f"Historical query failed: {_duckdb_message(error)}") from None
        return conform_result(table, plan)

    def stats(self) -> QueryStats:
        """What the views registered so far read."""
        sources = tuple(
            SourceStats(
                scan.source.name,
                scan.source.topic,
                scan.segments_total,
                scan.segments_selected,
                scan.segments_opened,
                scan.decoded,
                scan.bounds.describe(),
            )
            for scan in self.registrar.scans
        )
        return QueryStats(sources, self.report.counts, self.udfs.failed_rows)

    def run(self, statement_text: str, query: ast.Query | None = None) -> HistoricalResult:
        """Plan and run one SELECT."""
        plan = self.plan(statement_text, query)
        table = self.execute(plan)
        return HistoricalResult(
            self.engine.next_transient_id(), plan.columns, table, self.stats(), plan.sql, plan.limit
        )


def conform_result(table: pa.Table, plan: HistoricalPlan) -> pa.Table:
    """DuckDB's result with the plan's column names and Headwater's Arrow types (TIME in ms, list
    element names...)."""
    arrays = []
    fields = []
    for index, column in enumerate(plan.columns):
        values = table.column(index)
        wanted = to_arrow(column.type)
        if values.type != wanted:
            if values.type != duckdb_arrow_type(column.type) and values.type != wanted:
                values = values.cast(duckdb_arrow_type(column.type))
            values = values.cast(wanted, safe=False)
        arrays.append(values)
        fields.append(pa.field(column.name, wanted))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields)) if fields else table


def looks_like_query(text: str) -> bool:
    """Whether text the ksqlDB parser refused may be a query of Headwater's SQL extension (it starts
    with SELECT, WITH, FROM or VALUES): such text goes to :func:`run_select`, whose ParseError is the
    ksqlDB parser's own when the text is no SQL query either."""
    head = text.lstrip().lstrip("(").lstrip().split(None, 1)
    return bool(head) and head[0].upper() in ("SELECT", "WITH", "FROM", "VALUES")


def _duckdb_message(error: duckdb.Error) -> str:
    text = str(error)
    return text.split("\n", 1)[0]


def run_select(
    engine: Any,
    statement_text: str,
    query: ast.Query | None = None,
    config: Mapping[str, Any] | Any = None,
) -> HistoricalResult:
    """Run a SELECT without EMIT CHANGES over streams and tables, on DuckDB.

    The engine's entry point for historical queries (and SELECTs over tables beyond key lookups).

    Args:
        engine: the :class:`~headwater.engine.Engine`.
        statement_text: the statement as the user wrote it.
        query: the parsed query, when the statement is in ksqlDB's grammar (else the text is read as
            Headwater's SQL extension).
        config: the statement's configuration (an ``EngineConfig`` or a mapping of properties).

    Returns:
        A :class:`HistoricalResult`, usable wherever a ``QueryStream`` is.

    Raises:
        HeadwaterError: ParseError, PlanError or ExecutionError with the reason.
    """
    with HistoricalSession(engine, config) as session:
        try:
            return session.run(statement_text, query)
        except HeadwaterError:
            raise
        except duckdb.Error as error:
            raise ExecutionError(f"Historical query failed: {_duckdb_message(error)}") from None
