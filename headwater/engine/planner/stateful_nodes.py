"""The stateful logical nodes: aggregation, table materialization and filtering, joins.

They take their place in the same trees as the stateless nodes of
:mod:`headwater.engine.planner.logical` and follow the same rules (frozen, validated in
``__post_init__``, ``output`` lists the columns produced). Each lowers to one stateful operator (see
docs/stateful.md for the operators' contracts):

* :class:`AggregateNode` -> ``AggregateOperator``, ``WindowedAggregateOperator`` or
  ``SessionAggregateOperator`` (by its window);
* :class:`TableSourceNode` -> ``TableSourceOperator`` (materializes a table changelog; with
  ``retractions`` it turns updates into retract + upsert for an aggregation over a table);
* :class:`TableFilterNode` -> ``TableFilterOperator`` (WHERE over a materialized table changelog);
* :class:`JoinNode` -> one of the join operators, by its :class:`JoinStrategy`.

Between operators a table is a changelog (docs/stateful.md, "Batch conventions"); output rows of the
stateful operators carry ROWTIME, ROWPARTITION and ROWOFFSET, and windowed results WINDOWSTART and
WINDOWEND.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from headwater.engine.catalog import WindowType
from headwater.engine.planner.logical import PlanNode, RowColumn, _check_unique
from headwater.engine.schema import PSEUDO_COLUMNS, WINDOW_COLUMNS, Namespace, quote

__all__ = [
    "AggregateCallPlan",
    "AggregateNode",
    "JoinNode",
    "JoinStrategy",
    "TableFilterNode",
    "TableSourceNode",
    "WindowPlan",
]


def _pseudo_columns() -> tuple[RowColumn, ...]:
    return tuple(RowColumn(name, sql_type, None) for name, sql_type in PSEUDO_COLUMNS.items())


def _window_columns() -> tuple[RowColumn, ...]:
    return tuple(RowColumn(name, sql_type, None) for name, sql_type in WINDOW_COLUMNS.items())


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """A WINDOW clause: TUMBLING (size), HOPPING (size, advance) or SESSION (gap), with the GRACE
    PERIOD and RETENTION when the statement gave them (None: the operators' defaults)."""

    type: WindowType
    size_ms: int | None = None
    advance_ms: int | None = None
    gap_ms: int | None = None
    grace_ms: int | None = None
    retention_ms: int | None = None

    def __post_init__(self) -> None:
        if self.type is WindowType.SESSION:
            if self.gap_ms is None or self.gap_ms <= 0:
                raise ValueError("a session window needs a positive gap")
        elif self.size_ms is None or self.size_ms <= 0:
            raise ValueError("a time window needs a positive size")

    def describe(self) -> str:
        if self.type is WindowType.SESSION:
            return f"SESSION ({self.gap_ms} ms)"
        if self.type is WindowType.HOPPING:
            return f"HOPPING (SIZE {self.size_ms} ms, ADVANCE BY {self.advance_ms} ms)"
        return f"TUMBLING (SIZE {self.size_ms} ms)"


@dataclass(frozen=True, slots=True)
class AggregateCallPlan:
    """One aggregate call: its output column, the resolved aggregate
    (:class:`~headwater.engine.aggregates.ResolvedAggregate`), the bound expressions of its column
    arguments, the values of its literal arguments, and its SQL for EXPLAIN."""

    column: RowColumn
    resolved: Any
    arguments: tuple[Any, ...]
    literals: tuple[Any, ...] = ()
    sql: str = ""


@dataclass(frozen=True, slots=True)
class AggregateNode(PlanNode):
    """GROUP BY: one output row per touched group (window, session) per batch, a table changelog.

    Attributes:
        input: a stream's rows, or a table changelog with retractions (a :class:`TableSourceNode`
            with ``retractions`` below it).
        keys: (key column, bound GROUP BY expression) per grouping expression.
        calls: the aggregate calls.
        having: the bound HAVING predicate over this node's output, or None.
        window: the WINDOW clause, or None.
        emit_final: EMIT FINAL (only with a window).
        keys_sql: the GROUP BY expressions as SQL (EXPLAIN).
        required_columns: the input columns the query reads (SELECT, aggregate arguments with
            COUNT(*) reading ROWTIME, WHERE, GROUP BY, HAVING; first use first): what ksqlDB calls
            the aggregation's "columns not part of aggregate", which a query upgrade may not change.
    """

    kind = "aggregate"
    input: PlanNode
    keys: tuple[tuple[RowColumn, Any], ...]
    calls: tuple[AggregateCallPlan, ...]
    having: Any = None
    window: WindowPlan | None = None
    emit_final: bool = False
    keys_sql: tuple[str, ...] = ()
    required_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("an aggregation needs at least one GROUP BY expression")
        if self.emit_final and self.window is None:
            raise ValueError("EMIT FINAL needs a window")
        if any(column.namespace is not Namespace.KEY for column, _ in self.keys):
            raise ValueError("GROUP BY expressions become key columns")
        _check_unique(self.output, "aggregation")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        keys = tuple(column for column, _ in self.keys)
        window = _window_columns() if self.window is not None else ()
        return keys + tuple(call.column for call in self.calls) + window + _pseudo_columns()

    def explain_line(self) -> str:
        window = f" WINDOW {self.window.describe()}" if self.window is not None else ""
        return "AGGREGATE GROUP BY " + ", ".join(self.keys_sql) + window


@dataclass(frozen=True, slots=True)
class TableSourceNode(PlanNode):
    """Materialize a table changelog: deletes of absent keys dropped; with ``retractions`` each update
    becomes ``retract(old row), upsert(new row)`` (the input of an aggregation over a table)."""

    kind = "table_source"
    input: PlanNode
    key_columns: tuple[str, ...]
    retractions: bool = False

    def __post_init__(self) -> None:
        missing = set(self.key_columns) - {c.name for c in self.input.output}
        if missing or not self.key_columns:
            raise ValueError(f"table key columns {sorted(missing)} are not produced by the input")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.input.output

    def explain_line(self) -> str:
        return "MATERIALIZE " + ", ".join(quote(k) for k in self.key_columns)


@dataclass(frozen=True, slots=True)
class TableFilterNode(PlanNode):
    """WHERE over a table changelog: a key whose row stops passing gets a tombstone, a key whose row
    never passed stays silent."""

    kind = "table_filter"
    input: PlanNode
    predicate: Any
    key_columns: tuple[str, ...]
    predicate_sql: str = ""

    def __post_init__(self) -> None:
        missing = set(self.key_columns) - {c.name for c in self.input.output}
        if missing:
            raise ValueError(f"table key columns {sorted(missing)} are not produced by the input")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.input.output

    def explain_line(self) -> str:
        return f"FILTER {self.predicate_sql}"


class JoinStrategy(Enum):
    """Which join operator runs a join: by the kinds of its inputs and whether it is on the right
    table's key from a left column that is not the left key (a foreign key)."""

    STREAM_STREAM = "stream_stream"
    STREAM_TABLE = "stream_table"
    TABLE_TABLE = "table_table"
    FOREIGN_KEY = "foreign_key"


@dataclass(frozen=True, slots=True)
class JoinNode(PlanNode):
    """A join of two inputs on equal keys.

    Attributes:
        left, right: the inputs (a stream's rows or a table changelog), each keyed by the join
            expression: ``left_key`` / ``right_key`` name those columns of the input's output.
        strategy: the join operator that runs it.
        join_type: INNER, LEFT, RIGHT or FULL.
        key_columns: the output key columns (the key of the record that produced each row).
        left_columns, right_columns: (input column, output column) carried from each side.
        before_ms, after_ms, grace_ms: a stream-stream join's window (WITHIN) and GRACE PERIOD.
        foreign_key: a foreign-key join's left columns holding the right table's key.
        windowed: the inputs are windowed sources (their window bounds are part of the key).
        criteria_sql: the ON clause (EXPLAIN).
    """

    kind = "join"
    left: PlanNode
    right: PlanNode
    strategy: JoinStrategy
    join_type: str
    left_key: tuple[str, ...]
    right_key: tuple[str, ...]
    key_columns: tuple[RowColumn, ...]
    left_columns: tuple[tuple[str, RowColumn], ...]
    right_columns: tuple[tuple[str, RowColumn], ...]
    before_ms: int | None = None
    after_ms: int | None = None
    grace_ms: int | None = None
    foreign_key: tuple[str, ...] = ()
    windowed: bool = False
    criteria_sql: str = ""

    def __post_init__(self) -> None:
        if self.join_type not in ("INNER", "LEFT", "RIGHT", "FULL"):
            raise ValueError(f"unknown join type {self.join_type}")
        left_names = {c.name for c in self.left.output}
        right_names = {c.name for c in self.right.output}
        wanted_left = set(self.left_key) | {name for name, _ in self.left_columns} | set(self.foreign_key)
        wanted_right = set(self.right_key) | {name for name, _ in self.right_columns}
        if not wanted_left <= left_names or not wanted_right <= right_names:
            missing = sorted((wanted_left - left_names) | (wanted_right - right_names))
            raise ValueError(f"join columns {missing} are not produced by its inputs")
        if self.strategy is JoinStrategy.STREAM_STREAM and (self.before_ms is None or self.after_ms is None):
            raise ValueError("a stream-stream join needs a WITHIN window")
        if self.strategy is JoinStrategy.FOREIGN_KEY and not self.foreign_key:
            raise ValueError("a foreign-key join needs its foreign key columns")
        _check_unique(self.output, "join")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.left, self.right)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        carried = tuple(c for _, c in self.left_columns) + tuple(c for _, c in self.right_columns)
        window = _window_columns() if self.windowed else ()
        return self.key_columns + carried + window + _pseudo_columns()

    def explain_line(self) -> str:
        return f"{self.join_type} JOIN ({self.strategy.value}) ON {self.criteria_sql}"
