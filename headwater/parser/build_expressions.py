"""Grammar callbacks that build expressions, literals, names and types.

Each method is named after a rule (or rule alias) of ``grammar.lark`` and receives that rule's
children: tokens, nodes built by earlier callbacks, and the helper values of
:mod:`headwater.parser.positions`. The checks ksqlDB's AstBuilder makes while it builds these nodes
(numeric literals out of range, lambda parameters, escape characters, DECIMAL bounds) are made here,
with ksqlDB's message text.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal as PyDecimal
from decimal import InvalidOperation

from headwater.parser import expressions as ex
from headwater.parser import types as ty
from headwater.parser.expressions import TIME_UNIT_NAMES, Expression, Span, TimeUnit
from headwater.parser.lexer import Token
from headwater.parser.positions import AstCheckError, Ident, TypeAt, span_between, span_of, token_span

__all__ = ["ExpressionCallbacks", "unquote_string"]

_LONG_MIN = -(2**63)
_LONG_MAX = 2**63 - 1
_INT_MIN = -(2**31)
_INT_MAX = 2**31 - 1

# ksqlDB's primitive type names (SqlPrimitiveType), with their aliases.
_PRIMITIVES = {
    "BOOLEAN": ty.BOOLEAN,
    "INT": ty.INT,
    "INTEGER": ty.INT,
    "BIGINT": ty.BIGINT,
    "DOUBLE": ty.DOUBLE,
    "STRING": ty.STRING,
    "VARCHAR": ty.STRING,
    "BYTES": ty.BYTES,
    "DATE": ty.DATE,
    "TIME": ty.TIME,
    "TIMESTAMP": ty.TIMESTAMP,
}

_ARITHMETIC = {
    "PLUS": ex.ArithmeticOp.ADD,
    "MINUS": ex.ArithmeticOp.SUBTRACT,
    "ASTERISK": ex.ArithmeticOp.MULTIPLY,
    "SLASH": ex.ArithmeticOp.DIVIDE,
    "PERCENT": ex.ArithmeticOp.MODULUS,
}

_COMPARISON = {
    "EQ": ex.ComparisonOp.EQUAL,
    "NEQ": ex.ComparisonOp.NOT_EQUAL,
    "LT": ex.ComparisonOp.LESS_THAN,
    "LTE": ex.ComparisonOp.LESS_THAN_OR_EQUAL,
    "GT": ex.ComparisonOp.GREATER_THAN,
    "GTE": ex.ComparisonOp.GREATER_THAN_OR_EQUAL,
}


def unquote_string(token: Token) -> str:
    """The value of a string literal token: quotes removed, ``''`` turned into ``'``."""
    return str(token)[1:-1].replace("''", "'")


def ksql_parsing_position(span: Span | None) -> str:
    """``line L:C`` as ksqlDB's ParsingException prints it for errors found while building the tree.

    ksqlDB adds one to the column twice on that path (NodeLocation and ParsingException both convert
    a 0-based position to 1-based), so its column is one more than the true 1-based column. Messages
    its tests check keep that quirk.
    """
    if span is None:
        return "line 1:1"
    return f"line {span.line}:{span.column + 1}"


def _illegal_variable(token: Token) -> AstCheckError:
    """An unresolved ``${name}``: ksqlDB's substitution rejects it where it stands."""
    return AstCheckError(
        f"Illegal argument at Line: {token.line}, Col: {token.column}. Identifier names cannot start "
        "with '@' and may only contain alphanumeric values and '_'.",
        token.line or 1,
        token.column or 1,
        str(token),
    )


def node_span(node: object) -> Span | None:
    """The span of a tree node (every node has one; the base classes do not declare it)."""
    span = getattr(node, "span", None)
    return span if isinstance(span, Span) else None


def integer_value(node: Expression, command: str) -> int:
    """The value of a ``number`` that must be an integer (LIMIT, INTERVAL, DECIMAL precision...)."""
    if not isinstance(node, ex.IntegerLiteral):
        raise AstCheckError.at(
            f"Failed to prepare statement: Value must be integer for command: {command}", node_span(node)
        )
    if not _INT_MIN <= node.value <= _INT_MAX:
        raise AstCheckError.at(
            f"Failed to prepare statement: Value is out of range for command: {command}: {node.value}",
            node.span,
        )
    return node.value


def duration(number: Expression, unit: TimeUnit, number_text: str) -> ex.Duration:
    """``number unit`` as a Duration; ksqlDB parses the number with Long.parseLong."""
    if not isinstance(number, ex.IntegerLiteral):
        raise AstCheckError.at(
            f'Failed to prepare statement: For input string: "{number_text}"', node_span(number)
        )
    return ex.Duration(number.value, unit, span=number.span)


