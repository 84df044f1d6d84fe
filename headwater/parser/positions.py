"""Where things are in the script: spans of tokens and nodes, and the values the grammar callbacks pass
between each other before they become tree nodes.

The builder runs inside the LALR parser (one callback per reduced rule), so it sees tokens and the
nodes it already built. Names, clause markers and types travel as the small helper values below, which
carry their position; only finished tree nodes (:mod:`headwater.parser.ast`) leave the parser.

Errors found while building (ksqlDB's AstBuilder checks) are raised as :class:`AstCheckError` with the
position of the offending construct; :mod:`headwater.parser.parser` turns them into
:class:`headwater.errors.ParseError` with the source line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from headwater.parser.expressions import Span
from headwater.parser.lexer import Token
from headwater.parser.types import SqlType

__all__ = [
    "AstCheckError",
    "Ident",
    "Part",
    "TypeAt",
    "span_between",
    "span_of",
    "token_span",
]


class AstCheckError(Exception):
    """A statement that is syntactically valid but that ksqlDB rejects while building its tree.

    Attributes:
        message: ksqlDB's message text, verbatim where its tests check it.
        line, column: 1-based position of the offending construct.
        token: the offending text, for the error's caret line.
    """

    def __init__(self, message: str, line: int, column: int, token: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.token = token

    @classmethod
    def at(cls, message: str, where: Span | None, token: str = "") -> AstCheckError:
        """An error at ``where`` (the start of the script when unknown)."""
        if where is None:
            return cls(message, 1, 1, token)
        return cls(message, where.line, where.column, token)


def token_span(token: Token) -> Span:
    """The span of one token."""
    return Span(token.start_pos or 0, token.end_pos or 0, token.line or 1, token.column or 1)


def _first_position(item: object) -> Span | None:
    """Where ``item`` starts: a token's or node's own span, or that of the first positioned element of
    a tuple or list (``GROUP BY a, b`` reaches the clause callback as a tuple of expressions)."""
    if isinstance(item, Token):
        return token_span(item)
    if isinstance(item, tuple | list):
        for element in item:
            found = _first_position(element)
            if found is not None:
                return found
        return None
    span = getattr(item, "span", None)
    return span if isinstance(span, Span) else None


def _last_position(item: object) -> Span | None:
    """Where ``item`` ends: like :func:`_first_position`, from the last positioned element."""
    if isinstance(item, tuple | list):
        for element in reversed(item):
            found = _last_position(element)
            if found is not None:
                return found
        return None
    return _first_position(item)


def span_between(first: object, last: object) -> Span | None:
    """The span from the start of ``first`` to the end of ``last`` (tokens, nodes or helpers)."""
    start = _first_position(first)
    end = _last_position(last)
    if start is None:
        return end
    if end is None:
        return start
    return Span(start.start, end.end, start.line, start.column)


def span_of(children: Sequence[object]) -> Span | None:
    """The span covering every positioned item of ``children`` (a callback's argument list)."""
    first = _first_position(children)
    if first is None:
        return None
    last = _last_position(children) or first
    return Span(first.start, last.end, first.line, first.column)


class Ident:
    """A name as written: ``name`` is what ksqlDB resolves it to (upper-cased unless quoted), ``text``
    the characters between the quotes (or the bare word as written)."""

    __slots__ = ("name", "quoted", "span", "text", "token")

    def __init__(self, token: Token) -> None:
        self.token = token
        self.span = token_span(token)
        value = str(token)
        kind = token.type
        if kind == "QUOTED_IDENTIFIER":
            self.text = value[1:-1].replace('""', '"')
            self.name = self.text
            self.quoted = True
        elif kind == "BACKQUOTED_IDENTIFIER":
            self.text = value[1:-1].replace("``", "`")
            self.name = self.text
            self.quoted = True
        else:
            self.text = value
            self.name = value.upper()
            self.quoted = False


@dataclass(frozen=True, slots=True)
class Part:
    """A clause or flag of a statement (``OR REPLACE``, ``WITH (...)``, ``AS query``...), tagged by
    ``kind`` so a statement callback can pick its parts out of the children in any order."""

    kind: str
    value: object
    span: Span | None


@dataclass(frozen=True, slots=True)
class TypeAt:
    """A SQL type with the span it was written at (types themselves carry no position)."""

    type: SqlType
    span: Span | None
