"""Text -> statement objects: the LALR parser, its context-sensitive lexer, and the public entry points.

One lark LALR(1) parser is built per process, lazily, from ``grammar.lark``, with the tree builder
embedded (its callbacks run on each reduction, so no intermediate parse tree is made). Its parse table
is cached on disk by lark, so loading it is cheap after the first run.

ksqlDB lets its non-reserved keywords (``KEY``, ``EMIT``, ``PARTITION``, ``TYPE``...) be used as names,
and its ANTLR parser decides which one a word is with unlimited lookahead. Here the lexer decides, word
by word, by asking the LALR table which reading can continue the statement: the keyword, a name, or,
when both can, which of them still fits the token after it (``FROM s EMIT CHANGES`` vs ``FROM s emit;``).
Reserved keywords are always keywords, as in ksqlDB.

A script is parsed statement by statement (statements end at ``;``; the last one may omit it), so
``DEFINE`` takes effect for the statements after it, as it does in ksqlDB.

Example:
    >>> [type(s).__name__ for s in parse("SHOW STREAMS; SELECT * FROM s EMIT CHANGES;")]
    ['ListStreams', 'SelectStatement']
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
from lark.lexer import Lexer

from headwater.errors import ParseError
from headwater.parser import ast
from headwater.parser.build_expressions import ExpressionCallbacks
from headwater.parser.build_statements import StatementCallbacks
from headwater.parser.checks import check_qualifiers
from headwater.parser.expressions import Expression, Span
from headwater.parser.lexer import RESERVED, iter_statement_tokens, keyword_type, tokenize
from headwater.parser.positions import AstCheckError
from headwater.parser.syntax_errors import advance, syntax_error
from headwater.parser.types import SqlType
from headwater.parser.variables import normalise_variables, references_variables, substitute_variables

__all__ = ["parse", "parse_expression", "parse_statement", "parse_type"]

_GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")


class _Builder(StatementCallbacks, ExpressionCallbacks):
    """The grammar callbacks, statements and expressions together. (Every rule has one; the tests
    check that no lark Tree is left in a parsed statement.)"""


class _TokenFeed:
    """What the parser reads: the tokens of one statement and what follows them."""

    __slots__ = ("end", "tokens")

    def __init__(self, tokens: list[Token], end: Token | None) -> None:
        self.tokens = tokens
        self.end = end  # the ';' after the statement, None at the end of the script


def _readings(token: Token | None) -> tuple[str, ...]:
    """The terminals ``token`` may become: both readings of a non-reserved keyword."""
    if token is None:
        return ("$END",)
    if token.type != "WORD":
        return (token.type,)
    keyword = keyword_type(str(token))
    if keyword is None:
        return ("IDENTIFIER",)
    if str(token).upper() in RESERVED:
        return (keyword,)
    return (keyword, "IDENTIFIER")


class StatementLexer(Lexer):
    """Feeds a statement's tokens to the parser, deciding for each word whether it is a keyword."""

    __future_interface__ = 2

    def __init__(self, lexer_conf: object) -> None:
        pass

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        feed: _TokenFeed = lexer_state.text
        tokens = feed.tokens
        states = parser_state.parse_conf.states
        end_state = parser_state.parse_conf.end_state
        previous = ""
        for index, token in enumerate(tokens):
            if token.type == "WORD":
                token.type = self._classify(token, tokens, index, previous, states, end_state, parser_state)
            previous = token.type
            yield token

    @staticmethod
    def _classify(
        token: Token,
        tokens: list[Token],
        index: int,
        previous: str,
        states: dict,
        end_state: int,
        parser_state: Any,
    ) -> str:
        word = str(token).upper()
        keyword = keyword_type(word)
        # A variable name may be any word, even a reserved one (ksqlDB's SyntaxErrorValidator).
        if keyword is None or (index == 1 and previous in ("DEFINE", "UNDEFINE")):
            return "IDENTIFIER"
        if word in RESERVED:
            return keyword
        stack = parser_state.state_stack
        as_keyword = advance(states, end_state, stack, keyword)
        as_name = advance(states, end_state, stack, "IDENTIFIER")
        if as_keyword is None or as_name is None:
            return keyword if as_name is None else "IDENTIFIER"
        following = _readings(tokens[index + 1] if index + 1 < len(tokens) else None)
        if any(advance(states, end_state, as_keyword, t) is not None for t in following):
            return keyword
        if any(advance(states, end_state, as_name, t) is not None for t in following):
            return "IDENTIFIER"
        return keyword


_STARTS = ["statement_entry", "test_statement_entry", "expression_entry", "type_entry"]
_lock = threading.Lock()
_parser: Lark | None = None


def _lark() -> Lark:
    """The process-wide parser, built on first use (the parse table comes from lark's cache)."""
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = Lark(
                    _GRAMMAR_PATH.read_text(encoding="utf-8"),
                    parser="lalr",
                    lexer=StatementLexer,
                    start=_STARTS,
                    transformer=_Builder(),
                    maybe_placeholders=False,
                )
    return _parser


def _run(feed: _TokenFeed, start: str, source: str) -> Any:
    """Parse one statement's tokens from the ``start`` rule, turning every failure into a ParseError."""
    try:
        return _lark().parse(feed, start=start)
    except UnexpectedToken as error:
        raise syntax_error(error, feed.tokens, feed.end, source) from None
    except (UnexpectedCharacters, UnexpectedEOF) as error:  # not raised with our own lexer
        raise ParseError(f"Syntax Error\n{error}", source=source) from None
    except AstCheckError as error:
        raise ParseError(
            error.message, line=error.line, column=error.column, token=error.token, source=source
        ) from None


def _with_text(statement: ast.Statement, source: str, span: Span) -> ast.Statement:
    """``statement`` with its span and source text set; an EXPLAINed statement gets its own text."""
    if isinstance(statement, ast.Explain) and statement.statement is not None:
        inner = statement.statement
        inner_span = getattr(inner, "span", None)
        if isinstance(inner_span, Span):
            statement = dataclasses.replace(statement, statement=_with_text(inner, source, inner_span))
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
            raise syntax_error(None, [], semicolon, text)
        if references_variables(chunk):
            chunk, source = _substituted(text, chunk, semicolon, current)
        first, last = chunk[0], chunk[-1]
        span = Span(first.start_pos or 0, last.end_pos or 0, first.line or 1, first.column or 1)
        statement = _with_text(_run(_TokenFeed(chunk, semicolon), start, source), source, span)
        try:
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
    start, end = chunk[0].start_pos or 0, chunk[-1].end_pos or 0
    replaced = substitute_variables(text[start:end], variables)
    source = text[:start] + replaced + text[end:]
    tokens = tokenize(replaced, offset=start, line=chunk[0].line or 1, column=chunk[0].column or 1)
    if semicolon is not None:
        shift = len(replaced) - (end - start)
        semicolon.start_pos = (semicolon.start_pos or 0) + shift
        semicolon.end_pos = (semicolon.end_pos or 0) + shift
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
    return _run(_TokenFeed(tokens, None), "expression_entry", text)


def parse_type(text: str) -> SqlType:
    """Parse a SQL type, e.g. ``ARRAY<STRUCT<a INT>>``.

    Example:
        >>> str(parse_type("map<varchar, decimal(4, 2)>"))
        'MAP<STRING, DECIMAL(4, 2)>'
    """
    tokens = tokenize(text)
    return _run(_TokenFeed(tokens, None), "type_entry", text)
