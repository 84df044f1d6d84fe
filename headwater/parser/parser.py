"""Text -> statement objects: the public entry points.

A script is scanned once (:mod:`headwater.parser.lexer`), cut at its semicolons, and each statement is
parsed by the LALR(1) driver (:mod:`headwater.parser.lalr`) with the tree builder running on every
reduction, so no intermediate parse tree is made. Statements are parsed one after the other, so a
``DEFINE`` takes effect for the statements after it, as in ksqlDB. Every failure is a
:class:`~headwater.errors.ParseError`: syntax errors in ksqlDB's words (:mod:`headwater.parser.syntax_errors`),
and the checks ksqlDB makes while building its tree, with its messages.

Example:
    >>> [type(s).__name__ for s in parse("SHOW STREAMS; SELECT * FROM s EMIT CHANGES;")]
    ['ListStreams', 'SelectStatement']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from headwater.errors import ParseError
from headwater.parser import ast
from headwater.parser.checks import check_qualifiers
from headwater.parser.expressions import Expression, Span
from headwater.parser.lalr import UnexpectedTokenError, parser_tables, run
from headwater.parser.lexer import Token, iter_statement_tokens, tokenize
from headwater.parser.positions import AstCheckError
from headwater.parser.syntax_errors import syntax_error
from headwater.parser.types import SqlType
from headwater.parser.variables import normalise_variables, references_variables, substitute_variables

__all__ = ["parse", "parse_expression", "parse_statement", "parse_type"]


def _run(tokens: list[Token], end: Token | None, start: str, source: str) -> Any:
    """Parse one statement's tokens from the ``start`` rule, turning every failure into a ParseError."""
    tables = parser_tables()
    try:
        return run(tables, tokens, start)
    except UnexpectedTokenError as error:
        raise syntax_error(error, tables, tokens, end, source) from None
    except AstCheckError as error:
        raise ParseError(
            error.message, line=error.line, column=error.column, token=error.token, source=source
        ) from None


_QUERY_TAILED = (ast.SelectStatement, ast.CreateStreamAsSelect, ast.CreateTableAsSelect, ast.InsertInto)


def _to_end(span: Span | None, end: int) -> Span | None:
    """``span`` stretched to end at ``end`` (None stays None)."""
    if span is None:
        return None
    return Span(span.start, end, span.line, span.column)


def _with_text(statement: ast.Statement, source: str, span: Span) -> ast.Statement:
    """``statement`` with its span and source text set.

    The builder spans a node from its first to its last positioned child, and a trailing
    parenthesised expression's node does not include its ``)``. The parts that the grammar puts
    last in a statement (an EXPLAINed statement, the query of a SELECT, CREATE ... AS SELECT or
    INSERT INTO) therefore take their end from the statement's own span, which runs to the
    statement's last token; an EXPLAINed statement so gets its complete source text.
    """
    if isinstance(statement, ast.Explain) and statement.statement is not None:
        inner = statement.statement
        inner_span = getattr(inner, "span", None)
        if isinstance(inner_span, Span):
            nested = _with_text(
                inner, source, Span(inner_span.start, span.end, inner_span.line, inner_span.column)
            )
            statement = dataclasses.replace(statement, statement=nested)
    elif isinstance(statement, _QUERY_TAILED):
        query = dataclasses.replace(statement.query, span=_to_end(statement.query.span, span.end))
        statement = dataclasses.replace(statement, query=query)
    return dataclasses.replace(statement, span=span, text=source[span.start : span.end])  # type: ignore[type-var]