class ExpressionCallbacks:
    """Callbacks for the expression, literal, name and type rules of ``grammar.lark``."""

    # ------------------------------------------------------------------------------------------------
    # Names

    def identifier(self, children: list) -> Ident:
        token = children[0]
        if token.type == "VARIABLE":
            raise _illegal_variable(token)
        return Ident(token)

    # ------------------------------------------------------------------------------------------------
    # Literals

    def literal(self, children: list) -> Expression:
        return _literal(children[0], "", token_span(children[0]))

    def negative_number(self, children: list) -> Expression:
        minus, token = children
        return _literal(token, "-", span_between(minus, token))

    def number(self, children: list) -> Expression:
        if len(children) == 2:
            return self.negative_number(children)
        return _literal(children[0], "", token_span(children[0]))

    def typed_literal(self, children: list) -> Expression:
        name, string = children
        # ksqlDB's AstBuilder knows one type constructor, DECIMAL '1.5'; any other is an error.
        if name.name == "DECIMAL":
            try:
                return ex.DecimalLiteral(PyDecimal(unquote_string(string)), span=span_of(children))
            except InvalidOperation as error:
                raise AstCheckError.at(
                    f"Failed to prepare statement: Invalid numeric literal: {unquote_string(string)}",
                    name.span,
                ) from error
        raise AstCheckError.at(
            f"Failed to prepare statement: Unknown type: {name.name}, "
            f"location:Optional[Line: {name.span.line}, Col: {name.span.column}]",
            name.span,
            name.text,
        )

    # ------------------------------------------------------------------------------------------------
    # Operators

    def logical_binary(self, children: list) -> Expression:
        left, op, right = children
        logical = ex.LogicalOp.AND if op.type == "AND" else ex.LogicalOp.OR
        return ex.LogicalBinary(logical, left, right, span=span_of(children))

    def logical_not(self, children: list) -> Expression:
        return ex.Not(children[1], span=span_of(children))

    def comparison_operator(self, children: list) -> Token:
        return children[0]

    def comparison(self, children: list) -> Expression:
        left, op, right = children
        return ex.Comparison(_COMPARISON[op.type], left, right, span=span_of(children))

    def distinct_from(self, children: list) -> Expression:
        negated = any(isinstance(c, Token) and c.type == "NOT" for c in children)
        op = ex.ComparisonOp.IS_NOT_DISTINCT_FROM if negated else ex.ComparisonOp.IS_DISTINCT_FROM
        return ex.Comparison(op, children[0], children[-1], span=span_of(children))

    def between(self, children: list) -> Expression:
        negated = isinstance(children[1], Token) and children[1].type == "NOT"
        value, low, high = children[0], children[-3], children[-1]
        return ex.Between(value, low, high, negated=negated, span=span_of(children))

    def in_list(self, children: list) -> Expression:
        negated = isinstance(children[1], Token) and children[1].type == "NOT"
        items = tuple(c for c in children[1:] if not isinstance(c, Token))
        return ex.InList(children[0], items, negated=negated, span=span_of(children))

    def like(self, children: list) -> Expression:
        negated = isinstance(children[1], Token) and children[1].type == "NOT"
        escape: str | None = None
        pattern_index = 3 if negated else 2
        if len(children) > pattern_index + 1:
            escape_token = children[-1]
            escape = unquote_string(escape_token)
            if len(escape) != 1:
                raise AstCheckError.at(
                    "Failed to prepare statement: Optional[Line: "
                    f"{escape_token.line}, Col: {escape_token.column}]: "
                    f"Expected single character escape but got: {escape}",
                    token_span(escape_token),
                    str(escape_token),
                )
        return ex.Like(
            children[0], children[pattern_index], escape=escape, negated=negated, span=span_of(children)
        )

    def is_null(self, children: list) -> Expression:
        negated = len(children) == 4
        return ex.IsNull(children[0], negated=negated, span=span_of(children))

    def concatenation(self, children: list) -> Expression:
        left, _, right = children
        return ex.FunctionCall("CONCAT", (left, right), span=span_of(children))

    def arithmetic_binary(self, children: list) -> Expression:
        left, op, right = children
        return ex.ArithmeticBinary(_ARITHMETIC[op.type], left, right, span=span_of(children))

    def arithmetic_unary(self, children: list) -> Expression:
        sign, operand = children
        return ex.ArithmeticUnary(sign.type == "MINUS", operand, span=span_of(children))

    def at_time_zone(self, children: list) -> Expression:
        return ex.AtTimeZone(children[0], unquote_string(children[-1]), span=span_of(children))

    # ------------------------------------------------------------------------------------------------
    # Primaries

    def parenthesized(self, children: list) -> Expression:
        return children[1]

    def column_reference(self, children: list) -> Expression:
        name: Ident = children[0]
        return ex.ColumnRef(name.name, span=name.span)

    def qualified_column_reference(self, children: list) -> Expression:
        source, _, name = children
        return ex.ColumnRef(name.name, source.name, span=span_of(children))

    def dereference(self, children: list) -> Expression:
        base, _, field = children
        return ex.Dereference(base, field.name, span=span_of(children))

    def subscript(self, children: list) -> Expression:
        return ex.Subscript(children[0], children[2], span=span_of(children))

    def cast(self, children: list) -> Expression:
        type_at: TypeAt = children[4]
        return ex.Cast(children[2], type_at.type, span=span_of(children))

    def when_clause(self, children: list) -> ex.WhenClause:
        return ex.WhenClause(children[1], children[3], span=span_of(children))

    def searched_case(self, children: list) -> Expression:
        whens = tuple(c for c in children if isinstance(c, ex.WhenClause))
        default = _else_of(children)
        return ex.SearchedCase(whens, default, span=span_of(children))

    def simple_case(self, children: list) -> Expression:
        whens = tuple(c for c in children if isinstance(c, ex.WhenClause))
        default = _else_of(children)
        return ex.SimpleCase(children[1], whens, default, span=span_of(children))

    def array_constructor(self, children: list) -> Expression:
        items = tuple(c for c in children if not isinstance(c, Token))
        return ex.ArrayConstructor(items, span=span_of(children))

    def map_entry(self, children: list) -> tuple[Expression, Expression]:
        return (children[0], children[2])

    def map_constructor(self, children: list) -> Expression:
        entries = tuple(c for c in children if isinstance(c, tuple))
        return ex.MapConstructor(entries, span=span_of(children))

    def struct_entry(self, children: list) -> tuple[str, Expression]:
        return (children[0].name, children[2])

    def struct_constructor(self, children: list) -> Expression:
        fields = tuple(c for c in children if isinstance(c, tuple))
        return ex.StructConstructor(fields, span=span_of(children))

    def function_star(self, children: list) -> Expression:
        return ex.FunctionCall(children[0].name, (), star=True, span=span_of(children))

    def function_call(self, children: list) -> Expression:
        args: tuple[Expression, ...] = children[2] if len(children) == 4 else ()
        return ex.FunctionCall(children[0].name, args, span=span_of(children))

    def function_arguments(self, children: list) -> tuple[Expression, ...]:
        return tuple(c for c in children if not isinstance(c, Token))

    def interval_unit(self, children: list) -> Expression:
        token = children[0]
        return ex.IntervalUnit(TIME_UNIT_NAMES[token.type], span=token_span(token))

    def lambda_function(self, children: list) -> Expression:
        body: Expression = children[-1]
        if isinstance(children[0], Ident):  # x => body
            names: tuple[str, ...] = (children[0].name,)
        elif len(children) == 5:  # (expression) => body: the parentheses must hold one bare name
            inner = children[1]
            if not isinstance(inner, ex.ColumnRef) or inner.source is not None:
                raise AstCheckError.at(
                    "Syntax Error\nmismatched input '=>' expecting {')', ','}", token_span(children[3]), "=>"
                )
            names = (inner.name,)
        else:
            names = tuple(c.name for c in children[1:-1] if isinstance(c, Ident))
        if len(set(names)) != len(names):
            raise AstCheckError.at(
                "Failed to prepare statement: Duplicate lambda arguments are not allowed.", span_of(children)
            )
        for inner_lambda in _lambdas_in(body):
            if set(inner_lambda.params) & set(names):
                raise AstCheckError.at(
                    "Failed to prepare statement: Duplicate lambda arguments are not allowed.",
                    inner_lambda.span,
                )
        return ex.Lambda(names, _bind_lambda_variables(body, frozenset(names)), span=span_of(children))

    # ------------------------------------------------------------------------------------------------
    # Time

    def window_unit(self, children: list) -> TimeUnit:
        return TIME_UNIT_NAMES[children[0].type]

    # ------------------------------------------------------------------------------------------------
    # Types

    def type_entry(self, children: list) -> ty.SqlType:
        return children[0].type

    def type_postfix_array(self, children: list) -> TypeAt:
        return TypeAt(ty.Array(children[0].type), span_of(children))

    def type_array(self, children: list) -> TypeAt:
        return TypeAt(ty.Array(children[2].type), span_of(children))

    def type_map(self, children: list) -> TypeAt:
        return TypeAt(ty.Map(children[2].type, children[4].type), span_of(children))

    def struct_type_field(self, children: list) -> tuple[Ident, TypeAt]:
        return (children[0], children[1])

    def type_struct(self, children: list) -> TypeAt:
        fields = [c for c in children if isinstance(c, tuple)]
        try:
            struct = ty.Struct(tuple((name.name, type_at.type) for name, type_at in fields))
        except ValueError as error:
            raise AstCheckError.at(f"Failed to prepare statement: {error}", span_of(children)) from error
        return TypeAt(struct, span_of(children))

    def type_decimal(self, children: list) -> TypeAt:
        precision = integer_value(children[2], "DECIMAL(PRECISION)")
        scale = integer_value(children[4], "DECIMAL(SCALE)")
        try:
            decimal = ty.Decimal(precision, scale)
        except ValueError as error:
            raise AstCheckError.at(f"Failed to prepare statement: {error}", span_of(children)) from error
        return TypeAt(decimal, span_of(children))

    def type_base(self, children: list) -> TypeAt:
        name: Ident = children[0]
        primitive = _PRIMITIVES.get(name.name.upper())
        sql_type: ty.SqlType = primitive if primitive is not None else ty.UserType(name.name)
        return TypeAt(sql_type, span_of(children))

    def type_parameter(self, children: list) -> Token:
        return children[0]


