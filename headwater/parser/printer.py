"""Tree -> canonical SQL: ``to_sql`` for any statement, expression or type.

The output parses back to an equal object (``parse(to_sql(s))[0] == s``), which EXPLAIN, DESCRIBE
EXTENDED and the command topic rely on. Expressions print the way ksqlDB's ExpressionFormatter prints
them, since ksqlDB's error messages quote expressions in that form (``(F1 - F2)``, ``SUBSTRING(S, 0,
3)``, ``STRUCT(F0:=VAL1)``, ``(ID = null)``): every operator application in parentheses, keywords in
upper case, literals ``true``/``false``/``null``. Where that form would not read back as the same
tree, the printer departs from it: ``COUNT(*)`` keeps its star, a DOUBLE literal keeps an exponent
(``1.5E0``; ``1.5`` is a DECIMAL), a DECIMAL literal keeps its point (``100.``), and a minus applied
to a number is parenthesised (``-(5)``; ``-5`` is one literal).

Names are quoted with backticks when they would not read back as themselves: lower case or other
characters, or a reserved word. Property names that are not plain words print as strings.

Example:
    >>> from headwater.parser import parse_expression
    >>> to_sql(parse_expression("a + b * -c"))
    '(A + (B * -C))'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal as PyDecimal
from typing import Any

from headwater.parser import ast
from headwater.parser import expressions as ex
from headwater.parser import types as ty
from headwater.parser.lexer import RESERVED

__all__ = ["quote_name", "to_sql"]

_PLAIN_NAME = re.compile(r"[A-Z_][A-Z0-9_@]*\Z")
# Non-reserved words that start a constructor when followed by '(' or '[': quoted as names in
# expressions so that a function or column called MAP reads back as one.
_CONSTRUCTOR_WORDS = frozenset({"ARRAY", "MAP", "STRUCT"})


def quote_name(name: str) -> str:
    """``name`` as SQL: bare when it reads back as itself, otherwise in backticks.

    Example:
        >>> quote_name("ID"), quote_name("id"), quote_name("SIZE"), quote_name("a`b")
        ('ID', '`id`', '`SIZE`', '`a``b`')
    """
    if _PLAIN_NAME.match(name) and name not in RESERVED:
        return name
    return "`" + name.replace("`", "``") + "`"


def _expression_name(name: str) -> str:
    return "`" + name + "`" if name in _CONSTRUCTOR_WORDS else quote_name(name)


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------------
# Types


def type_sql(sql_type: ty.SqlType) -> str:
    """A SQL type as text (struct field names quoted like other names)."""
    if isinstance(sql_type, ty.Primitive):
        return sql_type.kind.value
    if isinstance(sql_type, ty.Decimal):
        return f"DECIMAL({sql_type.precision}, {sql_type.scale})"
    if isinstance(sql_type, ty.Array):
        return f"ARRAY<{type_sql(sql_type.element)}>"
    if isinstance(sql_type, ty.Map):
        return f"MAP<{type_sql(sql_type.key)}, {type_sql(sql_type.value)}>"
    if isinstance(sql_type, ty.Struct):
        fields = ", ".join(f"{quote_name(name)} {type_sql(field)}" for name, field in sql_type.fields)
        return f"STRUCT<{fields}>" if fields else "STRUCT< >"
    if isinstance(sql_type, ty.UserType):
        return quote_name(sql_type.name)
    raise TypeError(f"not a SQL type: {sql_type!r}")


# --------------------------------------------------------------------------------------------------
# Expressions


def _decimal(value: PyDecimal) -> str:
    text = format(value, "f")
    return text if "." in text else text + "."


def _double(value: float) -> str:
    text = repr(value).upper()
    if "E" not in text:
        text += "E0"
    return text


def _is_number(node: ex.Expression) -> bool:
    return isinstance(node, ex.IntegerLiteral | ex.DecimalLiteral | ex.DoubleLiteral)


def _is_negative_number(node: ex.Expression) -> bool:
    return _is_number(node) and node.value < 0  # type: ignore[attr-defined]


def _primary(node: ex.Expression) -> str:
    """``node`` where only a primary expression may stand (before ``->``, ``[`` or ``AT``)."""
    text = expression_sql(node)
    if isinstance(node, ex.ArithmeticUnary | ex.AtTimeZone | ex.Lambda) or _is_negative_number(node):
        return f"({text})"
    return text


def _operand_of_sign(node: ex.Expression) -> str:
    """The operand of a unary ``-``/``+``: numbers are parenthesised, or ``-5`` would be one literal."""
    text = expression_sql(node)
    if _is_number(node) or isinstance(node, ex.ArithmeticUnary | ex.Lambda):
        return f"({text})"
    return text


def _not(negated: bool) -> str:
    return "NOT " if negated else ""


def _case_tail(whens: tuple[ex.WhenClause, ...], default: ex.Expression | None) -> str:
    parts = [f"WHEN {expression_sql(w.condition)} THEN {expression_sql(w.result)}" for w in whens]
    if default is not None:
        parts.append(f"ELSE {expression_sql(default)}")
    return " ".join(parts) + " END"


def _lambda(node: ex.Lambda) -> str:
    params = ", ".join(quote_name(p) for p in node.params)
    head = params if len(node.params) == 1 else f"({params})"
    return f"{head} => {expression_sql(node.body)}"


def _function(node: ex.FunctionCall) -> str:
    args = "*" if node.star else ", ".join(expression_sql(a) for a in node.args)
    return f"{_expression_name(node.name)}({args})"


_EXPRESSIONS: dict[type, Callable[[Any], str]] = {
    ex.NullLiteral: lambda n: "null",
    ex.BooleanLiteral: lambda n: "true" if n.value else "false",
    ex.IntegerLiteral: lambda n: str(n.value),
    ex.DecimalLiteral: lambda n: _decimal(n.value),
    ex.DoubleLiteral: lambda n: _double(n.value),
    ex.StringLiteral: lambda n: _string(n.value),
    ex.TypedLiteral: lambda n: f"{quote_name(n.type_name)} {_string(n.value)}",
    ex.ColumnRef: lambda n: (
        f"{quote_name(n.source)}.{quote_name(n.name)}" if n.source is not None else _expression_name(n.name)
    ),
    ex.LambdaVariable: lambda n: quote_name(n.name),
    ex.Dereference: lambda n: f"{_primary(n.base)}->{quote_name(n.field)}",
    ex.Subscript: lambda n: f"{_primary(n.base)}[{expression_sql(n.index)}]",
    ex.ArithmeticUnary: lambda n: ("-" if n.negative else "+") + _operand_of_sign(n.operand),
    ex.ArithmeticBinary: lambda n: f"({expression_sql(n.left)} {n.op.value} {expression_sql(n.right)})",
    ex.Comparison: lambda n: f"({expression_sql(n.left)} {n.op.value} {expression_sql(n.right)})",
    ex.Between: lambda n: (
        f"({expression_sql(n.value)} {_not(n.negated)}BETWEEN {expression_sql(n.low)} AND {expression_sql(n.high)})"
    ),
    ex.InList: lambda n: (
        f"({expression_sql(n.value)} {_not(n.negated)}IN ({', '.join(expression_sql(i) for i in n.items)}))"
    ),
    ex.Like: lambda n: (
        f"({expression_sql(n.value)} {_not(n.negated)}LIKE {expression_sql(n.pattern)}"
        + (f" ESCAPE {_string(n.escape)}" if n.escape is not None else "")
        + ")"
    ),
    ex.IsNull: lambda n: f"({expression_sql(n.value)} IS {_not(n.negated)}NULL)",
    ex.Not: lambda n: f"(NOT {expression_sql(n.operand)})",
    ex.LogicalBinary: lambda n: f"({expression_sql(n.left)} {n.op.value} {expression_sql(n.right)})",
    ex.SearchedCase: lambda n: f"(CASE {_case_tail(n.whens, n.default)})",
    ex.SimpleCase: lambda n: f"(CASE {expression_sql(n.operand)} {_case_tail(n.whens, n.default)})",
    ex.Cast: lambda n: f"CAST({expression_sql(n.operand)} AS {type_sql(n.type)})",
    ex.ArrayConstructor: lambda n: f"ARRAY[{', '.join(expression_sql(i) for i in n.items)}]",
    ex.MapConstructor: lambda n: (
        "MAP(" + ", ".join(f"{expression_sql(k)}:={expression_sql(v)}" for k, v in n.entries) + ")"
    ),
    ex.StructConstructor: lambda n: (
        "STRUCT(" + ", ".join(f"{quote_name(name)}:={expression_sql(v)}" for name, v in n.fields) + ")"
    ),
    ex.IntervalUnit: lambda n: n.unit.name,
    ex.Lambda: _lambda,
    ex.FunctionCall: _function,
    ex.AtTimeZone: lambda n: f"{_primary(n.value)} AT TIME ZONE {_string(n.zone)}",
}


def expression_sql(node: ex.Expression) -> str:
    """An expression as SQL, in ksqlDB's ExpressionFormatter style."""
    printer = _EXPRESSIONS.get(type(node))
    if printer is None:
        raise TypeError(f"not an expression: {node!r}")
    return printer(node)


# --------------------------------------------------------------------------------------------------
# Queries


def _duration(duration: ex.Duration) -> str:
    return f"{duration.value} {duration.unit.name}"


def _window_tail(retention: ex.Duration | None, grace: ex.Duration | None) -> str:
    text = ""
    if retention is not None:
        text += f", RETENTION {_duration(retention)}"
    if grace is not None:
        text += f", GRACE PERIOD {_duration(grace)}"
    return text + ")"


def _window(window: ast.WindowExpression) -> str:
    if isinstance(window, ast.TumblingWindow):
        return f"TUMBLING (SIZE {_duration(window.size)}{_window_tail(window.retention, window.grace)}"
    if isinstance(window, ast.HoppingWindow):
        return (
            f"HOPPING (SIZE {_duration(window.size)}, ADVANCE BY {_duration(window.advance)}"
            f"{_window_tail(window.retention, window.grace)}"
        )
    if isinstance(window, ast.SessionWindow):
        return f"SESSION ({_duration(window.gap)}{_window_tail(window.retention, window.grace)}"
    raise TypeError(f"not a window: {window!r}")


def _select_item(item: ast.SelectItem) -> str:
    if isinstance(item, ast.SingleColumn):
        text = expression_sql(item.expression)
        return text if item.alias is None else f"{text} AS {quote_name(item.alias)}"
    if isinstance(item, ast.AllColumns):
        return "*" if item.source is None else f"{quote_name(item.source)}.*"
    if isinstance(item, ast.StructAll):
        return f"{_primary(item.base)}->*"
    raise TypeError(f"not a select item: {item!r}")


def _within(within: ast.WithinExpression) -> str:
    if within.after is None:
        text = f"WITHIN {_duration(within.before)}"
    else:
        text = f"WITHIN ({_duration(within.before)}, {_duration(within.after)})"
    if within.grace is not None:
        text += f" GRACE PERIOD {_duration(within.grace)}"
    return text


def _relation(relation: ast.Relation) -> str:
    if isinstance(relation, ast.AliasedRelation):
        if relation.alias is None:
            return quote_name(relation.name)
        return f"{quote_name(relation.name)} AS {quote_name(relation.alias)}"
    if isinstance(relation, ast.Join):
        text = f"{_relation(relation.left)} {relation.join_type.value} JOIN {_relation(relation.right)}"
        if relation.within is not None:
            text += " " + _within(relation.within)
        return f"{text} ON {expression_sql(relation.criteria)}"
    raise TypeError(f"not a relation: {relation!r}")


def _grouping(expressions: tuple[ex.Expression, ...]) -> str:
    if not expressions:
        return "()"
    return ", ".join(expression_sql(e) for e in expressions)


def query_sql(query: ast.Query) -> str:
    """A query (SELECT ...) as SQL."""
    parts = ["SELECT " + ", ".join(_select_item(i) for i in query.select), "FROM " + _relation(query.from_)]
    if query.window is not None:
        parts.append("WINDOW " + _window(query.window))
    if query.where is not None:
        parts.append("WHERE " + expression_sql(query.where))
    if query.group_by is not None:
        parts.append("GROUP BY " + _grouping(query.group_by))
    if query.partition_by is not None:
        parts.append("PARTITION BY " + _grouping(query.partition_by))
    if query.having is not None:
        parts.append("HAVING " + expression_sql(query.having))
    if query.emit is not None:
        parts.append("EMIT " + query.emit.value)
    if query.limit is not None:
        parts.append(f"LIMIT {query.limit}")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------------
# Statements


def _property_name(name: str) -> str:
    return name if _PLAIN_NAME.match(name) and name not in RESERVED else _string(name)


def _with(properties: tuple[ast.Property, ...]) -> str:
    if not properties:
        return ""
    return (
        " WITH (" + ", ".join(f"{_property_name(p.name)}={expression_sql(p.value)}" for p in properties) + ")"
    )


def _element(element: ast.TableElement) -> str:
    text = f"{quote_name(element.name)} {type_sql(element.type)}"
    if element.constraint is ast.ColumnConstraint.HEADER:
        return f"{text} HEADER({_string(element.header_key or '')})"
    if element.constraint is not ast.ColumnConstraint.NONE:
        return f"{text} {element.constraint.value}"
    return text


def _elements(elements: tuple[ast.TableElement, ...]) -> str:
    return " (" + ", ".join(_element(e) for e in elements) + ")" if elements else ""


def _flags(*pairs: tuple[bool, str]) -> str:
    return "".join(text + " " for flag, text in pairs if flag)


def _columns(columns: tuple[str, ...] | None) -> str:
    return " (" + ", ".join(quote_name(c) for c in columns) + ")" if columns else ""


def _values(values: tuple[ex.Expression, ...]) -> str:
    return "(" + ", ".join(expression_sql(v) for v in values) + ")"


def _create_source(node: ast.CreateStream | ast.CreateTable, kind: str) -> str:
    head = "CREATE " + _flags((node.or_replace, "OR REPLACE"), (node.is_source, "SOURCE")) + kind + " "
    head += _flags((node.if_not_exists, "IF NOT EXISTS")) + quote_name(node.name)
    return head + _elements(node.elements) + _with(node.properties)


def _create_as(node: ast.CreateStreamAsSelect | ast.CreateTableAsSelect, kind: str) -> str:
    head = "CREATE " + _flags((node.or_replace, "OR REPLACE")) + kind + " "
    head += _flags((node.if_not_exists, "IF NOT EXISTS")) + quote_name(node.name)
    return f"{head}{_with(node.properties)} AS {query_sql(node.query)}"


def _id_or_all(query_id: str | None) -> str:
    return "ALL" if query_id is None else quote_name(query_id)


def _timeout(timeout: ex.Duration | None) -> str:
    return "" if timeout is None else f" TIMEOUT {_duration(timeout)}"


def _describe(node: ast.DescribeSource) -> str:
    # An unquoted TABLES would read back as DESCRIBE TABLES.
    name = "`TABLES`" if node.name == "TABLES" else quote_name(node.name)
    return f"DESCRIBE {name}" + (" EXTENDED" if node.extended else "")


def _print_topic(node: ast.PrintTopic) -> str:
    text = f"PRINT {_string(node.topic)}"
    if node.from_beginning:
        text += " FROM BEGINNING"
    if node.interval is not None:
        text += f" INTERVAL {node.interval}"
    if node.limit is not None:
        text += f" LIMIT {node.limit}"
    return text


def _assert_schema(node: ast.AssertSchema) -> str:
    text = "ASSERT " + _flags((not node.exists, "NOT EXISTS")) + "SCHEMA"
    if node.subject is not None:
        text += f" SUBJECT {_string(node.subject)}"
    if node.schema_id is not None:
        text += f" ID {node.schema_id}"
    return text + _timeout(node.timeout)


_EXTENDED = {True: " EXTENDED", False: ""}

_STATEMENTS: dict[type, Callable[[Any], str]] = {
    ast.SelectStatement: lambda n: query_sql(n.query),
    ast.CreateStream: lambda n: _create_source(n, "STREAM"),
    ast.CreateTable: lambda n: _create_source(n, "TABLE"),
    ast.CreateStreamAsSelect: lambda n: _create_as(n, "STREAM"),
    ast.CreateTableAsSelect: lambda n: _create_as(n, "TABLE"),
    ast.InsertInto: lambda n: f"INSERT INTO {quote_name(n.target)}{_with(n.properties)} {query_sql(n.query)}",
    ast.InsertValues: lambda n: (
        f"INSERT INTO {quote_name(n.target)}{_columns(n.columns)} VALUES {_values(n.values)}"
    ),
    ast.DropStream: lambda n: (
        "DROP STREAM "
        + _flags((n.if_exists, "IF EXISTS"))
        + quote_name(n.name)
        + (" DELETE TOPIC" if n.delete_topic else "")
    ),
    ast.DropTable: lambda n: (
        "DROP TABLE "
        + _flags((n.if_exists, "IF EXISTS"))
        + quote_name(n.name)
        + (" DELETE TOPIC" if n.delete_topic else "")
    ),
    ast.CreateType: lambda n: (
        "CREATE TYPE "
        + _flags((n.if_not_exists, "IF NOT EXISTS"))
        + f"{quote_name(n.name)} AS {type_sql(n.type)}"
    ),
    ast.DropType: lambda n: "DROP TYPE " + _flags((n.if_exists, "IF EXISTS")) + quote_name(n.name),
    ast.AlterSource: lambda n: (
        f"ALTER {n.kind.value} {quote_name(n.name)} "
        + ", ".join(f"ADD COLUMN {quote_name(c.name)} {type_sql(c.type)}" for c in n.add_columns)
    ),
    ast.CreateConnector: lambda n: (
        f"CREATE {n.kind.value} CONNECTOR "
        + _flags((n.if_not_exists, "IF NOT EXISTS"))
        + quote_name(n.name)
        + _with(n.properties)
    ),
    ast.DropConnector: lambda n: "DROP CONNECTOR " + _flags((n.if_exists, "IF EXISTS")) + quote_name(n.name),
    ast.ListStreams: lambda n: "SHOW STREAMS" + _EXTENDED[n.extended],
    ast.ListTables: lambda n: "SHOW TABLES" + _EXTENDED[n.extended],
    ast.ListTopics: lambda n: "SHOW " + ("ALL " if n.all else "") + "TOPICS" + _EXTENDED[n.extended],
    ast.ListQueries: lambda n: "SHOW QUERIES" + _EXTENDED[n.extended],
    ast.ListProperties: lambda n: "SHOW PROPERTIES",
    ast.ListFunctions: lambda n: "SHOW FUNCTIONS",
    ast.ListTypes: lambda n: "SHOW TYPES",
    ast.ListVariables: lambda n: "SHOW VARIABLES",
    ast.ListConnectors: lambda n: "SHOW " + (f"{n.kind.value} " if n.kind is not None else "") + "CONNECTORS",
    ast.ListConnectorPlugins: lambda n: "SHOW CONNECTOR PLUGINS",
    ast.DescribeSource: _describe,
    ast.DescribeStreams: lambda n: "DESCRIBE STREAMS" + _EXTENDED[n.extended],
    ast.DescribeTables: lambda n: "DESCRIBE TABLES" + _EXTENDED[n.extended],
    ast.DescribeFunction: lambda n: f"DESCRIBE FUNCTION {quote_name(n.name)}",
    ast.DescribeConnector: lambda n: f"DESCRIBE CONNECTOR {quote_name(n.name)}",
    ast.PrintTopic: _print_topic,
    ast.TerminateQuery: lambda n: f"TERMINATE {_id_or_all(n.query_id)}",
    ast.PauseQuery: lambda n: f"PAUSE {_id_or_all(n.query_id)}",
    ast.ResumeQuery: lambda n: f"RESUME {_id_or_all(n.query_id)}",
    ast.SetProperty: lambda n: f"SET {_string(n.name)}={_string(n.value)}",
    ast.UnsetProperty: lambda n: f"UNSET {_string(n.name)}",
    ast.AlterSystemProperty: lambda n: f"ALTER SYSTEM {_string(n.name)}={_string(n.value)}",
    ast.DefineVariable: lambda n: f"DEFINE {n.name}={_string(n.value)}",
    ast.UndefineVariable: lambda n: f"UNDEFINE {n.name}",
    ast.Explain: lambda n: (
        "EXPLAIN " + (statement_sql(n.statement) if n.statement is not None else quote_name(n.query_id or ""))
    ),
    ast.AssertTopic: lambda n: (
        "ASSERT "
        + _flags((not n.exists, "NOT EXISTS"))
        + f"TOPIC {_string(n.topic)}"
        + _with(n.properties)
        + _timeout(n.timeout)
    ),
    ast.AssertSchema: _assert_schema,
    ast.RunScript: lambda n: f"RUN SCRIPT {_string(n.path)}",
    ast.AssertValues: lambda n: (
        f"ASSERT VALUES {quote_name(n.target)}{_columns(n.columns)} VALUES {_values(n.values)}"
    ),
    ast.AssertTombstone: lambda n: (
        f"ASSERT NULL VALUES {quote_name(n.target)}{_columns(n.columns)} KEY {_values(n.key_values)}"
    ),
    ast.AssertSource: lambda n: (
        f"ASSERT {n.kind.value} {quote_name(n.name)}{_elements(n.elements)}{_with(n.properties)}"
    ),
}


def statement_sql(node: ast.Statement) -> str:
    """A statement as SQL (without the closing ``;``)."""
    printer = _STATEMENTS.get(type(node))
    if printer is None:
        raise TypeError(f"not a statement: {node!r}")
    return printer(node)


def to_sql(node: ast.Node | ty.SqlType) -> str:
    """Canonical SQL for a statement, query, expression, select item, relation, window or type.

    ``parse(to_sql(s))[0] == s`` holds for every statement ``s`` the parser makes, and printing is
    stable (``to_sql`` of the re-parsed statement is the same text). A statement prints without its
    ``;``.

    Raises:
        TypeError: for an object that is none of those.
    """
    if isinstance(node, ty.SqlType):
        return type_sql(node)
    if isinstance(node, ast.Statement):
        return statement_sql(node)
    if isinstance(node, ast.Query):
        return query_sql(node)
    if isinstance(node, ex.Expression):
        return expression_sql(node)
    if isinstance(node, ast.SelectItem):
        return _select_item(node)
    if isinstance(node, ast.Relation):
        return _relation(node)
    if isinstance(node, ast.WindowExpression):
        return _window(node)
    if isinstance(node, ast.WithinExpression):
        return _within(node)
    if isinstance(node, ex.Duration):
        return _duration(node)
    if isinstance(node, ast.TableElement):
        return _element(node)
    raise TypeError(f"cannot print {type(node).__name__} as SQL")
