"""Grammar callbacks that build statements, queries and relations.

Like :mod:`headwater.parser.build_expressions`, each method is named after a rule or alias of
``grammar.lark``. Optional clauses arrive as :class:`~headwater.parser.positions.Part` values so a
statement callback can find them by kind rather than by position. The checks ksqlDB makes while
building statements (source names, KEY vs PRIMARY KEY, WITH clauses, INSERT VALUES arity) are made
here with ksqlDB's message text; checks that need the whole statement (qualifiers that name no source)
are in :mod:`headwater.parser.checks`.
"""

from __future__ import annotations

import re

from headwater.parser import ast
from headwater.parser import expressions as ex
from headwater.parser.build_expressions import duration, integer_value, unquote_string
from headwater.parser.lexer import Token
from headwater.parser.positions import AstCheckError, Ident, Part, TypeAt, span_between, span_of, token_span
from headwater.parser.properties import (
    INSERT_PROPERTIES,
    SOURCE_AS_PROPERTIES,
    SOURCE_PROPERTIES,
    validate_properties,
)

__all__ = ["StatementCallbacks"]

# ksqlDB's ParserUtil.VALID_SOURCE_NAMES: source names must be valid Kafka Streams store names.
_VALID_SOURCE_NAME = re.compile(r"[a-zA-Z0-9_-]*\Z")

_PART_RULES = {
    "or_replace": "or_replace",
    "if_not_exists": "if_not_exists",
    "if_exists": "if_exists",
    "not_exists": "not_exists",
    "delete_topic": "delete_topic",
}


def source_name(name: Ident) -> str:
    """A stream or table name, checked as ksqlDB's ParserUtil.getSourceName checks it."""
    if not _VALID_SOURCE_NAME.match(name.name):
        raise AstCheckError.at(
            f"Illegal argument at Line: {name.span.line}, Col: {name.span.column}. Source names may only "
            f"contain alphanumeric values, '_' or '-'. Got: '{name.name}'",
            name.span,
            name.text,
        )
    return name.name


def _has(children: list, token_type: str) -> bool:
    return any(isinstance(c, Token) and c.type == token_type for c in children)


def _parts(children: list) -> dict[str, Part]:
    return {c.kind: c for c in children if isinstance(c, Part)}


def _idents(children: list) -> list[Ident]:
    return [c for c in children if isinstance(c, Ident)]


def _syntax_error_at(token_or_span: object, text: str, expecting: str) -> AstCheckError:
    span = token_span(token_or_span) if isinstance(token_or_span, Token) else token_or_span
    assert isinstance(span, ex.Span)
    return AstCheckError.at(f"Syntax Error\nmismatched input '{text}' expecting {expecting}", span, text)


