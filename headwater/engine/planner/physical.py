"""Lowering: each logical node kind maps to one operator constructor, in one closed table.

:data:`LOWERINGS` is the registry; :func:`lower` builds a plan's operators and wires them into an
:class:`~headwater.engine.planner.graph.OperatorGraph` (a chain, or a tree when the plan joins: each
join input's chain ends in the join operator's port for that side). A test checks that every
:class:`~headwater.engine.planner.logical.PlanNode` subclass has an entry, so a new node kind cannot be
planned without an operator to run it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from headwater.engine.catalog import DataSource, SourceType, WindowType
from headwater.engine.operators.aggregate import AggregateCall, AggregateOperator, GroupKey
from headwater.engine.operators.base import Operator
from headwater.engine.operators.filter import FilterOperator
from headwater.engine.operators.flat_map import FlatMapOperator
from headwater.engine.operators.foreign_key_join import ForeignKeyJoinOperator
from headwater.engine.operators.join_output import JoinSide
from headwater.engine.operators.limit import LimitOperator
from headwater.engine.operators.partition_by import PartitionByOperator
from headwater.engine.operators.project import ProjectOperator
from headwater.engine.operators.repartition import RepartitionOperator
from headwater.engine.operators.session_aggregate import SessionAggregateOperator
from headwater.engine.operators.sink import SinkOperator
from headwater.engine.operators.source_scan import SourceScanOperator
from headwater.engine.operators.stream_stream_join import StreamStreamJoinOperator
from headwater.engine.operators.stream_table_join import StreamTableJoinOperator
from headwater.engine.operators.table_filter import TableFilterOperator
from headwater.engine.operators.table_source import TableSourceOperator
from headwater.engine.operators.table_table_join import TableTableJoinOperator
from headwater.engine.operators.window_assign import SessionWindows, TimeWindows
from headwater.engine.operators.windowed_aggregate import WindowedAggregateOperator
from headwater.engine.planner import binding
from headwater.engine.planner.graph import OperatorGraph, Stage
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
from headwater.engine.schema import WINDOW_COLUMNS, Namespace
from headwater.engine.serde import SourceSerde
from headwater.engine.types import to_arrow

__all__ = ["LOWERINGS", "LoweringContext", "lower"]


@dataclass
class LoweringContext:
    """What operators need from the engine: the configuration kernels read, how to report bad rows,
    and how to reach topics.

    Attributes:
        config: the query's effective configuration.
        report_row: (operator kind, row, message) for a row an expression or serialiser failed on.
        report_record: (topic, target, partition, offset, message, raw bytes) for a record the scan
            dropped.
        open_topic: topic name -> (topic object, partition count, is_raw, source declared by its writer).
        timestamp_parser: parses STRING timestamp columns (TIMESTAMP_FORMAT) for a source.
    """

    config: Mapping[str, Any]
    report_row: Callable[[str, int, str], None]
    report_record: Callable[[str, str, int, int, str, bytes | None], None]
    open_topic: Callable[[str], tuple[Any, int, bool, DataSource | None]]
    timestamp_parser: Callable[[DataSource], Any] | None = None


def _scan(node: ScanNode, ctx: LoweringContext) -> Operator:
    _, _, raw, writer = ctx.open_topic(node.source.topic)
    topic_source = None
    if not raw and writer is not None and _needs_transcode(node.source, writer):
        topic_source = writer
    parser = ctx.timestamp_parser(node.source) if ctx.timestamp_parser is not None else None
    throw = str(ctx.config.get("ksql.timestamp.throw.on.invalid", "false")).lower() == "true"
    return SourceScanOperator(
        node.source,
        raw=raw,
        topic_source=topic_source,
        report=ctx.report_record,
        timestamp_parser=parser,
        throw_on_invalid_timestamp=throw,
        drop_null_keys=node.source.kind is SourceType.TABLE,
    )


def _needs_transcode(reader: DataSource, writer: DataSource) -> bool:
    """A typed topic can be read column by column when the reader declares the writer's columns."""
    reader_columns = [(c.name, c.type, c.is_key) for c in reader.schema if not c.is_header]
    writer_columns = [(c.name, c.type, c.is_key) for c in writer.schema if not c.is_header]
    return reader_columns != writer_columns


def _filter(node: FilterNode, ctx: LoweringContext) -> Operator:
    evaluator = binding.compile_expression(
        node.predicate, config=ctx.config, on_error=lambda row, msg: ctx.report_row("filter", row, msg)
    )
    return FilterOperator(evaluator)


