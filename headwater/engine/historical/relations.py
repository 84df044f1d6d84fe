"""Streams and tables as DuckDB views over their topics' segments.

Every view has the source's columns (in schema order), WINDOWSTART and WINDOWEND for a windowed
source, then ROWTIME, ROWPARTITION and ROWOFFSET:

* a **stream** view holds a row per record with a value (records without one are not rows, as in a
  streaming query);
* a **table** view holds the latest row of each key (for a windowed table: of each key and window),
  by offset as Kafka's table semantics have it, keys whose latest record is a tombstone left out;
* a **changelog** view (the table side of a stream-table join) holds every record of a table's topic
  with the tombstone flag ``__null_value``.

Two ways to the rows, chosen per source:

* **stored columns**: a typed topic that stores exactly the source's columns (every persistent query's
  sink, and typed topics declared with the same schema) is scanned in place, as an Arrow dataset over
  its segments (:mod:`.segments`); DuckDB pushes filters and projections into that scan.
* **decoded**: raw topics (JSON, DELIMITED, ...), typed topics read with other columns, sources with
  header columns or a TIMESTAMP column go through the streaming scan operator (:mod:`.decode`).

Segments are picked per view from the request's bounds (streams only: which record of a table is the
latest does not depend on a time range), and every segment read is counted.

Example::

    registrar = RelationRegistrar(engine, connection, config)
    scan = registrar.register(RelationRequest("ORDERS", source, RelationMode.STREAM, bounds))
    connection.sql('SELECT count(*) FROM "ORDERS"')
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from headwater.engine.catalog import DataSource
from headwater.engine.historical.bounds import UNBOUNDED, ScanBounds
from headwater.engine.historical.decode import DecodeCache, DecodeReport, SourceDecoder
from headwater.engine.historical.duck_types import quote_identifier
from headwater.engine.historical.plan import RelationMode, RelationRequest
from headwater.engine.historical.segments import (
    SealedSegmentCache,
    SegmentOpenCounter,
    TopicSnapshot,
    stored_dataset,
    stored_table,
)
from headwater.engine.operators.base import NULL_VALUE_COLUMN
from headwater.engine.schema import PSEUDO_COLUMNS, ROWOFFSET, ROWPARTITION, ROWTIME, WINDOW_COLUMNS
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.storage import TopicNotFoundError

__all__ = ["MATERIALIZE_ROWS", "RelationRegistrar", "SourceScan", "view_columns"]

MATERIALIZE_ROWS = 2_000_000
"""The largest relation a joining query copies into DuckDB (see ``RelationRegistrar.register``)."""

_STORED_PSEUDO = {ROWTIME: "__timestamp", ROWPARTITION: "__partition", ROWOFFSET: "__offset"}


@dataclass
class SourceScan:
    """What reading one view took.

    Attributes:
        view: the DuckDB view.
        source: the stream or table.
        mode: how it is presented.
        bounds: the bounds segments were chosen by.
        segments_total: segments of the topic at the time of the query.
        segments_selected: segments that may hold rows within the bounds (the ones the view can read).
        counter: records which segment files were actually opened.
        decoded: True when rows went through the scan operator, False when stored columns were read.
        selected: the paths of the selected segments, in partition and offset order.
    """

    view: str
    source: DataSource
    mode: RelationMode
    bounds: ScanBounds
    segments_total: int
    segments_selected: int
    counter: SegmentOpenCounter
    decoded: bool
    selected: tuple[str, ...] = ()

    @property
    def segments_opened(self) -> int:
        return len(self.counter.opened)


def _any_true(flags: pa.ChunkedArray) -> bool:
    """Whether any row is flagged (a tombstone, a record without a value)."""
    return bool(flags.null_count < len(flags) and pc.any(flags).as_py())


def view_columns(source: DataSource) -> list[str]:
    """The columns of a source's view, in order."""
    names = [c.name for c in source.schema]
    if source.window is not None:
        names += list(WINDOW_COLUMNS)
    return names + list(PSEUDO_COLUMNS)