class StatementCallbacks:
    """Callbacks for the statement, query and relation rules of ``grammar.lark``."""

    # ------------------------------------------------------------------------------------------------
    # Entry points

    def statement_entry(self, children: list) -> ast.Statement:
        return children[0]

    def test_statement_entry(self, children: list) -> ast.Statement:
        return children[0]

    def expression_entry(self, children: list) -> ex.Expression:
        return children[0]

    # ------------------------------------------------------------------------------------------------
    # Small parts

    def or_replace(self, children: list) -> Part:
        return Part("or_replace", True, span_of(children))

    def if_not_exists(self, children: list) -> Part:
        return Part("if_not_exists", True, span_of(children))

    def if_exists(self, children: list) -> Part:
        return Part("if_exists", True, span_of(children))

    def not_exists(self, children: list) -> Part:
        return Part("not_exists", True, span_of(children))

    def delete_topic(self, children: list) -> Part:
        return Part("delete_topic", True, span_of(children))

    def with_properties(self, children: list) -> Part:
        return Part("with", children[1], span_of(children))

    def as_query(self, children: list) -> Part:
        return Part("as_query", children[1], span_of(children))

    def print_from(self, children: list) -> Part:
        return Part("from_beginning", True, span_of(children))

    def print_interval(self, children: list) -> Part:
        return Part("interval", integer_value(children[1], "INTERVAL"), span_of(children))

    def limit_clause(self, children: list) -> Part:
        return Part("limit", integer_value(children[1], "LIMIT"), span_of(children))

    def assert_subject(self, children: list) -> Part:
        return Part("subject", children[1].value, span_of(children))

    def assert_id(self, children: list) -> Part:
        value = children[1]
        if not isinstance(value, ex.IntegerLiteral):
            raise AstCheckError.at("Failed to prepare statement: ID must be an integer", value.span)
        return Part("id", value.value, span_of(children))

    def timeout(self, children: list) -> Part:
        return Part(
            "timeout", duration(children[1], children[2], _number_text(children[1])), span_of(children)
        )

    def resource_name(self, children: list) -> Part:
        item = children[0]
        if isinstance(item, Ident):
            # ksqlDB keeps the case of topic and subject names (getIdentifierText(true, ...)).
            return Part("resource", item.text, item.span)
        return Part("resource", unquote_string(item), token_span(item))

    def table_properties(self, children: list) -> tuple[ast.Property, ...]:
        return tuple(c for c in children if isinstance(c, ast.Property))

    def table_property(self, children: list) -> ast.Property:
        key, _, value = children
        if isinstance(key, Ident):
            name = key.name
        else:
            name = unquote_string(key)
        if isinstance(value, Token):  # an unresolved ${variable}
            raise AstCheckError(
                f"Illegal argument at Line: {value.line}, Col: {value.column}.",
                value.line or 1,
                value.column or 1,
                str(value),
            )
        return ast.Property(name, value, span=span_of(children))

    def column_list(self, children: list) -> Part:
        return Part("columns", tuple(i.name for i in _idents(children)), span_of(children))

    def value_list(self, children: list) -> Part:
        values = tuple(c for c in children if not isinstance(c, Token))
        return Part("values", values, span_of(children))

    def table_elements(self, children: list) -> Part:
        return Part(
            "elements", tuple(c for c in children if isinstance(c, ast.TableElement)), span_of(children)
        )

    def column_constraint(self, children: list) -> Part:
        first = children[0].type
        if first == "PRIMARY":
            return Part("constraint", (ast.ColumnConstraint.PRIMARY_KEY, None), span_of(children))
        if first == "KEY":
            return Part("constraint", (ast.ColumnConstraint.KEY, None), span_of(children))
        if first == "HEADERS":
            return Part("constraint", (ast.ColumnConstraint.HEADERS, None), span_of(children))
        return Part(
            "constraint", (ast.ColumnConstraint.HEADER, unquote_string(children[2])), span_of(children)
        )

    def table_element(self, children: list) -> ast.TableElement:
        name: Ident = children[0]
        type_at: TypeAt = children[1]
        constraint, header_key = ast.ColumnConstraint.NONE, None
        if len(children) == 3:
            constraint, header_key = children[2].value
        return ast.TableElement(name.name, type_at.type, constraint, header_key, span=span_of(children))

    def alter_option(self, children: list) -> ast.TableElement:
        name: Ident = children[-2]
        type_at: TypeAt = children[-1]
        return ast.TableElement(name.name, type_at.type, span=span_between(name, type_at))

    # ------------------------------------------------------------------------------------------------
    # Queries

    def select_items(self, children: list) -> tuple[ast.SelectItem, ...]:
        return tuple(c for c in children if isinstance(c, ast.SelectItem))

    def select_single(self, children: list) -> ast.SelectItem:
        alias = children[-1].name if len(children) > 1 else None
        return ast.SingleColumn(children[0], alias, span=span_of(children))

    def select_struct_all(self, children: list) -> ast.SelectItem:
        return ast.StructAll(children[0], span=span_of(children))

    def select_all(self, children: list) -> ast.SelectItem:
        source = children[0].name if len(children) == 3 else None
        return ast.AllColumns(source, span=span_of(children))

    # Optional query clauses: a Part holding the clause's value and span, or None when absent.

    def opt_window(self, children: list) -> Part | None:
        return Part("window", children[1], span_of(children)) if children else None

    def opt_where(self, children: list) -> Part | None:
        return Part("where", children[1], span_of(children)) if children else None

    def opt_group_by(self, children: list) -> Part | None:
        return Part("group_by", children[2], span_of(children)) if children else None

    def opt_partition_by(self, children: list) -> Part | None:
        return Part("partition_by", children[2], span_of(children)) if children else None

    def opt_having(self, children: list) -> Part | None:
        return Part("having", children[1], span_of(children)) if children else None

    def opt_emit(self, children: list) -> Part | None:
        if not children:
            return None
        mode = ast.EmitMode.FINAL if children[1].type == "FINAL" else ast.EmitMode.CHANGES
        return Part("emit", mode, span_of(children))

    def opt_limit(self, children: list) -> Part | None:
        return children[0] if children else None

    def grouping(self, children: list) -> tuple[ex.Expression, ...]:
        return tuple(c for c in children if not isinstance(c, Token))

    def query(self, children: list) -> ast.Query:
        parts = _parts(children)
        return ast.Query(
            children[1],
            children[3],
            window=_part_value(parts, "window"),
            where=_part_value(parts, "where"),
            group_by=_part_value(parts, "group_by"),
            partition_by=_part_value(parts, "partition_by"),
            having=_part_value(parts, "having"),
            emit=_part_value(parts, "emit"),
            limit=_part_value(parts, "limit"),
            span=span_of(children),
        )

    def aliased_relation(self, children: list) -> ast.AliasedRelation:
        names = _idents(children)
        alias = source_name(names[1]) if len(names) == 2 else None
        return ast.AliasedRelation(source_name(names[0]), alias, span=span_of(children))

    def join_type(self, children: list) -> ast.JoinType:
        if not children:
            return ast.JoinType.INNER
        return {
            "INNER": ast.JoinType.INNER,
            "FULL": ast.JoinType.FULL,
            "LEFT": ast.JoinType.LEFT,
            "RIGHT": ast.JoinType.RIGHT,
        }[children[0].type]

    def grace_period(self, children: list) -> Part:
        return Part("grace", duration(children[2], children[3], _number_text(children[2])), span_of(children))

    def retention(self, children: list) -> Part:
        return Part(
            "retention", duration(children[1], children[2], _number_text(children[1])), span_of(children)
        )

    def join_window_size(self, children: list) -> ex.Duration:
        return duration(children[0], children[1], _number_text(children[0]))

    def join_window(self, children: list) -> ast.WithinExpression:
        sizes = [c for c in children if isinstance(c, ex.Duration)]
        grace: ex.Duration | None = _part_value(_parts(children), "grace")
        after = sizes[1] if len(sizes) == 2 else None
        return ast.WithinExpression(sizes[0], after, grace, span=span_of(children))

    def joined_source(self, children: list) -> Part:
        join_type = children[0]
        right = next(c for c in children if isinstance(c, ast.AliasedRelation))
        within = next((c for c in children if isinstance(c, ast.WithinExpression)), None)
        criteria = children[-1]
        return Part("join", (join_type, right, within, criteria), span_of(children))

    def relation(self, children: list) -> ast.Relation:
        relation: ast.Relation = children[0]
        for joined in children[1:]:
            join_type, right, within, criteria = joined.value
            relation = ast.Join(
                relation, right, join_type, criteria, within, span=span_between(relation, joined)
            )
        return relation

    def window_expression(self, children: list) -> ast.WindowExpression:
        return children[-1]

    def tumbling_window(self, children: list) -> ast.WindowExpression:
        parts = _parts(children)
        size = duration(children[3], children[4], _number_text(children[3]))
        return ast.TumblingWindow(
            size, _part_value(parts, "retention"), _part_value(parts, "grace"), span=span_of(children)
        )

    def hopping_window(self, children: list) -> ast.WindowExpression:
        parts = _parts(children)
        size = duration(children[3], children[4], _number_text(children[3]))
        advance = duration(children[8], children[9], _number_text(children[8]))
        return ast.HoppingWindow(
            size,
            advance,
            _part_value(parts, "retention"),
            _part_value(parts, "grace"),
            span=span_of(children),
        )

    def session_window(self, children: list) -> ast.WindowExpression:
        parts = _parts(children)
        gap = duration(children[2], children[3], _number_text(children[2]))
        return ast.SessionWindow(
            gap, _part_value(parts, "retention"), _part_value(parts, "grace"), span=span_of(children)
        )

    # ------------------------------------------------------------------------------------------------
    # Statements

    def select_statement(self, children: list) -> ast.Statement:
        return ast.SelectStatement(children[0], span=span_of(children))

    def list_properties(self, children: list) -> ast.Statement:
        return ast.ListProperties(span=span_of(children))

    def list_topics(self, children: list) -> ast.Statement:
        return ast.ListTopics(_has(children, "ALL"), _has(children, "EXTENDED"), span=span_of(children))

    def list_streams(self, children: list) -> ast.Statement:
        return ast.ListStreams(_has(children, "EXTENDED"), span=span_of(children))

    def list_tables(self, children: list) -> ast.Statement:
        return ast.ListTables(_has(children, "EXTENDED"), span=span_of(children))

    def list_functions(self, children: list) -> ast.Statement:
        return ast.ListFunctions(span=span_of(children))

    def list_connectors(self, children: list) -> ast.Statement:
        kind = None
        if _has(children, "SOURCE"):
            kind = ast.ConnectorKind.SOURCE
        elif _has(children, "SINK"):
            kind = ast.ConnectorKind.SINK
        return ast.ListConnectors(kind, span=span_of(children))

    def list_connector_plugins(self, children: list) -> ast.Statement:
        return ast.ListConnectorPlugins(span=span_of(children))

    def list_types(self, children: list) -> ast.Statement:
        return ast.ListTypes(span=span_of(children))

    def list_variables(self, children: list) -> ast.Statement:
        return ast.ListVariables(span=span_of(children))

    def list_queries(self, children: list) -> ast.Statement:
        return ast.ListQueries(_has(children, "EXTENDED"), span=span_of(children))

    def describe_source(self, children: list) -> ast.Statement:
        name: Ident = children[1]
        extended = _has(children, "EXTENDED")
        # ksqlDB reads an unquoted TABLES here as DESCRIBE TABLES, keeping TABLES usable as a name.
        if not name.quoted and name.name == "TABLES":
            return ast.DescribeTables(extended, span=span_of(children))
        return ast.DescribeSource(source_name(name), extended, span=span_of(children))

    def describe_streams(self, children: list) -> ast.Statement:
        return ast.DescribeStreams(_has(children, "EXTENDED"), span=span_of(children))

    def describe_function(self, children: list) -> ast.Statement:
        return ast.DescribeFunction(children[2].name, span=span_of(children))

    def describe_connector(self, children: list) -> ast.Statement:
        return ast.DescribeConnector(children[2].name, span=span_of(children))

    def print_topic(self, children: list) -> ast.Statement:
        parts = _parts(children)
        return ast.PrintTopic(
            parts["resource"].value,  # type: ignore[arg-type]
            from_beginning="from_beginning" in parts,
            interval=_part_value(parts, "interval"),
            limit=_part_value(parts, "limit"),
            span=span_of(children),
        )

    def terminate_query(self, children: list) -> ast.Statement:
        return ast.TerminateQuery(_query_id(children[1]), span=span_of(children))

    def pause_query(self, children: list) -> ast.Statement:
        return ast.PauseQuery(_query_id(children[1]), span=span_of(children))

    def resume_query(self, children: list) -> ast.Statement:
        return ast.ResumeQuery(_query_id(children[1]), span=span_of(children))

    def set_property(self, children: list) -> ast.Statement:
        return ast.SetProperty(
            _property_text(children[1]), _property_text(children[3]), span=span_of(children)
        )

    def alter_system_property(self, children: list) -> ast.Statement:
        return ast.AlterSystemProperty(
            unquote_string(children[2]), unquote_string(children[4]), span=span_of(children)
        )

    def unset_property(self, children: list) -> ast.Statement:
        return ast.UnsetProperty(_property_text(children[1]), span=span_of(children))

    def define_variable(self, children: list) -> ast.Statement:
        return ast.DefineVariable(str(children[1]), unquote_string(children[3]), span=span_of(children))

    def undefine_variable(self, children: list) -> ast.Statement:
        return ast.UndefineVariable(str(children[1]), span=span_of(children))

    def create_stream(self, children: list) -> ast.Statement:
        return _create_source(children, ast.SourceKind.STREAM)

    def create_table(self, children: list) -> ast.Statement:
        return _create_source(children, ast.SourceKind.TABLE)

    def create_connector(self, children: list) -> ast.Statement:
        kind = ast.ConnectorKind.SOURCE if children[1].type == "SOURCE" else ast.ConnectorKind.SINK
        name = _idents(children)[0]
        properties = next(c for c in children if isinstance(c, tuple))
        return ast.CreateConnector(
            name.name,
            kind,
            properties,
            if_not_exists="if_not_exists" in _parts(children),
            span=span_of(children),
        )

    def insert_into(self, children: list) -> ast.Statement:
        parts = _parts(children)
        target = source_name(_idents(children)[0])
        properties = _upper_properties(_part_value(parts, "with") or ())
        validate_properties(properties, INSERT_PROPERTIES, span_of(children))
        return ast.InsertInto(target, children[-1], properties, span=span_of(children))

    def insert_values(self, children: list) -> ast.Statement:
        parts = _parts(children)
        target = source_name(_idents(children)[0])
        columns = _part_value(parts, "columns")
        values = parts["values"].value
        assert isinstance(values, tuple)
        if columns and len(columns) != len(values):
            raise AstCheckError.at(
                "Failed to prepare statement: Expected number columns and values to match: "
                f"{len(columns)}, {len(values)}",
                _idents(children)[0].span,
            )
        return ast.InsertValues(target, columns, values, span=span_of(children))

    def drop_stream(self, children: list) -> ast.Statement:
        parts = _parts(children)
        return ast.DropStream(
            source_name(_idents(children)[0]),
            if_exists="if_exists" in parts,
            delete_topic="delete_topic" in parts,
            span=span_of(children),
        )

    def drop_table(self, children: list) -> ast.Statement:
        parts = _parts(children)
        return ast.DropTable(
            source_name(_idents(children)[0]),
            if_exists="if_exists" in parts,
            delete_topic="delete_topic" in parts,
            span=span_of(children),
        )

    def drop_connector(self, children: list) -> ast.Statement:
        return ast.DropConnector(
            _idents(children)[0].name, if_exists="if_exists" in _parts(children), span=span_of(children)
        )

    def explain(self, children: list) -> ast.Statement:
        target = children[1]
        if isinstance(target, Ident):
            return ast.Explain(query_id=target.name, span=span_of(children))
        return ast.Explain(statement=target, span=span_of(children))

    def create_type(self, children: list) -> ast.Statement:
        type_at: TypeAt = children[-1]
        return ast.CreateType(
            _idents(children)[0].name,
            type_at.type,
            if_not_exists="if_not_exists" in _parts(children),
            span=span_of(children),
        )

    def drop_type(self, children: list) -> ast.Statement:
        return ast.DropType(
            _idents(children)[0].name, if_exists="if_exists" in _parts(children), span=span_of(children)
        )

    def alter_source(self, children: list) -> ast.Statement:
        kind = ast.SourceKind.STREAM if children[1].type == "STREAM" else ast.SourceKind.TABLE
        columns = tuple(c for c in children if isinstance(c, ast.TableElement))
        return ast.AlterSource(source_name(children[2]), kind, columns, span=span_of(children))

    def assert_topic(self, children: list) -> ast.Statement:
        parts = _parts(children)
        return ast.AssertTopic(
            parts["resource"].value,  # type: ignore[arg-type]
            _upper_properties(_part_value(parts, "with") or ()),
            exists="not_exists" not in parts,
            timeout=_part_value(parts, "timeout"),
            span=span_of(children),
        )

    def assert_schema(self, children: list) -> ast.Statement:
        parts = _parts(children)
        subject = _part_value(parts, "subject")
        schema_id = _part_value(parts, "id")
        if subject is None and schema_id is None:
            raise AstCheckError.at(
                "Failed to prepare statement: ASSERT SCHEMA statements much include a subject name or an id",
                span_of(children),
            )
        return ast.AssertSchema(
            subject,
            schema_id,
            exists="not_exists" not in parts,
            timeout=_part_value(parts, "timeout"),
            span=span_of(children),
        )

    def assert_values(self, children: list) -> ast.Statement:
        parts = _parts(children)
        values = parts["values"].value
        assert isinstance(values, tuple)
        return ast.AssertValues(
            source_name(_idents(children)[0]), _part_value(parts, "columns"), values, span=span_of(children)
        )

    def assert_tombstone(self, children: list) -> ast.Statement:
        parts = _parts(children)
        values = parts["values"].value
        assert isinstance(values, tuple)
        return ast.AssertTombstone(
            source_name(_idents(children)[0]), _part_value(parts, "columns"), values, span=span_of(children)
        )

    def assert_stream(self, children: list) -> ast.Statement:
        return _assert_source(children, ast.SourceKind.STREAM)

    def assert_table(self, children: list) -> ast.Statement:
        return _assert_source(children, ast.SourceKind.TABLE)

    def run_script(self, children: list) -> ast.Statement:
        return ast.RunScript(unquote_string(children[2]), span=span_of(children))