def parse(
    text: str,
    *,
    variables: Mapping[str, str] | None = None,
    allow_test_statements: bool = False,
) -> list[ast.Statement]:
    """Parse a script of ksqlDB statements.

    Statements end with ``;``; the last may omit it, as the ksqlDB CLI and REST API allow. Each
    statement gets its ``span`` and its own ``text`` (without the ``;``).

    Args:
        text: the script.
        variables: values for ``${name}`` references (names are case-insensitive). ``DEFINE`` and
            ``UNDEFINE`` statements in the script change them for the statements that follow.
            Substitution is textual and happens before a statement is parsed; a reference to an
            unknown variable is left as written (and is then an error where it stands, as in ksqlDB).
        allow_test_statements: also accept ksqlDB's test statements (``ASSERT VALUES``, ``ASSERT NULL
            VALUES``, ``ASSERT STREAM|TABLE``, ``RUN SCRIPT``).

    Raises:
        ParseError: with the line, column and offending token, ksqlDB's message where its tests
            check one, and the source line with a caret.

    Example:
        >>> statement, = parse("DROP STREAM IF EXISTS s DELETE TOPIC")
        >>> statement.name, statement.if_exists, statement.delete_topic, statement.text
        ('S', True, True, 'DROP STREAM IF EXISTS s DELETE TOPIC')
    """
    start = "test_statement_entry" if allow_test_statements else "statement_entry"
    current = normalise_variables(variables)
    statements: list[ast.Statement] = []
    for chunk, semicolon in iter_statement_tokens(tokenize(text)):
        source = text
        if not chunk:
            assert semicolon is not None
            raise syntax_error(None, parser_tables(), [], semicolon, text)
        if references_variables(chunk):
            chunk, source = _substituted(text, chunk, semicolon, current)
        first, last = chunk[0], chunk[-1]
        span = Span(first.start_pos, last.end_pos, first.line, first.column)
        statement = _with_text(_run(chunk, semicolon, start, source), source, span)
        try:
            # Only `x.col` and `x.*` carry a qualifier, and both need a '.' token.
            if any(token.type == "DOT" for token in chunk):
                check_qualifiers(statement)
        except AstCheckError as error:
            raise ParseError(
                error.message, line=error.line, column=error.column, token=error.token, source=source
            ) from None
        if isinstance(statement, ast.DefineVariable):
            current[statement.name.upper()] = statement.value
        elif isinstance(statement, ast.UndefineVariable):
            current.pop(statement.name.upper(), None)
        statements.append(statement)
    return statements


def _substituted(
    text: str, chunk: list[Token], semicolon: Token | None, variables: Mapping[str, str]
) -> tuple[list[Token], str]:
    """A statement's tokens after ``${name}`` substitution, and the script as the parser then sees it."""
    start, end = chunk[0].start_pos, chunk[-1].end_pos
    replaced = substitute_variables(text[start:end], variables)
    source = text[:start] + replaced + text[end:]
    tokens = tokenize(replaced, offset=start, line=chunk[0].line, column=chunk[0].column)
    if semicolon is not None:
        shift = len(replaced) - (end - start)
        semicolon.start_pos += shift
        semicolon.end_pos += shift
    return tokens, source


def parse_statement(
    text: str,
    *,
    variables: Mapping[str, str] | None = None,
    allow_test_statements: bool = False,
) -> ast.Statement:
    """Parse exactly one statement (its ``;`` is optional).

    Raises:
        ParseError: if the text holds no statement or more than one, or does not parse.

    Example:
        >>> parse_statement("SHOW TOPICS EXTENDED;")
        ListTopics(all=False, extended=True)
    """
    statements = parse(text, variables=variables, allow_test_statements=allow_test_statements)
    if len(statements) != 1:
        where = getattr(statements[1], "span", None) if len(statements) > 1 else None
        raise ParseError(
            f"Expected exactly one statement, found {len(statements)}",
            line=where.line if where else 1,
            column=where.column if where else 1,
            source=text,
        )
    return statements[0]


def parse_expression(text: str) -> Expression:
    """Parse one expression, e.g. ``a->b[1] + 1`` (no statement around it, no ``;``).

    Example:
        >>> parse_expression("x IS NOT NULL")
        IsNull(value=ColumnRef(name='X', source=None), negated=True)
    """
    tokens = tokenize(text)
    semicolon = next((t for t in tokens if t.type == "SEMICOLON"), None)
    if semicolon is not None:
        tokens = tokens[: tokens.index(semicolon) + 1]
    return _run(tokens, None, "expression_entry", text)


def parse_type(text: str) -> SqlType:
    """Parse a SQL type, e.g. ``ARRAY<STRUCT<a INT>>``.

    Example:
        >>> str(parse_type("map<varchar, decimal(4, 2)>"))
        'MAP<STRING, DECIMAL(4, 2)>'
    """
    return _run(tokenize(text), None, "type_entry", text)
