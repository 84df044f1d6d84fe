"""Syntax error messages in ksqlDB's words.

ksqlDB reports a syntax error as ``line L:C: Syntax Error`` followed by ANTLR's diagnosis of the
offending token, and its tests check those texts: ``missing ')' at ','`` when inserting one token
would repair the statement, ``extraneous input 'x' expecting ...`` when deleting the token would,
``mismatched input 'x' expecting ...`` otherwise. The same diagnosis is made here from the LALR
table: the offending token is the first one no statement can continue with (ANTLR's too), and the
repairs are tried on a copy of the parser's state stack.
"""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedToken
from lark.parsers.lalr_analysis import Shift

from headwater.errors import ParseError
from headwater.parser.lexer import RESERVED, keyword_type

__all__ = ["advance", "display_terminal", "syntax_error"]

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


def advance(states: dict, end_state: int, stack: list[int], terminal: str) -> list[int] | None:
    """The state stack after the parser reads ``terminal`` from ``stack``, or None if it cannot.

    Runs the reductions the terminal triggers, as the LALR driver would, on a copy of the stack.
    """
    stack = list(stack)
    while True:
        action = states[stack[-1]].get(terminal)
        if action is None:
            return None
        kind, arg = action
        if kind is Shift:
            stack.append(arg)
            return stack
        size = len(arg.expansion)
        if size:
            del stack[-size:]
        stack.append(states[stack[-1]][arg.origin.name][1])
        if stack[-1] == end_state:
            return stack


def _type_of(token: Token | None) -> str:
    if token is None:
        return "$END"
    if token.type == "WORD":
        return keyword_type(str(token)) or "IDENTIFIER"
    return token.type


def syntax_error(
    error: UnexpectedToken | None, tokens: list[Token], end: Token | None, source: str
) -> ParseError:
    """The ParseError for a token the parser could not accept.

    Args:
        error: lark's report (None for an empty statement: a ``;`` with nothing before it).
        tokens: the statement's tokens.
        end: the ``;`` that ends the statement, or None at the end of the script.
        source: the script.
    """
    if error is None:
        assert end is not None
        return ParseError(
            "Syntax Error\nextraneous input ';' expecting a statement",
            line=end.line or 1,
            column=end.column or 1,
            token=";",
            expected=(),
            source=source,
        )
    offending: Token | None = error.token
    if offending is not None and offending.type == "$END":
        offending = end
    expected = _truly_expected(error)
    line, column = _position(offending, tokens, source)
    detail = _diagnose(error, offending, tokens, expected)
    return ParseError(
        f"Syntax Error\n{detail}",
        line=line,
        column=column,
        token="" if offending is None else str(offending),
        expected=tuple(sorted(display_terminal(n) for n in expected)),
        source=source,
    )


_terminals_cache: dict[int, frozenset[str]] = {}


def _all_terminals(states: dict) -> frozenset[str]:
    key = id(states)
    if key not in _terminals_cache:
        _terminals_cache[key] = frozenset(
            name for actions in states.values() for name in actions if name.isupper() or name == "$END"
        )
    return _terminals_cache[key]


def _truly_expected(error: UnexpectedToken) -> set[str]:
    """The terminals that can really continue the statement where it failed.

    lark reports the lookahead set of the state it failed in; after LALR state merging that set can
    hold terminals of other contexts (a name reduced as an alias "expects" everything a name can be
    followed by anywhere). Simulating each terminal from the failing state stack keeps the real ones.
    """
    state = getattr(error, "state", None)
    reported = {name for name in error.expected if name.isupper() or name == "$END"}
    if state is None:
        return reported
    states = state.parse_conf.states
    end_state = state.parse_conf.end_state
    stack = list(state.state_stack)
    return {name for name in _all_terminals(states) if advance(states, end_state, stack, name) is not None}


def _position(offending: Token | None, tokens: list[Token], source: str) -> tuple[int, int]:
    """Where the offending token starts; at the end of input, just after the last character."""
    if offending is not None:
        return offending.line or 1, offending.column or 1
    if tokens:
        last = tokens[-1]
        end = last.end_pos or 0
    else:
        end = len(source)
    text = source[:end]
    line = text.count("\n") + 1
    column = end - (text.rfind("\n") + 1) + 1
    return line, column


def _diagnose(
    error: UnexpectedToken, offending: Token | None, tokens: list[Token], expected: set[str]
) -> str:
    state = getattr(error, "state", None)
    shown = _display_token(offending)
    if state is None:
        return f"mismatched input {shown} expecting {_expecting(expected)}"
    states = state.parse_conf.states
    end_state = state.parse_conf.end_state
    stack = list(state.state_stack)
    offending_type = _type_of(offending)
    # One token missing: exactly one expected token X such that X then the offending token fits.
    repairs = []
    for name in sorted(expected):
        if name == "$END":
            continue
        after = advance(states, end_state, stack, name)
        if after is not None and advance(states, end_state, after, offending_type) is not None:
            repairs.append(name)
    if len(repairs) == 1:
        return f"missing {display_terminal(repairs[0])} at {shown}"
    # One token too many: the token after the offending one fits here.
    if offending is not None:
        position = next((i for i, t in enumerate(tokens) if t is offending), None)
        following = tokens[position + 1] if position is not None and position + 1 < len(tokens) else None
        if position is not None and advance(states, end_state, stack, _type_of(following)) is not None:
            if str(offending).upper() in RESERVED and offending.type not in _NAMED:
                return (
                    f'"{offending}" is a reserved keyword and it can\'t be used as an identifier. '
                    f"You can use it as an identifier by escaping it as '{offending}' "
                )
            return f"extraneous input {shown} expecting {_expecting(expected)}"
    return f"mismatched input {shown} expecting {_expecting(expected)}"