def _part_value(parts: dict[str, Part], kind: str):
    part = parts.get(kind)
    return None if part is None else part.value


def _number_text(number: ex.Expression) -> str:
    if isinstance(number, ex.DecimalLiteral):
        return str(number.value)
    if isinstance(number, ex.DoubleLiteral | ex.IntegerLiteral):
        return str(number.value)
    return "?"


def _query_id(item: object) -> str | None:
    if isinstance(item, Ident):
        return item.name
    return None  # ALL


def _property_text(token: Token) -> str:
    if token.type == "VARIABLE":
        raise AstCheckError(
            f"Illegal argument at Line: {token.line}, Col: {token.column}.",
            token.line or 1,
            token.column or 1,
            str(token),
        )
    return unquote_string(token)


def _upper_properties(properties: tuple[ast.Property, ...]) -> tuple[ast.Property, ...]:
    """WITH properties of sources and queries: ksqlDB treats their names case-insensitively."""
    return tuple(
        p if p.name == p.name.upper() else ast.Property(p.name.upper(), p.value, span=p.span)
        for p in properties
    )


def _check_key_constraints(elements: tuple[ast.TableElement, ...], kind: ast.SourceKind) -> None:
    """Streams declare KEY columns, tables PRIMARY KEY columns; ksqlDB rejects the other one."""
    for element in elements:
        span = element.span
        where = f"Line: {span.line}, Col: {span.column}: " if span else ""
        name = "`" + element.name.replace("`", "``") + "`"
        if kind is ast.SourceKind.TABLE and element.constraint is ast.ColumnConstraint.KEY:
            raise AstCheckError.at(
                f"{where}Column {name} is a 'KEY' column: please use 'PRIMARY KEY' for tables.", span
            )
        if kind is ast.SourceKind.STREAM and element.constraint is ast.ColumnConstraint.PRIMARY_KEY:
            raise AstCheckError.at(
                f"{where}Column {name} is a 'PRIMARY KEY' column: please use 'KEY' for streams.", span
            )