def _partition_by(node: PartitionByNode, ctx: LoweringContext) -> Operator:
    present = {c.name for c in node.input.output}
    input_keys = {c.name for c in node.input.output if c.namespace is Namespace.KEY}
    keys = [
        (
            column.name,
            None
            if column.name in present
            else binding.compile_expression(
                bound, config=ctx.config, on_error=lambda row, msg: ctx.report_row("partition_by", row, msg)
            ),
            to_arrow(column.type),
            set(binding.bound_fields(bound)) <= input_keys,
        )
        for column, bound in node.keys
    ]
    return PartitionByOperator(keys)


def _flat_map(node: FlatMapNode, ctx: LoweringContext) -> Operator:
    functions = [
        (
            name,
            binding.compile_table_function(
                bound, config=ctx.config, on_error=lambda row, msg: ctx.report_row("flat_map", row, msg)
            ),
            to_arrow(sql_type),
        )
        for name, bound, sql_type in node.functions
    ]
    return FlatMapOperator(functions)


def _project(node: ProjectNode, ctx: LoweringContext) -> Operator:
    columns = [
        (
            column.name,
            binding.compile_expression(
                bound, config=ctx.config, on_error=lambda row, msg: ctx.report_row("project", row, msg)
            ),
            to_arrow(column.type),
        )
        for column, bound in node.items
    ]
    # computed for rows without a value too: key columns, and anything read from the key and the
    # window bounds alone (ksqlDB evaluates those on a table's tombstone)
    input_keys = {c.name for c in node.input.output if c.namespace is Namespace.KEY} | set(WINDOW_COLUMNS)
    keys = frozenset(
        column.name
        for column, bound in node.items
        if column.namespace is Namespace.KEY or set(binding.bound_fields(bound)) <= input_keys
    )
    return ProjectOperator(columns, key_columns=keys)


def _repartition(node: RepartitionNode, ctx: LoweringContext) -> Operator:
    return RepartitionOperator(
        node.key_columns,
        SourceSerde(node.sink),
        report=lambda row, msg: ctx.report_row("repartition", row, msg),
    )


def _limit(node: LimitNode, ctx: LoweringContext) -> Operator:
    del ctx
    return LimitOperator(node.limit, count_null_values=node.table)


def _sink(node: SinkNode, ctx: LoweringContext) -> Operator:
    topic, partitions, raw, _ = ctx.open_topic(node.sink.topic)
    parser = ctx.timestamp_parser(node.sink) if ctx.timestamp_parser is not None else None
    return SinkOperator(
        node.sink,
        topic,
        partitions,
        parser,
        raw=raw,
        report=lambda row, msg: ctx.report_row("sink", row, msg),
    )


def _compile(bound: Any, ctx: LoweringContext, kind: str) -> Any:
    return binding.compile_expression(
        bound, config=ctx.config, on_error=lambda row, msg: ctx.report_row(kind, row, msg)
    )


def _aggregate(node: AggregateNode, ctx: LoweringContext) -> Operator:
    keys = [GroupKey(column.name, _compile(bound, ctx, "aggregate"), column.type) for column, bound in node.keys]
    calls = [
        AggregateCall(
            call.column.name,
            call.resolved,
            tuple(_compile(argument, ctx, "aggregate") for argument in call.arguments),
            call.literals,
        )
        for call in node.calls
    ]
    having = _compile(node.having, ctx, "having") if node.having is not None else None
    window = node.window
    if window is None:
        return AggregateOperator(keys, calls, having=having, config=ctx.config)
    if window.type is WindowType.SESSION:
        assert window.gap_ms is not None
        sessions = SessionWindows(window.gap_ms, grace_ms=window.grace_ms, retention_ms=window.retention_ms)
        return SessionAggregateOperator(
            keys, calls, sessions, emit_final=node.emit_final, having=having, config=ctx.config
        )
    assert window.size_ms is not None
    advance = window.advance_ms if window.type is WindowType.HOPPING and window.advance_ms else window.size_ms
    windows = TimeWindows.hopping(
        window.size_ms, advance, grace_ms=window.grace_ms, retention_ms=window.retention_ms
    )
    return WindowedAggregateOperator(
        keys, calls, windows, emit_final=node.emit_final, having=having, config=ctx.config
    )


def _table_source(node: TableSourceNode, ctx: LoweringContext) -> Operator:
    del ctx
    return TableSourceOperator(node.key_columns, retractions=node.retractions)


