"""SHOW / LIST and DESCRIBE: entities describing the catalog, the topics, the queries and the functions."""

from __future__ import annotations

import re
import time
from typing import Any

from headwater.engine.catalog import DataSource, SourceType
from headwater.engine.config import PROPERTIES
from headwater.engine.entities import (
    ArgumentInfo,
    Entity,
    FieldInfo,
    FunctionDescriptionList,
    FunctionInfo,
    FunctionNameList,
    KafkaTopicInfo,
    KafkaTopicInfoExtended,
    KafkaTopicsList,
    KafkaTopicsListExtended,
    PropertiesList,
    PropertyEntry,
    Queries,
    QueryDescription,
    QueryDescriptionEntity,
    RunningQuery,
    SimpleFunctionInfo,
    SourceDescription,
    SourceDescriptionEntity,
    SourceDescriptionList,
    SourceInfo,
    StreamsList,
    TablesList,
    TypeList,
    VariableEntry,
    VariablesList,
    schema_info,
)
from headwater.engine.planner.explain import execution_plan, topology
from headwater.engine.runtime.persistent import PersistentQuery
from headwater.engine.statements.context import StatementContext
from headwater.errors import PlanError
from headwater.parser import ast

__all__ = [
    "describe_function",
    "describe_source",
    "describe_sources",
    "explain",
    "list_functions",
    "list_properties",
    "list_queries",
    "list_sources",
    "list_topics",
    "list_types",
    "list_variables",
    "running_query",
    "source_description",
]

_INTERNAL_PREFIXES = ("_",)


def _source_info(source: DataSource) -> SourceInfo:
    return SourceInfo(
        source.kind.value,
        source.name,
        source.topic,
        source.key_format.name,
        source.value_format.name,
        source.window is not None,
    )


def list_sources(ctx: StatementContext, stmt: ast.ListStreams | ast.ListTables) -> Entity:
    """SHOW STREAMS / SHOW TABLES [EXTENDED]."""
    kind = SourceType.STREAM if isinstance(stmt, ast.ListStreams) else SourceType.TABLE
    sources = [s for s in ctx.catalog.sources() if s.kind is kind]
    if stmt.extended:
        return SourceDescriptionList(
            stmt.text, source_descriptions=tuple(source_description(ctx, s, extended=True) for s in sources)
        )
    infos = tuple(_source_info(s) for s in sorted(sources, key=lambda s: s.name))
    if kind is SourceType.STREAM:
        return StreamsList(stmt.text, streams=infos)
    return TablesList(stmt.text, tables=infos)


def list_topics(ctx: StatementContext, stmt: ast.ListTopics) -> Entity:
    """SHOW [ALL] TOPICS [EXTENDED]: internal topics (names starting with '_') only with ALL."""
    names = sorted(ctx.log.list_topics())
    if not stmt.all:
        names = [n for n in names if not n.startswith(_INTERNAL_PREFIXES)]
    if stmt.extended:
        infos = []
        for name in names:
            readers = [q for q in ctx.engine.persistent_queries() if name in q.source_topics]
            partitions = ctx.engine.partition_count(name)
            infos.append(
                KafkaTopicInfoExtended(name, (1,) * partitions, len(readers) * partitions, len(readers))
            )
        return KafkaTopicsListExtended(stmt.text, topics=tuple(infos))
    return KafkaTopicsList(
        stmt.text, topics=tuple(KafkaTopicInfo(n, (1,) * ctx.engine.partition_count(n)) for n in names)
    )


def running_query(query: PersistentQuery) -> RunningQuery:
    return RunningQuery(
        query.statement_text,
        (query.sink.name,),
        (query.sink.topic,),
        query.query_id,
        state=query.state,
    )


