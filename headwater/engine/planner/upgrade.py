"""CREATE OR REPLACE of a query's sink: which plan changes the running query may take.

ksqlDB checks a replacement query step by step against the one it replaces (``ExecutionStep.
validateUpgrade``), walking both plans from the sink down. *Passive* steps (a stream's or table's WHERE,
a projection) may be added, removed or changed freely. *Enforcing* steps must pair up in order, of the
same kind (else "... must have matching class. Values differ: class <old> vs. class <new>", with
ksqlDB's class names) and with equal properties, else the upgrade is refused with "Query is not
upgradeable. Plan step of type <step> must have matching <property>. Values differ: <old> vs. <new>":

* StreamSink / TableSink: formats, topic, timestamp column;
* StreamSource / TableSource: topic, formats, timestamp column;
* StreamSelectKey (PARTITION BY): the key expressions;
* StreamGroupBy: the GROUP BY expressions (StreamGroupByKey, grouping by the input's key, has none);
* StreamAggregate: the "columns not part of aggregate" (the input columns the query reads:
  :attr:`~headwater.engine.planner.stateful_nodes.AggregateNode.required_columns`) and the aggregate
  functions.

Every other step (joins, windowed and table aggregations, EMIT FINAL's suppression, table functions)
refuses any upgrade: "Upgrades not yet supported for <step>".

The check is on logical plans (:mod:`headwater.engine.planner.logical`); the step names are ksqlDB's,
for its messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from headwater.engine.catalog import DataSource, SourceType
from headwater.engine.planner.logical import (
    FilterNode,
    FlatMapNode,
    LimitNode,
    PartitionByNode,
    PlanNode,
    ProjectNode,
    RepartitionNode,
    ScanNode,
    SinkNode,
)
from headwater.engine.planner.stateful_nodes import (
    AggregateNode,
    JoinNode,
    JoinStrategy,
    TableFilterNode,
    TableSourceNode,
)
from headwater.engine.schema import quote
from headwater.errors import PlanError

__all__ = ["check_upgrade"]

_PLAN_PACKAGE = "io.confluent.ksql.execution.plan"

_JOIN_STEPS = {
    JoinStrategy.STREAM_STREAM: "StreamStreamJoin",
    JoinStrategy.STREAM_TABLE: "StreamTableJoin",
    JoinStrategy.TABLE_TABLE: "TableTableJoin",
    JoinStrategy.FOREIGN_KEY: "ForeignKeyTableTableJoin",
}


@dataclass(frozen=True)
class _Step:
    """An enforcing step: ksqlDB's name, its properties (label, printed value), and whether it takes
    upgrades at all."""

    name: str
    properties: tuple[tuple[str, str], ...] = ()
    upgradeable: bool = True


def check_upgrade(old: PlanNode, new: PlanNode) -> None:
    """Refuse replacing the query planned as ``old`` with ``new`` where ksqlDB refuses it (see the
    module docstring).

    Raises:
        PlanError: ksqlDB's message for the first step that differs.
    """
    old_steps, new_steps = _steps(old), _steps(new)
    for before, after in zip(old_steps, new_steps):
        for step in (before, after):
            if not step.upgradeable:
                raise PlanError(f"Upgrades not yet supported for {step.name}")
        if before.name != after.name:
            raise PlanError(
                f"Query is not upgradeable. Plan step of type {before.name} must have matching class. "
                f"Values differ: class {_PLAN_PACKAGE}.{before.name} vs. class {_PLAN_PACKAGE}.{after.name}"
            )
        for (label, was), (_, now) in zip(before.properties, after.properties):
            if was != now:
                raise PlanError(
                    f"Query is not upgradeable. Plan step of type {before.name} must have matching {label}. "
                    f"Values differ: {was} vs. {now}"
                )
    if len(old_steps) != len(new_steps):
        longer = old_steps if len(old_steps) > len(new_steps) else new_steps
        extra = longer[min(len(old_steps), len(new_steps))]
        if not extra.upgradeable:
            raise PlanError(f"Upgrades not yet supported for {extra.name}")
        side = "old" if longer is old_steps else "new"
        raise PlanError(
            f"Query is not upgradeable. Plan step of type {extra.name} is only in the {side} query's plan."
        )


def _steps(node: PlanNode) -> list[_Step]:
    """The enforcing steps of a plan, from the sink down (a join's left input before its right)."""
    steps: list[_Step] = []
    pending = [node]
    while pending:
        current = pending.pop(0)
        steps.extend(_step(current))
        pending = list(current.inputs) + pending
    return steps


def _step(node: PlanNode) -> list[_Step]:
    """The enforcing steps ksqlDB plans for ``node`` (none for a passive one)."""
    if isinstance(node, FilterNode | ProjectNode | TableFilterNode | TableSourceNode | LimitNode | RepartitionNode):
        return []  # passive (or Headwater's own plumbing)
    if isinstance(node, AggregateNode):
        return _aggregate_steps(node)
    return [_enforcing_step(node)]


def _enforcing_step(node: PlanNode) -> _Step:
    if isinstance(node, SinkNode):
        name = "TableSink" if node.sink.kind is SourceType.TABLE else "StreamSink"
        return _Step(name, _topic_properties(node.sink))
    if isinstance(node, ScanNode):
        name = "TableSource" if node.source.kind is SourceType.TABLE else "StreamSource"
        if node.source.window is not None:
            name = "Windowed" + name
        return _Step(name, _topic_properties(node.source))
    if isinstance(node, PartitionByNode):
        return _Step("StreamSelectKey", (("keyExpression", _listed(node.keys_sql)),))
    if isinstance(node, FlatMapNode):
        return _Step("StreamFlatMap", upgradeable=False)
    if isinstance(node, JoinNode):
        return _Step(_JOIN_STEPS[node.strategy], upgradeable=False)
    return _Step(type(node).__name__, upgradeable=False)


def _aggregate_steps(node: AggregateNode) -> list[_Step]:
    """An aggregation's steps: the aggregate, then its grouping (StreamGroupByKey when it groups by
    the input's key columns as they are, StreamGroupBy otherwise)."""
    if node.emit_final:
        return [_Step("TableSuppress", upgradeable=False)]
    if node.window is not None:
        return [_Step("StreamWindowedAggregate", upgradeable=False)]
    below = _chain(node.input)
    if any(isinstance(n, TableSourceNode) for n in below):
        return [_Step("TableAggregate", upgradeable=False)]
    aggregate = _Step(
        "StreamAggregate",
        (
            ("columns not part of aggregate", "[" + ", ".join(quote(c) for c in node.required_columns) + "]"),
            ("aggregate functions", _listed(tuple(call.sql for call in node.calls))),
        ),
    )
    scan = next((n for n in below if isinstance(n, ScanNode)), None)
    keys = [c.name for c in scan.source.schema.key_columns] if scan is not None else None
    if keys is not None and not any(isinstance(n, PartitionByNode) for n in below) and list(node.keys_sql) == keys:
        return [aggregate, _Step("StreamGroupByKey")]
    return [aggregate, _Step("StreamGroupBy", (("groupByExpressions", _listed(node.keys_sql)),))]


def _chain(node: PlanNode) -> list[PlanNode]:
    """``node`` and the nodes below it down to the next stateful step."""
    out = [node]
    while len(node.inputs) == 1 and not isinstance(node, AggregateNode | JoinNode):
        node = node.inputs[0]
        out.append(node)
    return out


def _topic_properties(source: DataSource) -> tuple[tuple[str, str], ...]:
    window = "" if source.window is None else f", windowInfo={source.window.type.value}"
    return (
        ("topicName", source.topic),
        ("formats", f"Formats{{keyFormat={source.key_format.name}{window}, valueFormat={source.value_format.name}}}"),
        ("timestampColumn", str(source.timestamp_column)),
    )


def _listed(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(items) + "]"