def _literal(token: Token, sign: str, span: Span | None) -> Expression:
    """The literal node for a literal token, ``sign`` being '-' for a negative number."""
    kind = token.type
    text = sign + str(token)
    if kind == "INTEGER_VALUE":
        value = int(text)
        if not _LONG_MIN <= value <= _LONG_MAX:
            raise AstCheckError.at(
                f"Failed to prepare statement: {ksql_parsing_position(span)}: Invalid numeric literal: {text}",
                span,
                text,
            )
        return ex.IntegerLiteral(value, span=span)
    if kind == "DECIMAL_VALUE":
        return ex.DecimalLiteral(PyDecimal(text), span=span)
    if kind == "FLOATING_POINT_VALUE":
        value_f = float(text)
        if math.isinf(value_f):
            raise AstCheckError.at(
                f"Failed to prepare statement: {ksql_parsing_position(span)}: Number overflows DOUBLE: {text}",
                span,
                text,
            )
        return ex.DoubleLiteral(value_f, span=span)
    if kind == "STRING":
        return ex.StringLiteral(unquote_string(token), span=span)
    if kind == "NULL":
        return ex.NullLiteral(span=span)
    if kind in ("TRUE", "FALSE"):
        return ex.BooleanLiteral(kind == "TRUE", span=span)
    if kind == "VARIABLE":
        raise AstCheckError(
            f"Illegal argument at Line: {token.line}, Col: {token.column}.",
            token.line or 1,
            token.column or 1,
            str(token),
        )
    raise AssertionError(f"not a literal token: {kind}")


