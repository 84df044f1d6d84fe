"""The logical plan: what a query computes, as a tree of frozen, validated nodes.

The builder (:mod:`headwater.engine.planner.builder`) turns a bound statement into these nodes; the
physical planner (:mod:`headwater.engine.planner.physical`) lowers each node kind to one operator. A node
knows the columns it produces (:class:`RowColumn`: name, SQL type, namespace) and validates in
``__post_init__`` that what it refers to exists, so an impossible plan cannot be built.

Expressions inside nodes are *bound* expressions (:mod:`headwater.engine.expressions`): typed, resolved
against the input's columns. Nodes only require that they have a ``type`` attribute.

Shapes, in ksqlDB's order (PARTITION BY applies to the input, before table functions and the
projection)::

    Scan -> [Filter] -> [PartitionBy] -> [FlatMap] -> Project -> [Repartition] -> Sink   (CSAS, INSERT ... SELECT)
    Scan -> [Filter] -> [PartitionBy] -> [FlatMap] -> Project -> [Limit]                 (push queries)
    Scan -> [TableSource] -> [Filter] -> Aggregate -> Project -> ...                     (GROUP BY, windows)
    Scan [-> TableFilter] -> Project                                                     (queries over tables)
    (Scan -> [Project]) x2 -> Join -> [Filter | TableFilter] -> Project -> ...           (joins, n-way nested)

The stateful nodes (aggregation, table materialization and filtering, the join kinds) are in
:mod:`headwater.engine.planner.stateful_nodes`; the physical planner lowers the node kinds of both
modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.engine.catalog import DataSource
from headwater.engine.schema import Namespace, format_type, quote
from headwater.parser import types as t

__all__ = [
    "FilterNode",
    "FlatMapNode",
    "LimitNode",
    "PartitionByNode",
    "PlanNode",
    "ProjectNode",
    "RepartitionNode",
    "RowColumn",
    "ScanNode",
    "SinkNode",
    "walk_plan",
]


@dataclass(frozen=True, slots=True)
class RowColumn:
    """A column a node produces. ``namespace`` is None for pseudo-columns (ROWTIME...)."""

    name: str
    type: t.SqlType
    namespace: Namespace | None = Namespace.VALUE

    def describe(self) -> str:
        suffix = " KEY" if self.namespace is Namespace.KEY else ""
        return f"{quote(self.name)} {format_type(self.type)}{suffix}"


def _names(columns: tuple[RowColumn, ...]) -> set[str]:
    return {c.name for c in columns}


def _check_unique(columns: tuple[RowColumn, ...], what: str) -> None:
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"{what}: duplicate column {quote(dup)}")


class PlanNode:
    """Base of every logical node."""

    __slots__ = ()
    kind: str = ""

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return ()

    @property
    def output(self) -> tuple[RowColumn, ...]:
        raise NotImplementedError

    def explain_line(self) -> str:
        """One line for EXPLAIN's plan text."""
        return self.kind


@dataclass(frozen=True, slots=True)
class ScanNode(PlanNode):
    """Read a source's records: its key, value and header columns plus the pseudo-columns."""

    kind = "scan"
    source: DataSource
    columns: tuple[RowColumn, ...]

    def __post_init__(self) -> None:
        _check_unique(self.columns, "scan")

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.columns

    def explain_line(self) -> str:
        return f"SOURCE {self.source.name} (topic {self.source.topic})"


@dataclass(frozen=True, slots=True)
class FilterNode(PlanNode):
    """Keep rows where ``predicate`` (a bound BOOLEAN expression) is TRUE."""

    kind = "filter"
    input: PlanNode
    predicate: Any
    predicate_sql: str = ""

    def __post_init__(self) -> None:
        if getattr(self.predicate, "type", t.BOOLEAN) not in (t.BOOLEAN, None):
            raise ValueError("a filter predicate must be BOOLEAN")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.input.output

    def explain_line(self) -> str:
        return f"FILTER {self.predicate_sql}"


