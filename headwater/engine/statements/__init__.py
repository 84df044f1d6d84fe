"""Statement handlers, one module per family, and the table that dispatches a statement to its handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headwater.engine.entities import Entity
from headwater.engine.statements.context import StatementContext
from headwater.errors import PlanError
from headwater.parser import ast

__all__ = ["StatementContext", "dispatch", "handlers"]

_HANDLERS: dict[type[ast.Statement], Callable[[StatementContext, Any], Entity]] = {}


def handlers() -> dict[type[ast.Statement], Callable[[StatementContext, Any], Entity]]:
    """Statement class -> handler (built on first use, so light modules load without the storage and
    formats packages). Statements missing here are refused with a message naming them."""
    if not _HANDLERS:
        _HANDLERS.update(_build())
    return _HANDLERS


def _build() -> dict[type[ast.Statement], Callable[[StatementContext, Any], Entity]]:
    from headwater.engine.statements import control, ddl, listing, queries, session

    return {
        ast.CreateStream: ddl.create_source,
        ast.CreateTable: ddl.create_source,
        ast.DropStream: ddl.drop_source,
        ast.DropTable: ddl.drop_source,
        ast.AlterSource: ddl.alter_source,
        ast.CreateType: ddl.create_type,
        ast.DropType: ddl.drop_type,
        ast.CreateStreamAsSelect: queries.create_as_select,
        ast.CreateTableAsSelect: queries.create_as_select,
        ast.InsertInto: queries.insert_into,
        ast.TerminateQuery: queries.terminate,
        ast.PauseQuery: control.pause,
        ast.ResumeQuery: control.resume,
        ast.AssertTopic: control.assert_topic,
        ast.AssertSchema: control.assert_schema,
        ast.SetProperty: session.set_property,
        ast.UnsetProperty: session.unset_property,
        ast.DefineVariable: session.define,
        ast.UndefineVariable: session.undefine,
        ast.ListStreams: listing.list_sources,
        ast.ListTables: listing.list_sources,
        ast.ListTopics: listing.list_topics,
        ast.ListQueries: listing.list_queries,
        ast.ListProperties: listing.list_properties,
        ast.ListVariables: listing.list_variables,
        ast.ListTypes: listing.list_types,
        ast.ListFunctions: listing.list_functions,
        ast.DescribeSource: listing.describe_source,
        ast.DescribeStreams: listing.describe_sources,
        ast.DescribeTables: listing.describe_sources,
        ast.DescribeFunction: listing.describe_function,
        ast.Explain: listing.explain,
    }


def dispatch(ctx: StatementContext, statement: ast.Statement) -> Entity:
    """Run ``statement`` in ``ctx``.

    Raises:
        PlanError: the statement kind is not supported, or the handler refused it.
    """
    if isinstance(statement, ast.InsertValues):
        from headwater.engine.statements.insert_values import insert_values

        return insert_values(ctx, statement)
    if isinstance(statement, (ast.SelectStatement, ast.PrintTopic)):
        raise PlanError(
            "The following statement types should be sent to the streaming endpoint: "
            f"[{'Query' if isinstance(statement, ast.SelectStatement) else 'PrintTopic'}]. "
            "Use Engine.stream() to run it."
        )
    handler = handlers().get(type(statement))
    if handler is None:
        raise PlanError(f"Statement type {type(statement).__name__} is not supported.")
    try:
        return handler(ctx, statement)
    except PlanError as error:
        if error.statement is None:
            error.statement = getattr(statement, "text", "")
        raise
