"""Syntax error messages in ksqlDB's words.

ksqlDB reports a syntax error as ``line L:C: Syntax Error`` followed by ANTLR's diagnosis of the
offending token, and its tests check those texts: ``missing ')' at ','`` when inserting one token
would repair the statement, ``extraneous input 'x' expecting ...`` when deleting the token would,
``mismatched input 'x' expecting ...`` otherwise. The same diagnosis is made here from the LALR
table: the offending token is the first one no statement can continue with (ANTLR's too), and the
repairs are tried on a copy of the parser's state stack.
"""

from __future__ import annotations

from headwater.errors import ParseError
from headwater.parser.lalr import END, LalrTables, UnexpectedTokenError, advance
from headwater.parser.lexer import RESERVED, Token, keyword_type

__all__ = ["display_terminal", "syntax_error"]

_PUNCTUATION = {
    "SEMICOLON": ";",
    "COMMA": ",",
    "DOT": ".",
    "LPAREN": "(",
    "RPAREN": ")",
    "LBRACKET": "[",
    "RBRACKET": "]",
    "EQ": "=",
    "NEQ": "<>",
    "LT": "<",
    "LTE": "<=",
    "GT": ">",
    "GTE": ">=",
    "PLUS": "+",
    "MINUS": "-",
    "ASTERISK": "*",
    "SLASH": "/",
    "PERCENT": "%",
    "CONCAT": "||",
    "ASSIGN": ":=",
    "ARROW": "->",
    "LAMBDA": "=>",
}

_NAMED = {"IDENTIFIER", "DIGIT_IDENTIFIER", "QUOTED_IDENTIFIER", "BACKQUOTED_IDENTIFIER", "VARIABLE", "STRING",
          "INTEGER_VALUE", "DECIMAL_VALUE", "FLOATING_POINT_VALUE"}  # fmt: skip


def display_terminal(name: str) -> str:
    """A terminal as ANTLR names it in messages: ``';'``, ``'SELECT'``, ``IDENTIFIER``, ``<EOF>``."""
    if name == "$END":
        return "<EOF>"
    if name in _PUNCTUATION:
        return f"'{_PUNCTUATION[name]}'"
    if name == "KW_STRING":
        return "'STRING'"
    if name in _NAMED:
        return name
    return f"'{name}'"


def _display_token(token: Token | None) -> str:
    if token is None:
        return "<EOF>"
    text = str(token).replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{text}'"


def _expecting(names: set[str]) -> str:
    shown = sorted(display_terminal(n) for n in names if n == "$END" or n.isupper())
    if len(shown) == 1:
        return shown[0]
    return "{" + ", ".join(shown) + "}"


def _type_of(token: Token | None) -> str:
    if token is None:
        return "$END"
    if token.type == "WORD":
        return keyword_type(str(token)) or "IDENTIFIER"
    return token.type


def syntax_error(
    error: UnexpectedTokenError | None,
    tables: LalrTables,
    tokens: list[Token],
    end: Token | None,
    source: str,
) -> ParseError:
    """The ParseError for a token the parser could not accept.

    Args:
        error: the driver's report (None for an empty statement: a ``;`` with nothing before it).
        tables: the parse table, to work out what was expected and what would repair the statement.
        tokens: the statement's tokens.
        end: the ``;`` that ends the statement, or None at the end of the script.
        source: the script.
    """
    if error is None:
        assert end is not None
        return ParseError(
            "Syntax Error\nextraneous input ';' expecting a statement",
            line=end.line,
            column=end.column,
            token=";",
            expected=(),
            source=source,
        )
    offending = error.token if error.token is not None else end
    expected = {
        name
        for name in tables.terminals
        if advance(tables.rows, error.end_state, error.stack, name) is not None
    }
    line, column = _position(offending, tokens, source)
    detail = _diagnose(error, tables, offending, tokens, expected)
    return ParseError(
        f"Syntax Error\n{detail}",
        line=line,
        column=column,
        token="" if offending is None else offending.value,
        expected=tuple(sorted(display_terminal(n) for n in expected)),
        source=source,
    )


def _position(offending: Token | None, tokens: list[Token], source: str) -> tuple[int, int]:
    """Where the offending token starts; at the end of input, just after the last token."""
    if offending is not None:
        return offending.line, offending.column
    end = tokens[-1].end_pos if tokens else len(source)
    text = source[:end]
    line = text.count("\n") + 1
    column = end - (text.rfind("\n") + 1) + 1
    return line, column


def _diagnose(
    error: UnexpectedTokenError,
    tables: LalrTables,
    offending: Token | None,
    tokens: list[Token],
    expected: set[str],
) -> str:
    rows, end_state, stack = tables.rows, error.end_state, error.stack
    shown = _display_token(offending)
    offending_type = _type_of(offending)
    # One token missing: exactly one expected token X such that X then the offending token fits.
    repairs = []
    for name in sorted(expected):
        if name == END:
            continue
        after = advance(rows, end_state, stack, name)
        if after is not None and advance(rows, end_state, after, offending_type) is not None:
            repairs.append(name)
    if len(repairs) == 1:
        return f"missing {display_terminal(repairs[0])} at {shown}"
    if offending is not None:
        position = next((i for i, t in enumerate(tokens) if t is offending), None)
        following = tokens[position + 1] if position is not None and position + 1 < len(tokens) else None
        reserved = offending.value.upper() in RESERVED and offending.type not in _NAMED
        # One token too many: the token after the offending one fits here.
        if position is not None and advance(rows, end_state, stack, _type_of(following)) is not None:
            if reserved:
                return _reserved_message(offending)
            return f"extraneous input {shown} expecting {_expecting(expected)}"
        if reserved and "IDENTIFIER" in expected:
            return (
                f"mismatched input {shown} expecting {_expecting(expected)}\n{_reserved_message(offending)}"
            )
    return f"mismatched input {shown} expecting {_expecting(expected)}"


def _reserved_message(token: Token) -> str:
    return (
        f'"{token.value}" is a reserved keyword and it can\'t be used as an identifier. '
        f"You can use it as an identifier by escaping it as '{token.value}' "
    )
