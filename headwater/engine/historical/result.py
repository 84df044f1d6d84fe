"""The answer of a historical query: an Arrow table, its header, and what computing it took.

:class:`HistoricalResult` can stand wherever the engine hands out a push query's ``QueryStream``: it has
``header``, iteration over :class:`~headwater.engine.entities.QueryRow`, ``close()``, ``closed`` and a
``final_message`` ("Limit Reached" when a LIMIT was reached, else "Query Completed"). It also keeps the whole result as an Arrow ``table`` and the
:class:`QueryStats` (segments read and skipped, records that could not be decoded, rows whose
expressions failed), which the Python API, EXPLAIN and the shell report.

Example::

    result = run_select(engine, "SELECT ID, COUNT(*) FROM ORDERS GROUP BY ID;")
    result.table.num_rows, result.stats.segments_opened
    for row in result: print(row.columns)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from headwater.engine.entities import FinalMessage, QueryHeader, QueryRow
from headwater.engine.historical.plan import ResultColumn
from headwater.engine.schema import format_type

__all__ = ["HistoricalResult", "QueryStats", "SourceStats"]


@dataclass(frozen=True, slots=True)
class SourceStats:
    """How one source was read.

    Attributes:
        name: the stream or table.
        topic: its topic.
        segments_total: segments the topic had.
        segments_selected: segments that could hold rows within the query's bounds.
        segments_opened: segments actually opened (DuckDB may skip more of the selected ones).
        decoded: True when records were decoded (raw topics), False when stored columns were read.
        bounds: the bounds, in words.
    """

    name: str
    topic: str
    segments_total: int
    segments_selected: int
    segments_opened: int
    decoded: bool
    bounds: str


@dataclass(frozen=True, slots=True)
class QueryStats:
    """What a historical query read and skipped.

    Attributes:
        sources: per source read.
        undecodable_records: records dropped because they did not decode, per topic.
        failed_rows: values that failed to compute and were made NULL (see the processing log).
    """

    sources: tuple[SourceStats, ...] = ()
    undecodable_records: dict[str, int] = field(default_factory=dict)
    failed_rows: int = 0

    @property
    def segments_total(self) -> int:
        return sum(s.segments_total for s in self.sources)

    @property
    def segments_selected(self) -> int:
        return sum(s.segments_selected for s in self.sources)

    @property
    def segments_opened(self) -> int:
        return sum(s.segments_opened for s in self.sources)

    @property
    def undecodable_total(self) -> int:
        return sum(self.undecodable_records.values())

    def warnings(self) -> tuple[str, ...]:
        """Sentences for the user about records left out or values made NULL."""
        out = []
        for topic, count in sorted(self.undecodable_records.items()):
            out.append(
                f"{count} record(s) of topic {topic} could not be decoded and were skipped "
                "(see the processing log, KSQL_PROCESSING_LOG)."
            )
        if self.failed_rows:
            out.append(
                f"{self.failed_rows} value(s) failed to compute and are NULL (see the processing log, "
                "KSQL_PROCESSING_LOG)."
            )
        return tuple(out)


class HistoricalResult:
    """A finished historical query (see the module docstring).

    Args:
        query_id: the transient query id the header carries.
        columns: the result columns.
        table: the rows, one Arrow column per result column.
        stats: what was read.
        sql: the DuckDB SQL that ran.
        limit: the statement's LIMIT: reaching it ends the result with "Limit Reached", as ksqlDB's pull
            queries do, else "Query Completed".
    """

    def __init__(
        self,
        query_id: str,
        columns: tuple[ResultColumn, ...],
        table: pa.Table,
        stats: QueryStats,
        sql: str = "",
        limit: int | None = None,
    ) -> None:
        self.columns = columns
        self.table = table
        self.stats = stats
        self.sql = sql
        self.header = QueryHeader(
            query_id,
            ", ".join(c.describe() for c in columns),
            tuple(c.name for c in columns),
            tuple(format_type(c.type) for c in columns),
        )
        limited = limit is not None and table.num_rows >= limit
        self.final_message: FinalMessage | None = FinalMessage("Limit Reached" if limited else "Query Completed")
        self._closed = False

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.stats.warnings()

    def rows(self) -> list[tuple[Any, ...]]:
        """Every row as a tuple of Python values."""
        columns = [column.to_pylist() for column in self.table.columns]
        return list(zip(*columns)) if columns else []

    def __iter__(self) -> Iterator[QueryRow]:
        for row in self.rows():
            if self._closed:
                return
            yield QueryRow(tuple(row))

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def close(self) -> None:
        """Stop iteration (the rows are already computed; nothing else runs)."""
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        return f"HistoricalResult({self.header.schema!r}, rows={self.table.num_rows})"
