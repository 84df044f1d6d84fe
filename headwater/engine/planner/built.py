"""The values the query builder hands around: what a SELECT reads, and what a planned SELECT is.

:class:`QueryInput` is the FROM clause resolved (one source, or a join of several): the plan that
produces its rows, the scope expressions bind in, whether it is a stream or a table, and how to
rewrite a column reference into the one canonical form used to compare expressions (ksqlDB compares
GROUP BY and SELECT expressions after the same rewrite). :class:`BuiltQuery` is a planned SELECT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from headwater.engine.catalog import DataSource, SourceType, WindowInfo
from headwater.engine.expressions.scope import Scope
from headwater.engine.planner.logical import PlanNode, RowColumn
from headwater.engine.schema import LogicalSchema
from headwater.parser import expressions as pe

__all__ = ["BuiltQuery", "QueryInput", "SelectColumn"]


@dataclass(frozen=True, slots=True)
class SelectColumn:
    """One output column of a query: its column (name, type, namespace), the bound expression, and the
    SQL it came from."""

    column: RowColumn
    bound: Any
    sql: str
    expression: pe.Expression


@dataclass(frozen=True, slots=True)
class QueryInput:
    """The FROM clause of a SELECT, resolved.

    Attributes:
        plan: the plan producing the input rows (a scan, or a join).
        scope: what expressions over those rows can see.
        sources: every source read, left to right.
        kind: STREAM, or TABLE (a table source, or a join of tables): the input is a changelog.
        key_columns: the input's key columns (batch names).
        source_columns: every column name of every source (generated names avoid them).
        normalize: rewrites an expression's column references into one canonical form, so two
            spellings of the same expression (``ID``, ``S.ID``) compare equal.
        display: rewrites an expression into the form ksqlDB prints in messages.
        window: the window of a windowed input, or None.
        alias: the single source's alias (the first source's for a join).
        join: for a join, what its projection needs (:class:`~headwater.engine.planner.joins.JoinInfo`).
    """

    plan: PlanNode
    scope: Scope
    sources: tuple[DataSource, ...]
    kind: SourceType
    key_columns: tuple[str, ...]
    source_columns: tuple[str, ...]
    normalize: Callable[[pe.Expression], pe.Expression]
    display: Callable[[pe.Expression], pe.Expression]
    window: WindowInfo | None = None
    alias: str = ""
    join: Any = None

    @property
    def source(self) -> DataSource:
        return self.sources[0]

    @property
    def is_table(self) -> bool:
        return self.kind is SourceType.TABLE

    @property
    def is_join(self) -> bool:
        return len(self.sources) > 1


@dataclass(frozen=True, slots=True)
class BuiltQuery:
    """A planned SELECT: the plan up to the projection (or limit), the sources, and the result.

    Attributes:
        kind: whether the result is a STREAM or a TABLE (an aggregation, a table source, a join of
            tables).
        window: the result's key window (a windowed aggregation or a windowed source), or None.
    """

    plan: PlanNode
    source: DataSource
    schema: LogicalSchema
    columns: tuple[SelectColumn, ...]
    key_columns: tuple[str, ...]
    partition_by: bool = False
    limit: int | None = None
    warnings: tuple[str, ...] = field(default=())
    kind: SourceType = SourceType.STREAM
    window: WindowInfo | None = None
    sources: tuple[DataSource, ...] = ()

    @property
    def all_sources(self) -> tuple[DataSource, ...]:
        return self.sources or (self.source,)