def list_queries(ctx: StatementContext, stmt: ast.ListQueries) -> Entity:
    """SHOW QUERIES [EXTENDED]."""
    queries = ctx.engine.persistent_queries()
    if stmt.extended:
        from headwater.engine.entities import QueryDescriptionList

        return QueryDescriptionList(
            stmt.text, query_descriptions=tuple(query_description(q) for q in queries)
        )
    return Queries(stmt.text, queries=tuple(running_query(q) for q in queries))


def list_properties(ctx: StatementContext, stmt: ast.ListProperties) -> Entity:
    """SHOW PROPERTIES: every known property with its effective value."""
    overridden = ctx.config.overridden()
    entries = []
    for name in ctx.config:
        definition = PROPERTIES.get(name)
        value = ctx.config[name]
        entries.append(
            PropertyEntry(
                name, definition.scope if definition else "KSQL", None if value is None else str(value)
            )
        )
    defaults = tuple(name for name in ctx.config if name not in overridden)
    return PropertiesList(
        stmt.text,
        properties=tuple(entries),
        overwritten_properties=tuple(overridden),
        default_properties=defaults,
    )


def list_variables(ctx: StatementContext, stmt: ast.ListVariables) -> Entity:
    variables = {**ctx.engine.variables, **ctx.variables}
    return VariablesList(stmt.text, variables=tuple(VariableEntry(k, v) for k, v in variables.items()))


def list_types(ctx: StatementContext, stmt: ast.ListTypes) -> Entity:
    return TypeList(
        stmt.text, types=tuple((name, schema_info(ty)) for name, ty in sorted(ctx.catalog.types().items()))
    )


def list_functions(ctx: StatementContext, stmt: ast.ListFunctions) -> Entity:
    infos = []
    registry = ctx.engine.registry
    for function in registry.functions():
        infos.append(
            SimpleFunctionInfo(function.name.upper(), function.kind.value, function.category.upper())
        )
    for name in registry.names():
        if registry.lookup(name) is None:
            infos.append(SimpleFunctionInfo(name, "AGGREGATE", "AGGREGATE"))
    return FunctionNameList(stmt.text, functions=tuple(sorted(infos, key=lambda i: i.name)))


def describe_function(ctx: StatementContext, stmt: ast.DescribeFunction) -> Entity:
    """DESCRIBE FUNCTION: a scalar or table function, or an aggregate (same shape of overloads)."""
    function: Any = ctx.engine.registry.lookup(stmt.name) or ctx.engine.registry.aggregate(stmt.name)
    if function is None:
        raise PlanError(f"Can't find any functions with the name '{stmt.name.upper()}'")
    overloads = []
    for signature in function.signatures:
        params = signature.params
        arguments = tuple(
            ArgumentInfo(
                p.name,
                p.type.sql() + ("[]" if signature.variadic and i == len(params) - 1 else ""),
                p.description,
                signature.variadic and i == len(params) - 1,
            )
            for i, p in enumerate(params)
        )
        returns = signature.returns
        overloads.append(
            FunctionInfo(
                arguments, returns.sql() if hasattr(returns, "sql") else "ANY", signature.description
            )
        )
    return FunctionDescriptionList(
        stmt.text,
        name=function.name.upper(),
        description=function.description,
        functions=tuple(overloads),
        type=function.kind.value,
    )


def _fields(source: DataSource) -> tuple[FieldInfo, ...]:
    """The columns as ksqlDB's ``EntityUtil`` lists them: key, value and header columns."""
    fields = []
    for column in source.schema:
        kind = "KEY" if column.is_key else ("HEADER" if column.is_header else None)
        fields.append(FieldInfo(column.name, schema_info(column.type), kind, column.header_key))
    return tuple(fields)