def _else_of(children: list) -> Expression | None:
    for index, child in enumerate(children):
        if isinstance(child, Token) and child.type == "ELSE":
            return children[index + 1]
    return None


def _lambdas_in(node: ex.Node) -> list[ex.Lambda]:
    return [n for n in ex.walk(node) if isinstance(n, ex.Lambda)]


def _bind_lambda_variables(node: Expression, names: frozenset[str]) -> Expression:
    """``node`` with every unqualified reference to one of ``names`` turned into a LambdaVariable.

    The builder runs bottom-up, so a lambda's body is built before its parameters are known; this
    rewrite is what ksqlDB does on the way down. Nested lambdas are rewritten too: an outer parameter
    is visible inside them (they cannot shadow it, see lambda_function).
    """
    if isinstance(node, ex.ColumnRef):
        if node.source is None and node.name in names:
            return ex.LambdaVariable(node.name, span=node.span)
        return node
    changes: dict[str, object] = {}
    for field in dataclasses.fields(node):  # type: ignore[arg-type]
        if field.name == "span":
            continue
        value = getattr(node, field.name)
        rewritten = _rewrite_value(value, names)
        if rewritten is not value:
            changes[field.name] = rewritten
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]


def _rewrite_value(value: object, names: frozenset[str]) -> object:
    if isinstance(value, Expression):
        return _bind_lambda_variables(value, names)
    if isinstance(value, ex.WhenClause):
        condition = _bind_lambda_variables(value.condition, names)
        result = _bind_lambda_variables(value.result, names)
        if condition is value.condition and result is value.result:
            return value
        return ex.WhenClause(condition, result, span=value.span)
    if isinstance(value, tuple):
        items = [_rewrite_value(item, names) for item in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return tuple(items)
    return value
