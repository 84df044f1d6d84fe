"""The syntax tree of ksqlDB statements: what the parser produces and the engine consumes.

Statements are frozen, slotted dataclasses like the expressions they hold (:mod:`headwater.parser.expressions`,
re-exported here so ``from headwater.parser import ast`` gives the whole tree). Each statement carries its
span and its own source ``text``; neither takes part in equality.

Property names in WITH clauses are upper-cased (ksqlDB treats them case-insensitively); their values are
literal expressions.

Example:
    >>> CreateStream("S", text="CREATE STREAM S ...") == CreateStream("S")
    True
"""

# ruff: noqa: RUF009  (every node's span/text default is a dataclasses.field() built by a helper)

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from headwater.parser.expressions import *  # noqa: F403  (the statement tree re-exports the expression tree)
from headwater.parser.expressions import Duration, Expression, Node, Span, _span
from headwater.parser.expressions import __all__ as _expression_names
from headwater.parser.types import SqlType

# --------------------------------------------------------------------------------------------------------
# SELECT


class SelectItem(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class SingleColumn(SelectItem):
    """``expression [AS alias]``; the alias is None when not written (the engine derives one)."""

    expression: Expression
    alias: str | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class AllColumns(SelectItem):
    """``*`` (source None) or ``src.*``."""

    source: str | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StructAll(SelectItem):
    """``base->*``: every field of a struct as its own column."""

    base: Expression
    span: Span | None = _span()


class Relation(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class AliasedRelation(Relation):
    """A named source with an optional alias: ``FROM orders o``."""

    name: str
    alias: str | None = None
    span: Span | None = _span()


class JoinType(Enum):
    INNER = "INNER"
    LEFT = "LEFT OUTER"
    RIGHT = "RIGHT OUTER"
    FULL = "FULL OUTER"


@dataclass(frozen=True, slots=True)
class WithinExpression(Node):
    """``WITHIN n UNIT`` (``after`` None: the same bound both ways) or ``WITHIN (before, after)``,
    with an optional ``GRACE PERIOD``."""

    before: Duration
    after: Duration | None = None
    grace: Duration | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Join(Relation):
    """``left <type> JOIN right [WITHIN ...] ON criteria``; n-way joins nest to the left."""

    left: Relation
    right: AliasedRelation
    join_type: JoinType
    criteria: Expression
    within: WithinExpression | None = None
    span: Span | None = _span()


class WindowExpression(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class TumblingWindow(WindowExpression):
    size: Duration
    retention: Duration | None = None
    grace: Duration | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class HoppingWindow(WindowExpression):
    size: Duration
    advance: Duration
    retention: Duration | None = None
    grace: Duration | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SessionWindow(WindowExpression):
    gap: Duration
    retention: Duration | None = None
    grace: Duration | None = None
    span: Span | None = _span()


class EmitMode(Enum):
    CHANGES = "CHANGES"
    FINAL = "FINAL"


@dataclass(frozen=True, slots=True)
class Query(Node):
    """A SELECT. ``emit`` None means a pull query (or a historical one over a stream).

    ``group_by`` and ``partition_by`` are None when the clause is absent and a (possibly empty) tuple
    when present, since ``GROUP BY ()`` is legal syntax.
    """

    select: tuple[SelectItem, ...]
    from_: Relation
    window: WindowExpression | None = None
    where: Expression | None = None
    group_by: tuple[Expression, ...] | None = None
    partition_by: tuple[Expression, ...] | None = None
    having: Expression | None = None
    emit: EmitMode | None = None
    limit: int | None = None
    span: Span | None = _span()


# --------------------------------------------------------------------------------------------------------
# Statements


class Statement(Node):
    """Base of every statement. ``text`` is the statement's own source text (without the ``;``), set by
    the parser for messages and the command log; like spans, it takes no part in equality."""

    __slots__ = ()
    text: str


def _text() -> str:
    return field(default="", compare=False, kw_only=True, repr=False)


@dataclass(frozen=True, slots=True)
class Property(Node):
    """``NAME = literal`` in a WITH clause; the name is upper-cased."""

    name: str
    value: Expression
    span: Span | None = _span()


class ColumnConstraint(Enum):
    NONE = ""
    KEY = "KEY"
    PRIMARY_KEY = "PRIMARY KEY"
    HEADERS = "HEADERS"
    HEADER = "HEADER"  # with TableElement.header_key


@dataclass(frozen=True, slots=True)
class TableElement(Node):
    """A column declaration: ``name type [KEY | PRIMARY KEY | HEADERS | HEADER('k')]``."""

    name: str
    type: SqlType
    constraint: ColumnConstraint = ColumnConstraint.NONE
    header_key: str | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SelectStatement(Statement):
    """A bare query as a statement (push, pull or historical)."""

    query: Query
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class CreateStream(Statement):
    name: str
    elements: tuple[TableElement, ...] = ()
    properties: tuple[Property, ...] = ()
    or_replace: bool = False
    if_not_exists: bool = False
    is_source: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class CreateTable(Statement):
    name: str
    elements: tuple[TableElement, ...] = ()
    properties: tuple[Property, ...] = ()
    or_replace: bool = False
    if_not_exists: bool = False
    is_source: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class CreateStreamAsSelect(Statement):
    name: str
    query: Query
    properties: tuple[Property, ...] = ()
    or_replace: bool = False
    if_not_exists: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class CreateTableAsSelect(Statement):
    name: str
    query: Query
    properties: tuple[Property, ...] = ()
    or_replace: bool = False
    if_not_exists: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class InsertInto(Statement):
    """``INSERT INTO target [WITH (...)] SELECT ...``."""

    target: str
    query: Query
    properties: tuple[Property, ...] = ()
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class InsertValues(Statement):
    """``INSERT INTO target [(cols)] VALUES (...)``; ``columns`` None when no list is written."""

    target: str
    columns: tuple[str, ...] | None
    values: tuple[Expression, ...]
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DropStream(Statement):
    name: str
    if_exists: bool = False
    delete_topic: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DropTable(Statement):
    name: str
    if_exists: bool = False
    delete_topic: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class CreateType(Statement):
    name: str
    type: SqlType
    if_not_exists: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DropType(Statement):
    name: str
    if_exists: bool = False
    span: Span | None = _span()
    text: str = _text()


class SourceKind(Enum):
    STREAM = "STREAM"
    TABLE = "TABLE"


@dataclass(frozen=True, slots=True)
class AlterSource(Statement):
    """``ALTER STREAM|TABLE name ADD [COLUMN] c type, ...``."""

    name: str
    kind: SourceKind
    add_columns: tuple[TableElement, ...]
    span: Span | None = _span()
    text: str = _text()


class ConnectorKind(Enum):
    SOURCE = "SOURCE"
    SINK = "SINK"


@dataclass(frozen=True, slots=True)
class CreateConnector(Statement):
    name: str
    kind: ConnectorKind
    properties: tuple[Property, ...]
    if_not_exists: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DropConnector(Statement):
    name: str
    if_exists: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListStreams(Statement):
    extended: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListTables(Statement):
    extended: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListTopics(Statement):
    """``SHOW [ALL] TOPICS [EXTENDED]``; ``all`` includes internal topics."""

    all: bool = False
    extended: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListQueries(Statement):
    extended: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListProperties(Statement):
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListFunctions(Statement):
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListTypes(Statement):
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListVariables(Statement):
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListConnectors(Statement):
    """``SHOW [SOURCE | SINK] CONNECTORS``; ``kind`` None lists both."""

    kind: ConnectorKind | None = None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ListConnectorPlugins(Statement):
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DescribeSource(Statement):
    """``DESCRIBE name [EXTENDED]``."""

    name: str
    extended: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DescribeStreams(Statement):
    """``DESCRIBE STREAMS [EXTENDED]``."""

    extended: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DescribeTables(Statement):
    """``DESCRIBE TABLES [EXTENDED]``."""

    extended: bool = False
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DescribeFunction(Statement):
    name: str
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DescribeConnector(Statement):
    name: str
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class PrintTopic(Statement):
    """``PRINT topic [FROM BEGINNING] [INTERVAL n] [LIMIT n]``; the topic name is kept as written when
    quoted (a string or backticks), upper-cased otherwise, and looked up case-insensitively when the
    exact name does not exist, as ksqlDB does."""

    topic: str
    from_beginning: bool = False
    interval: int | None = None
    limit: int | None = None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class TerminateQuery(Statement):
    """``TERMINATE id`` or ``TERMINATE ALL`` (query_id None)."""

    query_id: str | None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class PauseQuery(Statement):
    """``PAUSE id`` or ``PAUSE ALL`` (query_id None)."""

    query_id: str | None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class ResumeQuery(Statement):
    """``RESUME id`` or ``RESUME ALL`` (query_id None)."""

    query_id: str | None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class SetProperty(Statement):
    """``SET 'name' = 'value'``."""

    name: str
    value: str
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class UnsetProperty(Statement):
    name: str
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class AlterSystemProperty(Statement):
    """``ALTER SYSTEM 'name' = 'value'``."""

    name: str
    value: str
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class DefineVariable(Statement):
    """``DEFINE name = 'value'``; variables are substituted as ``${name}`` before parsing."""

    name: str
    value: str
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class UndefineVariable(Statement):
    name: str
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class Explain(Statement):
    """``EXPLAIN statement`` or ``EXPLAIN query_id``: exactly one of the two is set."""

    statement: Statement | None = None
    query_id: str | None = None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class AssertTopic(Statement):
    """``ASSERT [NOT EXISTS] TOPIC name [WITH (...)] [TIMEOUT n unit]``."""

    topic: str
    properties: tuple[Property, ...] = ()
    exists: bool = True
    timeout: Duration | None = None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class AssertSchema(Statement):
    """``ASSERT [NOT EXISTS] SCHEMA [SUBJECT name] [ID n] [TIMEOUT n unit]``."""

    subject: str | None = None
    schema_id: int | None = None
    exists: bool = True
    timeout: Duration | None = None
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class RunScript(Statement):
    """``RUN SCRIPT 'path'``."""

    path: str
    span: Span | None = _span()
    text: str = _text()


# Statements of ksqlDB's test language (sql-tests scripts); the parser accepts them only when asked to.


@dataclass(frozen=True, slots=True)
class AssertValues(Statement):
    """``ASSERT VALUES source [(cols)] VALUES (...)``."""

    target: str
    columns: tuple[str, ...] | None
    values: tuple[Expression, ...]
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class AssertTombstone(Statement):
    """``ASSERT NULL VALUES source [(cols)] KEY (...)``."""

    target: str
    columns: tuple[str, ...] | None
    key_values: tuple[Expression, ...]
    span: Span | None = _span()
    text: str = _text()


@dataclass(frozen=True, slots=True)
class AssertSource(Statement):
    """``ASSERT STREAM|TABLE name [(elements)] [WITH (...)]``."""

    name: str
    kind: SourceKind
    elements: tuple[TableElement, ...] = ()
    properties: tuple[Property, ...] = ()
    span: Span | None = _span()
    text: str = _text()


__all__ = sorted(
    set(_expression_names)
    | {
        name
        for name, value in list(globals().items())
        if not name.startswith("_") and isinstance(value, type) and value.__module__ == __name__
    }
)