def source_description(ctx: StatementContext, source: DataSource, *, extended: bool) -> SourceDescription:
    queries = ctx.engine.persistent_queries()
    readers = tuple(running_query(q) for q in queries if source.name in [s.name for s in q.sources])
    writers = tuple(running_query(q) for q in queries if q.sink.name == source.name)
    partitions = ctx.engine.partition_count(source.topic) if ctx.log.has_topic(source.topic) else 0
    statistics = ""
    error_stats = ""
    stats: tuple[tuple[str, float, int], ...] = ()
    errors: tuple[tuple[str, float, int], ...] = ()
    if extended:
        now = int(time.time() * 1000)
        consumed = sum(q.records_consumed for q in queries if source.name in [s.name for s in q.sources])
        failed = ctx.engine.processing_log.count_for_topic(source.topic)
        statistics = f"{'consumer-total-messages:':>30} {consumed:>10}"
        stats = (("consumer-total-messages", float(consumed), now),)
        if failed:
            error_stats = f"{'consumer-failed-messages:':>30} {failed:>10}"
            errors = (("consumer-failed-messages", float(failed), now),)
    return SourceDescription(
        name=source.name,
        type=source.kind.value,
        fields=_fields(source),
        topic=source.topic,
        key_format=source.key_format.name,
        value_format=source.value_format.name,
        partitions=partitions,
        statement=source.sql,
        window_type=source.window.type.value if source.window else None,
        read_queries=readers,
        write_queries=writers,
        timestamp=source.timestamp_column or "",
        statistics=statistics,
        error_stats=error_stats,
        extended=extended,
        statistics_map=stats,
        error_stats_map=errors,
    )


def describe_source(ctx: StatementContext, stmt: ast.DescribeSource) -> Entity:
    """DESCRIBE name [EXTENDED]."""
    source = ctx.catalog.source(stmt.name)
    if source is None:
        raise PlanError(f"Could not find STREAM/TABLE '{stmt.name}' in the Metastore")
    return SourceDescriptionEntity(
        stmt.text, source_description=source_description(ctx, source, extended=stmt.extended)
    )


def describe_sources(ctx: StatementContext, stmt: ast.DescribeStreams | ast.DescribeTables) -> Entity:
    """DESCRIBE STREAMS | TABLES [EXTENDED]."""
    kind = SourceType.STREAM if isinstance(stmt, ast.DescribeStreams) else SourceType.TABLE
    return SourceDescriptionList(
        stmt.text,
        source_descriptions=tuple(
            source_description(ctx, s, extended=stmt.extended)
            for s in ctx.catalog.sources()
            if s.kind is kind
        ),
    )


def query_description(query: PersistentQuery) -> QueryDescription:
    """EXPLAIN's description of a running query."""
    return QueryDescription(
        id=query.query_id,
        statement_text=query.statement_text,
        fields=_fields(query.sink),
        sources=tuple(s.name for s in query.sources),
        sinks=(query.sink.name,),
        topology=topology(query.plan),
        execution_plan=execution_plan(query.plan, query.query_id),
        window_type=query.sink.window.type.value if query.sink.window else None,
        state=query.state,
    )


def _is_historical(ctx: StatementContext, query: ast.Query) -> bool:
    """A SELECT that Engine.stream answers through DuckDB: no EMIT, not over a table."""
    from headwater.engine.runtime.pull import is_table_pull

    return query.emit is None and is_table_pull(ctx, query) is None


def _explain_historical(ctx: StatementContext, query: ast.Query, text: str) -> QueryDescription:
    """EXPLAIN of a historical SELECT: its execution plan is the historical package's account of it
    (the sources' segments it reads and DuckDB's plan), so that EXPLAIN over the server shows what
    the embedded shell shows. The columns are the ones the statement's stream planning gives, when
    it plans (a query only DuckDB can answer lists none)."""
    from headwater.engine.historical.explain import explain_select
    from headwater.engine.planner.builder import QueryBuilder

    plan_text = explain_select(ctx.engine, text.rstrip().rstrip(";"), query, ctx.config)
    fields: tuple[FieldInfo, ...] = ()
    sources = _relation_names(query.from_)
    try:
        builder = QueryBuilder(ctx.catalog, ctx.engine.registry, ctx.config.as_dict(), ctx.engine.partition_count)
        built = builder.build(query, sink_name=None, persistent=False)
        fields = tuple(FieldInfo(c.name, schema_info(c.type), None) for c in built.schema)
    except PlanError:
        pass  # the historical planner accepted it; the stream planner's columns are only a courtesy
    return QueryDescription(
        id=ctx.engine.next_transient_id(),
        statement_text=text,
        fields=fields,
        sources=sources,
        sinks=(),
        topology="",
        execution_plan=plan_text,
        state=None,
        query_type="PULL",
    )


