"""EXPLAIN's texts: the execution plan in ksqlDB's ``PlanSummary`` layout, and the operator topology.

The execution plan lists the steps from the sink down to the source, each as::

     > [ PROJECT ] | Schema: ID STRING KEY, V INTEGER | Logger: CSAS_OUT_0.Project

one tab pair deeper per level, with ksqlDB's step names (SOURCE, FILTER, REKEY, FLAT_MAP, PROJECT,
SINK), the step's schema as ksqlDB prints processing schemas (names quoted only when they need it, the
pseudo-columns and a copy of the key columns in the value of the steps before the projection) and the
processing-log logger of the step. The re-keying a sink needs (serialising its key for the partitioner)
and a push query's LIMIT are not steps in ksqlDB's plans and are left out.

The topology lists the operators that run, in the layout of a Kafka Streams topology description, so
the two read alike; the names are Headwater's operators, not Kafka Streams processors.
"""

from __future__ import annotations

import re

from headwater.engine.planner.logical import (
    FilterNode,
    FlatMapNode,
    LimitNode,
    PartitionByNode,
    PlanNode,
    ProjectNode,
    RepartitionNode,
    RowColumn,
    ScanNode,
    SinkNode,
    walk_plan,
)
from headwater.engine.planner.stateful_nodes import (
    AggregateNode,
    JoinNode,
    JoinStrategy,
    TableFilterNode,
    TableSourceNode,
)
from headwater.engine.schema import Namespace
from headwater.parser import types as t

__all__ = ["execution_plan", "topology"]

_STEP_NAMES: dict[type[PlanNode], tuple[str, str]] = {
    ScanNode: ("SOURCE", "KsqlTopic.Source"),
    FilterNode: ("FILTER", "WhereFilter"),
    PartitionByNode: ("REKEY", "PartitionBy"),
    FlatMapNode: ("FLAT_MAP", "FlatMap"),
    ProjectNode: ("PROJECT", "Project"),
    AggregateNode: ("AGGREGATE", "Aggregate.Aggregate"),
    TableSourceNode: ("TABLE_SOURCE", "KsqlTopic.Source.Materialize"),
    TableFilterNode: ("FILTER", "WhereFilter"),
}
_JOIN_STEPS = {
    JoinStrategy.STREAM_STREAM: "STREAM_STREAM_JOIN",
    JoinStrategy.STREAM_TABLE: "STREAM_TABLE_JOIN",
    JoinStrategy.TABLE_TABLE: "TABLE_TABLE_JOIN",
    JoinStrategy.FOREIGN_KEY: "FK_TABLE_TABLE_JOIN",
}
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _name(name: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) and name == name.upper() else f"`{name}`"


def _type(sql_type: t.SqlType) -> str:
    if isinstance(sql_type, t.Array):
        return f"ARRAY<{_type(sql_type.element)}>"
    if isinstance(sql_type, t.Map):
        return f"MAP<{_type(sql_type.key)}, {_type(sql_type.value)}>"
    if isinstance(sql_type, t.Struct):
        return "STRUCT<" + ", ".join(f"{_name(n)} {_type(ft)}" for n, ft in sql_type.fields) + ">"
    return sql_type.sql()


def _schema(columns: tuple[RowColumn, ...], *, processing: bool) -> str:
    keys = [c for c in columns if c.namespace is Namespace.KEY]
    rest = [c for c in columns if c.namespace is not Namespace.KEY]
    parts = [f"{_name(c.name)} {_type(c.type)} KEY" for c in keys]
    parts += [f"{_name(c.name)} {_type(c.type)}" for c in rest]
    if processing:  # ksqlDB's processing schemas carry a copy of the key columns in the value
        parts += [f"{_name(c.name)} {_type(c.type)}" for c in keys]
    return ", ".join(parts)


def _skipped(node: PlanNode) -> bool:
    return isinstance(node, (RepartitionNode, LimitNode))


def execution_plan(plan: PlanNode, query_id: str) -> str:
    """The plan as ksqlDB's EXPLAIN prints it (see the module docstring): the sink first, each step's
    inputs one level deeper (a join's two inputs both)."""
    lines: list[str] = []

    def visit(node: PlanNode, depth: int, projected: bool) -> None:
        if _skipped(node):
            for child in node.inputs:
                visit(child, depth, projected)
            return
        if isinstance(node, SinkNode):
            name, logger = "SINK", node.sink.name
            schema = _schema(node.output, processing=False)
        else:
            if isinstance(node, JoinNode):
                name, logger = _JOIN_STEPS[node.strategy], "Join"
            else:
                name, logger = _STEP_NAMES[type(node)]
            processing = projected and not isinstance(node, ProjectNode)
            schema = _schema(node.output, processing=processing)
        lines.append("\t" * (2 * depth) + f" > [ {name} ] | Schema: {schema} | Logger: {query_id}.{logger}")
        below = projected or isinstance(node, ProjectNode)
        for child in node.inputs:
            visit(child, depth + 1, below)

    visit(plan, 0, False)
    return "\n".join(lines) + "\n"


def topology(plan: PlanNode) -> str:
    """The operators that run the plan, in a Kafka Streams topology description's layout."""
    nodes = walk_plan(plan)
    names = [f"{node.kind.upper()}-{index:010d}" for index, node in enumerate(nodes)]
    lines = ["Topologies:", "   Sub-topology: 0"]
    for index, node in enumerate(nodes):
        if isinstance(node, ScanNode):
            lines.append(f"    Source: {names[index]} (topics: [{node.source.topic}])")
        elif isinstance(node, SinkNode):
            lines.append(f"    Sink: {names[index]} (topic: {node.sink.topic})")
        else:
            lines.append(f"    Processor: {names[index]} (stores: [])")
        if index + 1 < len(nodes):
            lines.append(f"      --> {names[index + 1]}")
        if index > 0:
            lines.append(f"      <-- {names[index - 1]}")
    return "\n".join(lines) + "\n"
