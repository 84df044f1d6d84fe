"""The Python API: ``headwater.connect(data_dir)`` and the :class:`Client` it returns.

A client opens the engine over a data directory (its catalog, its event log, its persistent queries) and
answers in Python objects::

    import headwater

    with headwater.connect("./headwater-data") as hw:
        hw.sql("CREATE STREAM ORDERS (ID INT KEY, ITEM STRING, QTY INT) "
               "WITH (KAFKA_TOPIC='orders', PARTITIONS=1, VALUE_FORMAT='JSON');")
        hw.sql("INSERT INTO ORDERS (ID, ITEM, QTY) VALUES (1, 'apple', 3);")
        result = hw.sql("SELECT ITEM, SUM(QTY) AS TOTAL FROM ORDERS GROUP BY ITEM;")
        result.table                         # a pyarrow.Table
        hw.read("ORDERS", since="2024-05-01")  # the stream's rows as a pyarrow.Table
        con = hw.duckdb()                      # DuckDB, every stream and table a view
        con.sql('SELECT count(*) FROM "ORDERS"').fetchall()

What :meth:`Client.sql` returns depends on the (last) statement:

* a SELECT without EMIT CHANGES, in ksqlDB's grammar or Headwater's SQL extension (ORDER BY,
  subqueries, window functions...): a :class:`~headwater.engine.historical.HistoricalResult`
  (``.table`` is the Arrow table, ``.rows()`` the tuples, ``.stats`` what was read);
* ``SELECT ... EMIT CHANGES`` or PRINT: the engine's ``QueryStream`` (iterate it; ``close()`` it);
* ``EXPLAIN`` of a historical SELECT: its explanation as a string;
* any other statement: the engine's entity (``to_json()`` gives ksqlDB's REST shape).

``SET 'name' = 'value'`` and ``UNSET 'name'`` hold for the client's later statements, as they do in the
shell (``hw.sql("SET 'auto.offset.reset' = 'earliest';")`` makes later push queries start at the
beginning).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from headwater.engine.historical.bounds import UNBOUNDED
from headwater.engine.historical.explain import explain_select
from headwater.engine.historical.export import ExportReport, ProgressCallback, export
from headwater.engine.historical.plan import RelationMode, RelationRequest
from headwater.engine.historical.reading import read_source
from headwater.engine.historical.relations import RelationRegistrar
from headwater.engine.historical.session import decode_cache_for, engine_config, looks_like_query, run_select
from headwater.engine.historical.times import TimeLike
from headwater.errors import ParseError, PlanError
from headwater.parser import ast

__all__ = ["Client", "connect"]

NESTED_TOO_DEEPLY = (
    "The statement is nested too deeply to process (thousands of nested expressions or parentheses); "
    "split it into smaller expressions"
)


def connect(
    data_dir: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | None = None,
    background: bool = True,
) -> Client:
    """Open a client over ``data_dir`` (created when missing).

    Args:
        data_dir: the data directory, as ``headwater --data-dir`` takes it.
        config: ksqlDB properties for every statement (``{"auto.offset.reset": "earliest"}``).
        background: run persistent queries on threads (False: they wait to be driven, as in tests).
    """
    from headwater.engine import Engine
    from headwater.storage.directories import prepare_directory

    return Client(Engine(prepare_directory(data_dir, "data directory"), config=dict(config or {}), background=background))


class Client:
    """A connection to one data directory (see the module docstring).

    Attributes:
        engine: the underlying :class:`~headwater.engine.Engine`.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._closed = False
        self.properties: dict[str, Any] = {}
        """Session properties from SET/UNSET, applied to every later statement (as the shell keeps them)."""

    # -- statements ----------------------------------------------------------------------------------------
    def sql(self, text: str, properties: Mapping[str, Any] | None = None) -> Any:
        """Run every statement of ``text`` in order; return the last one's result (see the module
        docstring). Each statement takes effect before the next runs.

        Raises:
            HeadwaterError: of the first failing statement (ParseError, PlanError, ExecutionError...).
        """
        from headwater import parser

        self._check_open()
        if not isinstance(text, str):
            raise PlanError(f"sql() takes the statements as text (str), not {type(text).__name__}: {text!r:.80}")
        statements = [s for s in parser.split_statements(text) if s.strip()]
        if not statements:
            raise ParseError("No statement to run", source=text)
        result: Any = None
        for statement_text in statements:
            try:
                result = self._run(statement_text, properties)
            except RecursionError:
                raise PlanError(NESTED_TOO_DEEPLY, statement=statement_text) from None
        return result

    def _check_open(self) -> None:
        """Refuse work after :meth:`close`: the engine has stopped and released the data directory, so a
        statement would fail somewhere inside with a message about the log rather than the client."""
        if self._closed:
            raise PlanError("This client is closed; open the data directory again with headwater.connect()")

    def _run(self, statement_text: str, properties: Mapping[str, Any] | None) -> Any:
        from headwater import parser

        properties = {**self.properties, **(properties or {})}
        config = engine_config(self.engine, properties)
        try:
            statement = parser.parse_statement(statement_text, variables=dict(self.engine.variables) or None)
        except ParseError:
            if looks_like_query(statement_text):
                return run_select(self.engine, statement_text, None, config)
            raise
        if isinstance(statement, ast.SelectStatement) and statement.query.emit is None:
            return run_select(self.engine, statement_text, statement.query, config)
        if isinstance(statement, ast.Explain) and isinstance(statement.statement, ast.SelectStatement):
            inner = statement.statement
            if inner.query.emit is None:
                return explain_select(self.engine, inner.text or statement_text, inner.query, config)
        if isinstance(statement, (ast.SelectStatement, ast.PrintTopic)):
            return self.engine.stream(statement_text, properties=properties)
        (entity,) = self.engine.execute(statement_text, properties=properties)
        if isinstance(statement, ast.SetProperty):
            self.properties[statement.name] = statement.value
        elif isinstance(statement, ast.UnsetProperty):
            self.properties.pop(statement.name, None)
        return entity

    def explain(self, text: str, properties: Mapping[str, Any] | None = None) -> str:
        """What a historical SELECT reads and how DuckDB runs it (segments selected, SQL, plan)."""
        from headwater import parser

        self._check_open()
        if not isinstance(text, str):
            raise PlanError(f"explain() takes a SELECT as text (str), not {type(text).__name__}: {text!r:.80}")
        config = engine_config(self.engine, {**self.properties, **(properties or {})})
        try:
            statement = parser.parse_statement(text, variables=dict(self.engine.variables) or None)
        except ParseError:
            return explain_select(self.engine, text, None, config)
        if not isinstance(statement, ast.SelectStatement):
            raise PlanError("Only SELECT statements can be explained as historical queries.")
        return explain_select(self.engine, text, statement.query, config)

    # -- reading -------------------------------------------------------------------------------------------
    def read(
        self,
        name: str,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        where: str | None = None,
    ) -> pa.Table:
        """The rows of stream or table ``name`` with ``since <= ROWTIME < until`` as an Arrow table.

        Columns: the source's key and value columns (WINDOWSTART / WINDOWEND of a windowed table), then
        ROWTIME, ROWPARTITION, ROWOFFSET. A table gives its latest row per key. Times are epoch
        milliseconds, ``datetime``s (naive: UTC) or ISO-8601 text; ``where`` is a ksqlDB expression.
        Only the segments that hold the time range are read.
        """
        self._check_open()
        if not isinstance(name, str):
            raise PlanError(f"read() takes the name of a stream or table (str), not {type(name).__name__}: {name!r:.80}")
        if where is not None and not isinstance(where, str):
            raise PlanError(f"read()'s where takes a ksqlDB expression as text (str), not {type(where).__name__}")
        try:
            return read_source(self.engine, name, since, until, where).table
        except RecursionError:
            raise PlanError(NESTED_TOO_DEEPLY) from None

    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """A new DuckDB connection in which every stream and table is a view named as the source.

        Streams are views over their segments (with ROWTIME, ROWPARTITION, ROWOFFSET and the key
        columns); tables show their latest row per key, tombstones removed; windowed sources add
        WINDOWSTART and WINDOWEND. Filters on ROWTIME / ROWOFFSET skip segments without opening them.
        The views show the topics as they are now (rows appended later are not seen); raw topics are
        decoded when the connection is made. Write plain DuckDB SQL here; ``sql()`` speaks ksqlDB.
        """
        self._check_open()
        connection = duckdb.connect()
        registrar = RelationRegistrar(
            self.engine,
            connection,
            engine_config(self.engine),
            decode_cache_for(self.engine),
        )
        for source in self.engine.catalog.sources():
            if not self.engine.log.has_topic(source.topic):
                continue  # a source whose topic was deleted outside Headwater has no rows to show
            mode = RelationMode.TABLE if source.is_table else RelationMode.STREAM
            registrar.register(RelationRequest(source.name, source, mode, UNBOUNDED), lazy=True)
        return connection

    def export(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        where: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ExportReport:
        """Write stream or table ``name`` to the Parquet file ``path`` (see ``headwater export``)."""
        self._check_open()
        return export(self.engine, name, path, since=since, until=until, where=where, progress=progress)

    # -- lifetime ------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the persistent queries this client runs and release the data directory (again: nothing)."""
        if not self._closed:
            self._closed = True
            self.engine.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