def _writer(engine: Any, topic: str) -> DataSource | None:
    return next((s for s in engine.catalog.sources() if s.topic == topic and s.is_sink), None)


def reads_stored_columns(engine: Any, source: DataSource, snapshot: TopicSnapshot) -> bool:
    """Whether the source's rows are the topic's stored columns as they are (no decoding needed)."""
    if snapshot.is_raw or source.timestamp_column is not None or source.schema.header_columns:
        return False
    writer = _writer(engine, source.topic)
    if writer is not None:
        mine = [(c.name, c.type, c.is_key) for c in source.schema]
        theirs = [(c.name, c.type, c.is_key) for c in writer.schema if not c.is_header]
        if mine != theirs or (writer.window is None) != (source.window is None):
            return False
    stored = snapshot.stored_schema
    wanted = [(c.name, to_arrow(c.type)) for c in source.schema]
    if source.window is not None:
        wanted += [(name, to_arrow(sql_type)) for name, sql_type in WINDOW_COLUMNS.items()]
    for name, arrow_type in wanted:
        index = stored.get_field_index(name)
        if index < 0 or stored.field(index).type != arrow_type:
            return False
    return True


class RelationRegistrar:
    """Registers views on one DuckDB connection (see the module docstring).

    Args:
        engine: the engine whose catalog and log are read.
        connection: the DuckDB connection.
        config: the query's configuration (decoding reads some properties).
        cache: decoded sealed segments kept between queries, or None.
        report: counts records that could not be decoded.
        sealed: prepared batches of sealed segments kept between queries, or None.
    """

    def __init__(
        self,
        engine: Any,
        connection: duckdb.DuckDBPyConnection,
        config: Mapping[str, Any],
        cache: DecodeCache | None = None,
        report: DecodeReport | None = None,
        sealed: SealedSegmentCache | None = None,
    ) -> None:
        self.engine = engine
        self.connection = connection
        self.config = dict(config)
        self.cache = cache
        self.sealed = sealed
        self.report = report or DecodeReport()
        self.scans: list[SourceScan] = []
        self._counter = itertools.count()

    def register(
        self,
        request: RelationRequest,
        *,
        only: Collection[str] | None = None,
        dry_run: bool = False,
        lazy: bool = False,
        materialize: bool = False,
    ) -> SourceScan:
        """Create (or replace) the view ``request.view``.

        Args:
            request: the view to create.
            only: read only the segments with these paths (an export goes segment by segment).
            dry_run: read nothing: the view has the right columns and no rows (EXPLAIN), while the
                scan statistics still say which segments a real run would read.
            lazy: present stored columns as an Arrow dataset whose fragments carry the segments'
                bounds, so DuckDB skips segments by its own filters when queries come (a connection
                handed to the user); otherwise as a table of the chosen segments, whose row count
                DuckDB's optimizer can see (planned queries, whose bounds are known).
            materialize: copy the view's rows into a DuckDB temporary table when there are at most
                :data:`MATERIALIZE_ROWS` of them. DuckDB keeps column statistics (min / max) for its
                own tables, never for Arrow scans, and its join planning uses them (the build side of
                a join with a 100,000-row topic measured 1.8x less CPU from a native table); queries
                that join ask for it.

        Raises:
            PlanError: the source's topic is gone.
            StorageError: the source's topic is damaged (it says what is wrong, where; saying "does not
                exist" would send the user looking in the wrong place).
        """
        source = request.source
        try:
            topic = self.engine.log.topic(source.topic)
        except TopicNotFoundError:
            raise PlanError(f"The topic {source.topic!r} of {source.kind.title.lower()} {source.name} does not exist.") from None
        snapshot = TopicSnapshot.take(topic)
        bounds = request.bounds if request.mode is RelationMode.STREAM else UNBOUNDED
        chosen = snapshot.select(bounds)
        if only is not None:
            chosen = [s for s in chosen if str(s.path) in only]
        counter = SegmentOpenCounter()
        number = next(self._counter)
        direct = reads_stored_columns(self.engine, source, snapshot)
        if direct:
            name = f"__hw_stored_{number}"
            segments = [] if dry_run else chosen
            data: pa.Table | ds.Dataset
            rows_known: int | None = None
            if lazy:
                data = stored_dataset(snapshot, segments, counter)
                null_values = True
            else:
                data = stored_table(snapshot, segments, counter, self.sealed)
                null_values = _any_true(data.column("__tombstone"))
                rows_known = data.num_rows
            self.connection.register(name, data)
            rows = self._stored_rows(source, name)
        else:
            name = f"__hw_rows_{number}"
            decoder = SourceDecoder.for_source(self.engine, source, self.config, self.report)
            table = decoder.decode(snapshot, [] if dry_run else chosen, self.cache, counter)
            null_values = _any_true(table.column(NULL_VALUE_COLUMN))
            rows_known = table.num_rows
            self.connection.register(name, table)
            rows = f"SELECT * FROM {quote_identifier(name)}"
        view = self._view(source, request.mode, rows, null_values)
        if materialize and not dry_run and rows_known is not None and rows_known <= MATERIALIZE_ROWS:
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {quote_identifier(request.view)} AS {view}")
            self.connection.unregister(name)
        else:
            self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {quote_identifier(request.view)} AS {view}")
        scan = SourceScan(
            request.view,
            source,
            request.mode,
            bounds,
            len(snapshot.segments),
            len(chosen),
            counter,
            not direct,
            tuple(str(s.path) for s in chosen),
        )
        self.scans.append(scan)
        return scan

    @staticmethod
    def _stored_rows(source: DataSource, registered: str) -> str:
        columns = [quote_identifier(c.name) for c in source.schema]
        if source.window is not None:
            columns += [quote_identifier(name) for name in WINDOW_COLUMNS]
        columns += [f"{quote_identifier(stored)} AS {quote_identifier(name)}" for name, stored in _STORED_PSEUDO.items()]
        columns.append(f'"__tombstone" AS {quote_identifier(NULL_VALUE_COLUMN)}')
        return f"SELECT {', '.join(columns)} FROM {quote_identifier(registered)}"

    @staticmethod
    def _view(source: DataSource, mode: RelationMode, rows: str, null_values: bool = True) -> str:
        """The view's SQL over ``rows``; without ``null_values`` (no record lacks a value) a stream's
        view needs no filter, which leaves DuckDB a plain scan."""
        visible = ", ".join(quote_identifier(name) for name in view_columns(source))
        flag = quote_identifier(NULL_VALUE_COLUMN)
        if mode is RelationMode.STREAM:
            if not null_values:
                return f"SELECT {visible} FROM ({rows})"
            return f"SELECT {visible} FROM ({rows}) WHERE NOT {flag}"
        keys = [quote_identifier(c.name) for c in source.schema.key_columns]
        present = " OR ".join(f"{k} IS NOT NULL" for k in keys) or "TRUE"
        if mode is RelationMode.CHANGELOG:
            return f"SELECT {visible}, {flag} FROM ({rows}) WHERE {present}"
        partition = keys + ([quote_identifier(n) for n in WINDOW_COLUMNS] if source.window is not None else [])
        over = f"PARTITION BY {', '.join(partition)} " if partition else ""
        ranked = (
            f"SELECT *, row_number() OVER ({over}ORDER BY {quote_identifier(ROWOFFSET)} DESC, "
            f'{quote_identifier(ROWPARTITION)} DESC) AS "__hw_rank" FROM ({rows}) WHERE {present}'
        )
        return f'SELECT {visible} FROM ({ranked}) WHERE "__hw_rank" = 1 AND NOT {flag}'