def _table_filter(node: TableFilterNode, ctx: LoweringContext) -> Operator:
    return TableFilterOperator(
        _compile(node.predicate, ctx, "filter"), node.key_columns, predicate_sql=node.predicate_sql
    )


def _join_side(
    input_columns: tuple[RowColumn, ...], key: tuple[str, ...], carried: tuple[tuple[str, RowColumn], ...]
) -> JoinSide:
    types = {c.name: c.type for c in input_columns}
    names = list(dict.fromkeys([*key, *(name for name, _ in carried)]))
    schema = pa.schema([pa.field(name, to_arrow(types[name])) for name in names])
    return JoinSide(key, tuple((name, column.name) for name, column in carried), schema)


def _join(node: JoinNode, ctx: LoweringContext) -> Operator:
    del ctx
    left = _join_side(node.left.output, node.left_key + node.foreign_key, node.left_columns)
    left = JoinSide(node.left_key, left.columns, left.schema)
    right = _join_side(node.right.output, node.right_key, node.right_columns)
    key_names = tuple(c.name for c in node.key_columns)
    if node.windowed:
        key_names += tuple(WINDOW_COLUMNS)
    if node.strategy is JoinStrategy.STREAM_STREAM:
        assert node.before_ms is not None and node.after_ms is not None
        return StreamStreamJoinOperator(
            left, right, key_names, node.join_type,
            before_ms=node.before_ms, after_ms=node.after_ms, grace_ms=node.grace_ms,
        )
    if node.strategy is JoinStrategy.STREAM_TABLE:
        return StreamTableJoinOperator(left, right, key_names, node.join_type)
    if node.strategy is JoinStrategy.TABLE_TABLE:
        return TableTableJoinOperator(left, right, key_names, node.join_type)
    return ForeignKeyJoinOperator(left, right, node.foreign_key, key_names, node.join_type)


def _join_ports(operator: Operator) -> tuple[Operator, Operator]:
    """The (left, right) input ports of a join operator."""
    if isinstance(operator, StreamTableJoinOperator):
        return operator.stream_input, operator.table_input
    ports = (getattr(operator, "left_input", None), getattr(operator, "right_input", None))
    if ports[0] is None or ports[1] is None:
        raise TypeError(f"{type(operator).__name__} has no input ports")
    return ports[0], ports[1]


LOWERINGS: dict[type[PlanNode], Callable[[Any, LoweringContext], Operator]] = {
    ScanNode: _scan,
    FilterNode: _filter,
    PartitionByNode: _partition_by,
    FlatMapNode: _flat_map,
    ProjectNode: _project,
    RepartitionNode: _repartition,
    LimitNode: _limit,
    SinkNode: _sink,
    AggregateNode: _aggregate,
    TableSourceNode: _table_source,
    TableFilterNode: _table_filter,
    JoinNode: _join,
}
"""Node kind -> operator constructor: the closed registry of lowerings."""


def lower(plan: PlanNode, ctx: LoweringContext) -> OperatorGraph:
    """The operators of ``plan`` wired as a graph (see :mod:`headwater.engine.planner.graph`)."""
    built: dict[int, Operator] = {}
    operators: list[Operator] = []
    for node in walk_plan(plan):
        lowering = LOWERINGS.get(type(node))
        if lowering is None:
            raise TypeError(f"no lowering for plan node {type(node).__name__}")
        operator = lowering(node, ctx)
        built[id(node)] = operator
        operators.append(operator)
    entries: list[tuple[str, Stage]] = []

    def wire(node: PlanNode, downstream: Stage | None) -> None:
        operator = built[id(node)]
        inputs = node.inputs
        if not inputs:
            if not isinstance(node, ScanNode):
                raise TypeError(f"plan leaf {type(node).__name__} reads no source")
            entries.append((node.source.topic, Stage(operator, downstream)))
        elif len(inputs) == 1:
            wire(inputs[0], Stage(operator, downstream))
        else:
            left_port, right_port = _join_ports(operator)
            wire(inputs[0], Stage(left_port, downstream))
            wire(inputs[1], Stage(right_port, downstream))

    wire(plan, None)
    stateful = any(isinstance(node, (AggregateNode, JoinNode)) for node in walk_plan(plan))
    return OperatorGraph(entries, operators, record_at_a_time=stateful and _caches_nothing(ctx.config))


def _caches_nothing(config: Mapping[str, Any]) -> bool:
    """``cache.max.bytes.buffering=0``: every update of a stateful query is emitted."""
    try:
        return int(str(config.get("cache.max.bytes.buffering", "10485760"))) == 0
    except ValueError:
        return False
