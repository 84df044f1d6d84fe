"""What planning a historical SELECT produces: DuckDB SQL, the relations it reads, its result columns.

A :class:`HistoricalPlan` is a plain value: the planners (:mod:`.ksql_plan` for statements in ksqlDB's
grammar, :mod:`.extension` for the wider SQL Headwater accepts) build it, and the session
(:mod:`.session`) registers the relations it asks for and runs its SQL.

Example:
    >>> from headwater.parser import types as t
    >>> ResultColumn("ID", t.INT, key=True).describe()
    '`ID` INTEGER KEY'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from headwater.engine.catalog import DataSource
from headwater.engine.historical.bounds import UNBOUNDED, ScanBounds
from headwater.engine.schema import format_type, quote
from headwater.parser import types as t

__all__ = ["HistoricalPlan", "RelationMode", "RelationRequest", "ResultColumn"]


class RelationMode(Enum):
    """How a source is presented to DuckDB.

    * ``STREAM``: every record with a value, as a row (null-value records are not rows of a stream).
    * ``TABLE``: the latest row of each key, keys whose latest record is a tombstone left out.
    * ``CHANGELOG``: every record of a table's topic, tombstones flagged in ``__null_value`` (the right
      side of a stream-table join looks up the table as of each stream row's time).
    """

    STREAM = "stream"
    TABLE = "table"
    CHANGELOG = "changelog"


@dataclass(frozen=True, slots=True)
class RelationRequest:
    """One view a plan reads: ``view`` is its DuckDB name, over ``source`` in ``mode``, reading only the
    segments that may hold rows within ``bounds``."""

    view: str
    source: DataSource
    mode: RelationMode
    bounds: ScanBounds = UNBOUNDED


@dataclass(frozen=True, slots=True)
class ResultColumn:
    """A column of the result: name, SQL type, and whether the header marks it KEY (as ksqlDB's does for
    the key columns of a query over one table, and for nothing else)."""

    name: str
    type: t.SqlType
    key: bool = False

    def describe(self) -> str:
        """The column as ksqlDB prints it in a query header's schema."""
        return f"{quote(self.name)} {format_type(self.type)}" + (" KEY" if self.key else "")


@dataclass(frozen=True, slots=True)
class HistoricalPlan:
    """A planned historical SELECT.

    Attributes:
        sql: the DuckDB SQL that computes the result.
        columns: the result columns, in order.
        relations: the views the SQL reads.
        extension: True when the statement is outside ksqlDB's grammar (ORDER BY, subqueries, window
            functions...) and was read as Headwater's SQL extension.
        limit: the statement's LIMIT (ksqlDB's grammar), if any.
    """

    sql: str
    columns: tuple[ResultColumn, ...]
    relations: tuple[RelationRequest, ...] = field(default=())
    extension: bool = False
    limit: int | None = None

    @property
    def schema_text(self) -> str:
        """The result's columns as a query header states them."""
        return ", ".join(c.describe() for c in self.columns)