def _relation_names(relation: ast.Relation) -> tuple[str, ...]:
    if isinstance(relation, ast.Join):
        return (*_relation_names(relation.left), *_relation_names(relation.right))
    return (relation.name,) if isinstance(relation, ast.AliasedRelation) else ()


def _explain_statement(ctx: StatementContext, statement: ast.Statement, text: str) -> QueryDescription:
    """EXPLAIN of a statement that would run a query: plan it without running it (no side effects).
    ``text`` is the explained statement's text (the EXPLAIN's text without its keyword, as ksqlDB
    takes it)."""
    from headwater.engine.planner.builder import QueryBuilder
    from headwater.engine.statements.queries import plan_create_as_select, plan_insert_into

    if isinstance(statement, ast.SelectStatement) and _is_historical(ctx, statement.query):
        return _explain_historical(ctx, statement.query, text)
    if isinstance(statement, ast.SelectStatement):
        builder = QueryBuilder(ctx.catalog, ctx.engine.registry, ctx.config.as_dict(), ctx.engine.partition_count)
        built = builder.build(statement.query, sink_name=None, persistent=False)
        query_id = ctx.engine.next_transient_id()
        fields = tuple(
            FieldInfo(c.name, schema_info(c.type), "KEY" if c.is_key else None) for c in built.schema
        )
        return QueryDescription(
            id=query_id,
            statement_text=text,
            fields=fields,
            sources=tuple(s.name for s in built.all_sources),
            sinks=(),
            topology=topology(built.plan),
            execution_plan=execution_plan(built.plan, query_id),
            window_type=built.source.window.type.value if built.source.window else None,
            state=None,
            query_type="PUSH",
        )
    if isinstance(statement, ast.CreateStreamAsSelect | ast.CreateTableAsSelect):
        planned = plan_create_as_select(ctx, statement)
        if planned is None:
            raise PlanError(f"Cannot add stream '{statement.name}': A stream with the same name already exists")
    elif isinstance(statement, ast.InsertInto):
        planned = plan_insert_into(ctx, statement)
    else:
        raise PlanError("The provided statement does not run a ksql query")
    return QueryDescription(
        id=planned.query_id,
        statement_text=text,
        fields=_fields(planned.sink),
        sources=tuple(s.name for s in planned.sources),
        sinks=(planned.sink.name,),
        topology=topology(planned.plan),
        execution_plan=execution_plan(planned.plan, planned.query_id),
        window_type=planned.sink.window.type.value if planned.sink.window else None,
        state=None,
    )


def explain(ctx: StatementContext, stmt: ast.Explain) -> Entity:
    """EXPLAIN query_id (a running query) or EXPLAIN statement (what the statement would run)."""
    if stmt.query_id is not None:
        query = ctx.engine.query(stmt.query_id)
        if query is None:
            raise PlanError(
                f"Query with id:{stmt.query_id} does not exist, use SHOW QUERIES to view the full set of queries."
            )
        return QueryDescriptionEntity(stmt.text, query_description=query_description(query))
    if stmt.statement is None:
        raise PlanError("must have either queryID or statement")
    inner = re.sub(r"^\s*EXPLAIN\s+", "", stmt.text, flags=re.IGNORECASE)
    return QueryDescriptionEntity(stmt.text, query_description=_explain_statement(ctx, stmt.statement, inner))