@dataclass(frozen=True, slots=True)
class PartitionByNode(PlanNode):
    """PARTITION BY: give the rows new key columns computed from the input, as ksqlDB does before the
    projection (its ``UserRepartitionNode``).

    The output has the new key columns first (named after the column a key expression references, a
    struct field's name, or ``KSQL_COL_<n>``), then the input's other columns with the old key columns
    moved to the value (after the value columns, as ksqlDB orders them), then the pseudo-columns. A key
    that *is* an input column (``PARTITION BY NAME``, ``PARTITION BY ROWTIME``) takes that column's
    place. No keys (``PARTITION BY NULL``) makes a keyless result.

    Attributes:
        input: the rows to re-key.
        keys: (new key column, bound expression) per PARTITION BY expression.
        keys_sql: the expressions as ksqlDB prints them (EXPLAIN).
    """

    kind = "partition_by"
    input: PlanNode
    keys: tuple[tuple[RowColumn, Any], ...]
    keys_sql: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if any(c.namespace is not Namespace.KEY for c, _ in self.keys):
            raise ValueError("PARTITION BY produces key columns")
        _check_unique(self.output, "partition by")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        new_keys = tuple(c for c, _ in self.keys)
        taken = {c.name for c in new_keys}
        remaining = [c for c in self.input.output if c.name not in taken]
        values = [c for c in remaining if c.namespace not in (Namespace.KEY, None)]
        moved = [
            RowColumn(c.name, c.type, Namespace.VALUE) for c in remaining if c.namespace is Namespace.KEY
        ]
        pseudo = [c for c in remaining if c.namespace is None]
        return new_keys + tuple(values) + tuple(moved) + tuple(pseudo)

    def explain_line(self) -> str:
        return "PARTITION BY " + (", ".join(self.keys_sql) if self.keys_sql else "NULL")


@dataclass(frozen=True, slots=True)
class FlatMapNode(PlanNode):
    """Table functions: each (output name, bound table-function call, type) adds a column, and rows are
    repeated per produced value."""

    kind = "flat_map"
    input: PlanNode
    functions: tuple[tuple[str, Any, t.SqlType], ...]

    def __post_init__(self) -> None:
        if not self.functions:
            raise ValueError("a flat map needs a table function")
        clash = _names(self.input.output) & {name for name, _, _ in self.functions}
        if clash:
            raise ValueError(f"flat map output {sorted(clash)} clashes with input columns")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.input.output + tuple(RowColumn(n, ty) for n, _, ty in self.functions)

    def explain_line(self) -> str:
        return "FLAT_MAP " + ", ".join(name for name, _, _ in self.functions)


@dataclass(frozen=True, slots=True)
class ProjectNode(PlanNode):
    """The SELECT list: (output column, bound expression) per item; key columns are marked by the
    column's namespace."""

    kind = "project"
    input: PlanNode
    items: tuple[tuple[RowColumn, Any], ...]
    items_sql: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_unique(tuple(c for c, _ in self.items), "projection")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return tuple(c for c, _ in self.items)

    def explain_line(self) -> str:
        parts = []
        for (column, _), sql in zip(self.items, self.items_sql or [""] * len(self.items)):
            parts.append(f"{sql} AS {quote(column.name)}" if sql else quote(column.name))
        return "PROJECT " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class RepartitionNode(PlanNode):
    """Assign each row the partition its key selects in the sink: serialise the key columns in the
    sink's key format and apply Kafka's murmur2 partitioner (done by the log on append)."""

    kind = "repartition"
    input: PlanNode
    key_columns: tuple[str, ...]
    sink: DataSource

    def __post_init__(self) -> None:
        missing = set(self.key_columns) - _names(self.input.output)
        if missing:
            raise ValueError(f"repartition key columns {sorted(missing)} are not produced by the input")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.input.output

    def explain_line(self) -> str:
        return "REPARTITION BY " + ", ".join(quote(k) for k in self.key_columns)


@dataclass(frozen=True, slots=True)
class LimitNode(PlanNode):
    """LIMIT n of a push query; ``table`` when its rows are a table's changes (deletes are rows)."""

    kind = "limit"
    input: PlanNode
    limit: int
    table: bool = False

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError("LIMIT must not be negative")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.input.output

    def explain_line(self) -> str:
        return f"LIMIT {self.limit}"


@dataclass(frozen=True, slots=True)
class SinkNode(PlanNode):
    """Append the rows to the sink's topic (typed), with each row's event time and headers."""

    kind = "sink"
    input: PlanNode
    sink: DataSource

    def __post_init__(self) -> None:
        produced = {c.name: c for c in self.input.output}
        for column in self.sink.schema:
            if column.is_header:
                continue
            if column.name not in produced:
                raise ValueError(f"sink column {quote(column.name)} is not produced by the query")

    @property
    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def output(self) -> tuple[RowColumn, ...]:
        return self.input.output

    def explain_line(self) -> str:
        return f"SINK {self.sink.name} (topic {self.sink.topic})"


def walk_plan(node: PlanNode) -> list[PlanNode]:
    """The nodes of a plan, sources first (the order operators run in a linear plan)."""
    out: list[PlanNode] = []
    for child in node.inputs:
        out.extend(walk_plan(child))
    out.append(node)
    return out
