"""Persistent queries: CREATE STREAM / TABLE AS SELECT, INSERT INTO ... SELECT, and TERMINATE.

The sink of a CSAS (CTAS) is a new stream (table) over a new typed topic: named by the KAFKA_TOPIC
property or the sink's name, prefixed with ``ksql.output.topic.name.prefix``; partitions from
PARTITIONS, ``ksql.sink.partitions`` or the (first) source's topic; formats inherited from the (first)
source unless given. A CSAS must produce a stream and a CTAS a table (an aggregation, a query over a
table, a join of tables), with ksqlDB's "Invalid result type" message otherwise. A windowed result
(a windowed aggregation, or a query over a windowed source) makes a sink with a windowed key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from headwater.engine import formats
from headwater.engine.catalog import DataSource, SourceType
from headwater.engine.entities import Entity
from headwater.engine.planner.builder import BuiltQuery, QueryBuilder
from headwater.engine.planner.logical import PlanNode, RepartitionNode, SinkNode
from headwater.engine.planner.upgrade import check_upgrade
from headwater.engine.schema import quote
from headwater.engine.serde import SourceSerde
from headwater.engine.statements.context import StatementContext
from headwater.engine.statements.ddl import build_formats, status
from headwater.engine.statements.formatting import formatted_statement
from headwater.engine.statements.with_clause import WithClause
from headwater.errors import PlanError
from headwater.parser import ast
from headwater.parser import expressions as pe

__all__ = [
    "PlannedQuery",
    "create_as_select",
    "insert_into",
    "plan_create_as_select",
    "plan_insert_into",
    "terminate",
]


def _target_position(stmt: ast.InsertInto) -> str:
    """``Line: l, Col: c: `` of the sink's name in an INSERT INTO statement (ksqlDB's messages point
    at it), or nothing when the statement has no position."""
    if stmt.span is None:
        return ""
    match = re.match(r"\s*INSERT\s+INTO\s+", stmt.text, re.IGNORECASE)
    if match is None or "\n" in match.group(0):
        return ""
    return f"Line: {stmt.span.line}, Col: {stmt.span.column + match.end()}: "


def _sink_plan(plan: PlanNode, sink: DataSource, keys: tuple[str, ...]) -> PlanNode:
    if keys:
        plan = RepartitionNode(plan, keys, sink)
    return SinkNode(plan, sink)


def _check_result_key_format(sink: DataSource, statement: str | None = None) -> None:
    """A query's result key must fit its key format; ksqlDB reports it with the schema, the reason
    ("Key format does not support schema. format: KAFKA ...") and the statement as it re-formats it."""
    key_format = formats.get_format(sink.key_format.name)
    columns = [(c.name, c.type) for c in sink.schema.key_columns]
    try:
        key_format.validate_columns(columns, is_key=True)
    except PlanError as error:
        raise PlanError(
            formats.key_schema_error_message(
                key_format, columns, error.message, sorted(sink.key_format.features), statement
            )
        ) from None


def _select_names(stmt: ast.CreateStreamAsSelect | ast.CreateTableAsSelect, built: BuiltQuery) -> list[str]:
    """The names of the statement's SELECT items, in SELECT order (the built columns put keys first)."""
    names = []
    for item in stmt.query.select:
        expression = getattr(item, "expression", None)
        match = next((c.column.name for c in built.columns if c.expression is expression), None)
        if match is None:
            return []
        names.append(match)
    return names


@dataclass(frozen=True, slots=True)
class PlannedQuery:
    """A persistent query planned but not started: what CSAS and INSERT INTO ... SELECT run, and what
    EXPLAIN of such a statement describes (planning has no side effects).

    Attributes:
        query_id: the id it gets when it runs (CSAS_<SINK>_<n>, INSERTQUERY_<n>; a CREATE OR REPLACE
            keeps the replaced query's id).
        plan: the logical plan, sink included.
        sources: the sources it reads (the first is the FROM clause's first source).
        sink: the stream or table it writes.
        partitions: partitions of the sink topic if it has to be created.
        creates_sink: True for CSAS (the sink is a new or replaced catalog entry).
    """

    query_id: str
    plan: PlanNode
    sources: tuple[DataSource, ...]
    sink: DataSource
    partitions: int
    creates_sink: bool

    @property
    def source(self) -> DataSource:
        return self.sources[0]


