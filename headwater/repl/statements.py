"""Where one statement ends: splitting shell input at the semicolons that end statements.

The shell must know, while the user types, whether the text so far is finished (ends in a ``;`` that is
not inside a string, a quoted identifier or a comment) so that Enter runs it rather than opening a
continuation line; and ``-f`` scripts are run one statement at a time so that an error names the
statement it belongs to and the statements before it have taken effect. Both need the same small
scanner, which knows only what can hide a semicolon in ksqlDB's lexical grammar:

- ``'...'`` string literals (a quote is doubled to escape it: ``'it''s'``),
- ``"..."`` and ```...``` quoted identifiers (the quote doubled to escape it),
- ``-- ...`` comments to the end of the line and ``/* ... */`` block comments.

The full parser, not this scanner, decides what the statements mean; the scanner never rejects text.

Why the shell keeps this scanner besides the parser's ``split_statements``
(:mod:`headwater.parser.lexer`): the parser's returns bare texts, so (1) it has no positions, and the
shell needs each statement's line and column in the whole input to point a parse error's caret at the
right place in a script; (2) it cannot say whether text ends inside an open string or comment (it folds
such text into the last statement), which is exactly what Enter must know to choose between running
and continuing; (3) it strips the ``;``, so a trailing statement without one is indistinguishable from
one with it. It also runs on every Enter press and must not need the parser's grammar loaded.

Example:
    >>> [piece.text for piece in split_statements("SHOW STREAMS; SELECT ';' FROM s;\\n-- done")]
    ['SHOW STREAMS;', "SELECT ';' FROM s;"]
    >>> is_complete("SELECT 1 -- a comment; not the end")
    False
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["ScanState", "StatementText", "is_complete", "scan", "split_statements"]


class ScanState(Enum):
    """What the scanner is inside of at a given point of the text."""

    CODE = "code"
    STRING = "string"
    DOUBLE_QUOTED = "double-quoted identifier"
    BACKTICKED = "backticked identifier"
    LINE_COMMENT = "line comment"
    BLOCK_COMMENT = "block comment"


_CLOSING_QUOTE = {
    ScanState.STRING: "'",
    ScanState.DOUBLE_QUOTED: '"',
    ScanState.BACKTICKED: "`",
}
_OPENING_QUOTE = {quote: state for state, quote in _CLOSING_QUOTE.items()}


@dataclass(frozen=True, slots=True)
class StatementText:
    """One statement cut out of a larger text.

    Attributes:
        text: the statement, stripped of surrounding whitespace, with its ``;`` if it had one.
        line: the 1-based line of ``text``'s first character in the whole input, so that errors in a
            script can name the line the user sees in their editor.
        column: the 1-based column of ``text``'s first character on that line.
        terminated: whether the statement ended with ``;`` (only the last piece of a text may not).
    """

    text: str
    line: int
    column: int
    terminated: bool


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The statements of a text and the scanner's state at its end."""

    statements: tuple[StatementText, ...]
    end_state: ScanState


def scan(text: str) -> ScanResult:
    """Split ``text`` at statement-ending semicolons.

    Pieces that hold only whitespace and comments are dropped: they are not statements. A trailing
    piece without ``;`` is returned with ``terminated=False``.

    This is a loop over characters because the meaning of each character depends on the state left by
    the previous ones (quotes and comments nest nothing but hide everything); shell input and scripts
    are small, so the cost does not matter.
    """
    statements: list[StatementText] = []
    state = ScanState.CODE
    has_code = False
    code_start = 0
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if state is ScanState.CODE:
            following = text[index + 1] if index + 1 < length else ""
            if char == "-" and following == "-":
                state = ScanState.LINE_COMMENT
                index += 2
                continue
            if char == "/" and following == "*":
                state = ScanState.BLOCK_COMMENT
                index += 2
                continue
            if char == ";":
                if has_code:
                    statements.append(_piece(text, code_start, index + 1, terminated=True))
                has_code = False
            elif not char.isspace():
                if not has_code:
                    has_code = True
                    code_start = index
                if char in _OPENING_QUOTE:
                    state = _OPENING_QUOTE[char]
        elif state is ScanState.LINE_COMMENT:
            if char == "\n":
                state = ScanState.CODE
        elif state is ScanState.BLOCK_COMMENT:
            if char == "*" and index + 1 < length and text[index + 1] == "/":
                state = ScanState.CODE
                index += 2
                continue
        else:
            quote = _CLOSING_QUOTE[state]
            if char == quote:
                if index + 1 < length and text[index + 1] == quote:
                    index += 2  # a doubled quote is an escaped quote, still inside
                    continue
                state = ScanState.CODE
        index += 1
    if has_code:
        statements.append(_piece(text, code_start, length, terminated=False))
    return ScanResult(tuple(statements), state)


def _piece(text: str, begin: int, end: int, *, terminated: bool) -> StatementText:
    """The statement between ``begin`` and ``end``, trimmed, with the line it starts on."""
    body = text[begin:end].rstrip()
    line_start = text.rfind("\n", 0, begin) + 1
    return StatementText(body, text.count("\n", 0, begin) + 1, begin - line_start + 1, terminated)


def split_statements(text: str) -> list[StatementText]:
    """Every statement in ``text``, in order (see :func:`scan`)."""
    return list(scan(text).statements)


def is_complete(text: str) -> bool:
    """Whether ``text`` is ready to run: at least one statement, every statement ended by ``;``, and
    no string, quoted identifier or block comment left open.

    The shell calls this on Enter: if it is false, Enter starts a continuation line instead.
    """
    result = scan(text)
    if result.end_state not in (ScanState.CODE, ScanState.LINE_COMMENT):
        return False
    return bool(result.statements) and result.statements[-1].terminated
