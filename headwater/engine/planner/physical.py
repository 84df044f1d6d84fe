"""Lowering: each logical node kind maps to one operator constructor, in one closed table.

:data:`LOWERINGS` is the registry; :func:`lower` walks a linear plan and builds its operators. A test
checks that every :class:`~headwater.engine.planner.logical.PlanNode` subclass has an entry, so a new
node kind cannot be planned without an operator to run it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from headwater.engine.catalog import DataSource
from headwater.engine.operators.base import Operator
from headwater.engine.operators.filter import FilterOperator
from headwater.engine.operators.flat_map import FlatMapOperator
from headwater.engine.operators.limit import LimitOperator
from headwater.engine.operators.partition_by import PartitionByOperator
from headwater.engine.operators.project import ProjectOperator
from headwater.engine.operators.repartition import RepartitionOperator
from headwater.engine.operators.sink import SinkOperator
from headwater.engine.operators.source_scan import SourceScanOperator
from headwater.engine.planner import binding
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
    walk_plan,
)
from headwater.engine.schema import Namespace
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
    keys = frozenset(column.name for column, _ in node.items if column.namespace is Namespace.KEY)
    return ProjectOperator(columns, key_columns=keys)


def _repartition(node: RepartitionNode, ctx: LoweringContext) -> Operator:
    return RepartitionOperator(
        node.key_columns,
        SourceSerde(node.sink),
        report=lambda row, msg: ctx.report_row("repartition", row, msg),
    )


def _limit(node: LimitNode, ctx: LoweringContext) -> Operator:
    del ctx
    return LimitOperator(node.limit)


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


LOWERINGS: dict[type[PlanNode], Callable[[Any, LoweringContext], Operator]] = {
    ScanNode: _scan,
    FilterNode: _filter,
    PartitionByNode: _partition_by,
    FlatMapNode: _flat_map,
    ProjectNode: _project,
    RepartitionNode: _repartition,
    LimitNode: _limit,
    SinkNode: _sink,
}
"""Node kind -> operator constructor: the closed registry of lowerings."""


def lower(plan: PlanNode, ctx: LoweringContext) -> list[Operator]:
    """The operators of a linear plan, source first."""
    operators = []
    for node in walk_plan(plan):
        lowering = LOWERINGS.get(type(node))
        if lowering is None:
            raise TypeError(f"no lowering for plan node {type(node).__name__}")
        operators.append(lowering(node, ctx))
    return operators