def plan_create_as_select(
    ctx: StatementContext, stmt: ast.CreateStreamAsSelect | ast.CreateTableAsSelect
) -> PlannedQuery | None:
    """Validate and plan a CSAS; None when IF NOT EXISTS finds the stream already there.

    Raises:
        PlanError: ksqlDB's messages for what the statement cannot do.
    """
    is_table = isinstance(stmt, ast.CreateTableAsSelect)
    kind = SourceType.TABLE if is_table else SourceType.STREAM
    statement_kind = f"CREATE {kind.value} AS SELECT"
    if stmt.query.limit is not None:
        raise PlanError(f"{statement_kind} statements don't support LIMIT clause.")
    props = WithClause.parse(stmt.properties, for_create_as=True)
    existing = ctx.catalog.source(stmt.name)
    if existing is not None:
        if stmt.if_not_exists:
            return None
        if not stmt.or_replace:
            raise PlanError(
                f"Cannot add {kind.value.lower()} '{stmt.name}': A {existing.kind.value.lower()} with the same "
                "name already exists"
            )
    builder = QueryBuilder(ctx.catalog, ctx.engine.registry, ctx.config.as_dict(), ctx.engine.partition_count)
    built = builder.build(stmt.query, sink_name=stmt.name, persistent=True, statement_kind=statement_kind)
    if built.kind is not kind:
        raise PlanError(
            f"Invalid result type. Your SELECT query produces a {built.kind.value}. "
            f"Please use CREATE {built.kind.value} AS SELECT statement instead."
        )
    partition_by_null = stmt.query.partition_by is not None and all(
        isinstance(e, pe.NullLiteral) for e in stmt.query.partition_by
    )
    key_format, value_format = build_formats(
        ctx,
        props,
        built.schema,
        inherited=(built.source.key_format, built.source.value_format),
        partition_by_null=partition_by_null,
    )
    prefix = str(ctx.config.get("ksql.output.topic.name.prefix", "") or "")
    topic = prefix + (props.kafka_topic or stmt.name)
    timestamp = props.timestamp_column
    if timestamp is not None and built.schema.find(timestamp) is None:
        raise PlanError(
            f"The TIMESTAMP column set in the WITH clause does not exist in the schema: '{timestamp}'"
        )
    sink = DataSource(
        name=stmt.name,
        kind=kind,
        schema=built.schema,
        topic=topic,
        key_format=key_format,
        value_format=value_format,
        timestamp_column=timestamp,
        timestamp_format=props.timestamp_format,
        window=built.window,
        sql=stmt.text,
        is_sink=True,
    )
    _check_result_key_format(sink, formatted_statement(stmt, _select_names(stmt, built)))
    SourceSerde(sink)
    if existing is not None:
        ctx.engine.check_replace(existing, sink)
    partitions = props.partitions or ctx.config.get_int("ksql.sink.partitions")
    if partitions is None:
        # a join's result takes its right source's partitions (ksqlDB's JoinNode.getPartitions)
        partitions = ctx.engine.partition_count(built.all_sources[-1].topic)
    replaced = ctx.engine.writer_of(sink.name) if existing is not None else None
    prefix = "CTAS" if is_table else "CSAS"
    query_id = (
        replaced.query_id if replaced is not None else ctx.engine.peek_query_id(f"{prefix}_{stmt.name.upper()}_")
    )
    plan = _sink_plan(built.plan, sink, built.key_columns)
    if replaced is not None:
        check_upgrade(replaced.plan, plan)
    return PlannedQuery(query_id, plan, built.all_sources, sink, partitions, creates_sink=True)