def _create_source(children: list, kind: ast.SourceKind) -> ast.Statement:
    parts = _parts(children)
    name = source_name(_idents(children)[0])
    properties = _upper_properties(_part_value(parts, "with") or ())
    where = span_of(children)
    as_query = parts.get("as_query")
    if as_query is not None:
        # The grammar shares one rule between CREATE and CREATE ... AS SELECT; ksqlDB's grammar has
        # no SOURCE and no column list before AS, so a parser following it stops at AS.
        if _has(children, "SOURCE") or "elements" in parts:
            assert as_query.span is not None
            raise _syntax_error_at(as_query.span, "AS", "';'")
        validate_properties(properties, SOURCE_AS_PROPERTIES, where)
        query = as_query.value
        assert isinstance(query, ast.Query)
        common = {
            "properties": properties,
            "or_replace": "or_replace" in parts,
            "if_not_exists": "if_not_exists" in parts,
            "span": where,
        }
        if kind is ast.SourceKind.STREAM:
            return ast.CreateStreamAsSelect(name, query, **common)  # type: ignore[arg-type]
        return ast.CreateTableAsSelect(name, query, **common)  # type: ignore[arg-type]
    elements: tuple[ast.TableElement, ...] = _part_value(parts, "elements") or ()
    _check_key_constraints(elements, kind)
    validate_properties(properties, SOURCE_PROPERTIES, where, window_checks=True)
    arguments = {
        "elements": elements,
        "properties": properties,
        "or_replace": "or_replace" in parts,
        "if_not_exists": "if_not_exists" in parts,
        "is_source": _has(children, "SOURCE"),
        "span": where,
    }
    if kind is ast.SourceKind.STREAM:
        return ast.CreateStream(name, **arguments)  # type: ignore[arg-type]
    return ast.CreateTable(name, **arguments)  # type: ignore[arg-type]


def _assert_source(children: list, kind: ast.SourceKind) -> ast.Statement:
    parts = _parts(children)
    elements: tuple[ast.TableElement, ...] = _part_value(parts, "elements") or ()
    properties = _upper_properties(_part_value(parts, "with") or ())
    _check_key_constraints(elements, kind)
    validate_properties(properties, SOURCE_PROPERTIES, span_of(children), window_checks=True)
    return ast.AssertSource(
        source_name(_idents(children)[0]), kind, elements, properties, span=span_of(children)
    )