def plan_insert_into(ctx: StatementContext, stmt: ast.InsertInto) -> PlannedQuery:
    """Validate and plan an INSERT INTO ... SELECT.

    Raises:
        PlanError: ksqlDB's messages for what the statement cannot do.
    """
    target = ctx.catalog.source(stmt.target)
    if target is None:
        raise PlanError(f"{_target_position(stmt)}Source {quote(stmt.target)} does not exist.")
    if target.kind is SourceType.TABLE:
        raise PlanError(f"INSERT INTO can only be used to insert into a stream. {target.name} is a table.")
    if target.is_source:
        raise PlanError(f"Cannot insert into read-only stream: {target.name}")
    if any(c.is_header for c in target.schema):
        raise PlanError(f"Cannot insert into {target.name} because it has header columns")
    if stmt.query.limit is not None:
        raise PlanError("INSERT INTO statements don't support LIMIT clause.")
    WithClause.parse(stmt.properties, for_create_as=True)
    builder = QueryBuilder(ctx.catalog, ctx.engine.registry, ctx.config.as_dict(), ctx.engine.partition_count)
    built = builder.build(stmt.query, sink_name=target.name, persistent=True, statement_kind="INSERT INTO")
    if built.kind is SourceType.TABLE:
        raise PlanError(
            f"Incompatible data sink and query result. Data sink ({target.name}) type is KSTREAM but select "
            "query result is KTABLE."
        )
    result = [(c.name, c.type, c.namespace) for c in built.schema]
    expected = [(c.name, c.type, c.namespace) for c in target.schema]
    if result != expected:
        raise PlanError(
            "Incompatible schema between results and sink.\n"
            f"Result schema is {built.schema}\nSink schema is {target.schema}"
        )
    plan = _sink_plan(built.plan, target, built.key_columns)
    partitions = ctx.engine.partition_count(target.topic)
    query_id = ctx.engine.peek_query_id("INSERTQUERY_")
    return PlannedQuery(query_id, plan, built.all_sources, target, partitions, creates_sink=False)


def _run(ctx: StatementContext, stmt: ast.Statement, planned: PlannedQuery) -> str:
    """Record the statement, make the sink, start the query; returns its id."""
    ctx.engine.record(ctx, stmt)
    ctx.engine.ensure_sink_topic(planned.sink, planned.partitions)
    if planned.creates_sink:
        ctx.catalog.put_source(planned.sink)
        ctx.catalog.add_references(planned.sink.name, [s.name for s in planned.sources])
    existing = ctx.engine.query(planned.query_id)
    query_id = planned.query_id
    if existing is None:
        prefix = query_id[: query_id.rfind("_") + 1]
        query_id = ctx.engine.next_query_id(prefix)
    text = getattr(stmt, "text", "")
    ctx.engine.start_query(ctx, query_id, text, planned.plan, planned.sources, planned.sink)
    return query_id


def create_as_select(
    ctx: StatementContext, stmt: ast.CreateStreamAsSelect | ast.CreateTableAsSelect
) -> Entity:
    """CREATE [OR REPLACE] STREAM name [WITH (...)] AS SELECT ..."""
    noun = "table" if isinstance(stmt, ast.CreateTableAsSelect) else "stream"
    planned = plan_create_as_select(ctx, stmt)
    if planned is None:
        return status(ctx, stmt, f"{noun}/{quote(stmt.name)}/create", f"{noun.capitalize()} already exists.")
    query_id = _run(ctx, stmt, planned)
    return status(
        ctx, stmt, f"{noun}/{quote(stmt.name)}/create", f"Created query with ID {query_id}", query_id
    )


def insert_into(ctx: StatementContext, stmt: ast.InsertInto) -> Entity:
    """INSERT INTO target SELECT ...: a persistent query writing into an existing stream."""
    planned = plan_insert_into(ctx, stmt)
    query_id = _run(ctx, stmt, planned)
    return status(
        ctx, stmt, f"stream/{quote(planned.sink.name)}/create", f"Created query with ID {query_id}", query_id
    )


def terminate(ctx: StatementContext, stmt: ast.TerminateQuery) -> Entity:
    """TERMINATE query_id | ALL."""
    if stmt.query_id is None:
        ids = [q.query_id for q in ctx.engine.persistent_queries()]
    else:
        query = ctx.engine.query(stmt.query_id)
        if query is None:
            raise PlanError(f"Unknown queryId: {stmt.query_id}")
        ids = [query.query_id]
    ctx.engine.record(ctx, stmt)
    for query_id in ids:
        ctx.engine.terminate_query(query_id)
    target = stmt.query_id or "ALL"
    return status(ctx, stmt, f"terminate/{target}/execute", "Query terminated.")
