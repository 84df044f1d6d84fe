"""Tokens of ksqlDB SQL: a hand-written scanner and the keyword tables.

The scanner reproduces ksqlDB's ANTLR lexer (``SqlBase.g4``): keywords are case-insensitive, the
longest match wins and ties go to the earlier rule (``1E5`` is a DOUBLE, ``1abc`` an identifier),
``--`` and ``/* */`` are comments, strings double their quote to escape it. It runs one compiled
regular expression over the text, so a script is scanned in one pass without a per-character loop.

Words are left unclassified (type ``WORD``): whether ``KEY`` is a keyword or a column name depends on
the parser state, which only the parser knows (see :mod:`headwater.parser.parser`). ksqlDB makes that
choice with unbounded lookahead; Headwater asks the LALR table whether the keyword, or a name, can
continue the statement.

Example:
    >>> [(t.type, str(t)) for t in tokenize("select a1 from `t`;")]
    [('WORD', 'select'), ('WORD', 'a1'), ('WORD', 'from'), ('BACKQUOTED_IDENTIFIER', '`t`'), ('SEMICOLON', ';')]
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from headwater.errors import ParseError

__all__ = [
    "KEYWORDS",
    "NON_RESERVED",
    "RESERVED",
    "Token",
    "keyword_type",
    "split_statements",
    "tokenize",
]


class Token:
    """One token: its type (a grammar terminal, or WORD until the parser classifies it), its text,
    and where it is (``start_pos``/``end_pos`` offsets into the script, 1-based ``line``/``column``)."""

    __slots__ = ("column", "end_pos", "line", "start_pos", "type", "value")

    def __init__(self, type: str, value: str, start_pos: int, end_pos: int, line: int, column: int) -> None:
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r}, line={self.line}, column={self.column})"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every keyword of ksqlDB's lexer, plus PAUSE and RESUME (newer ksqlDB statements). ``STRING`` is the
# type-parameter keyword; its token type is KW_STRING because STRING names string literals.
KEYWORDS = _words(
    """
    EMIT CHANGES FINAL SELECT FROM AS ALL DISTINCT WHERE WITHIN WINDOW GROUP BY HAVING LIMIT AT OR
    AND IN NOT EXISTS BETWEEN LIKE ESCAPE IS NULL TRUE FALSE INTEGER DATE TIME TIMESTAMP INTERVAL
    YEAR MONTH DAY HOUR MINUTE SECOND MILLISECOND YEARS MONTHS DAYS HOURS MINUTES SECONDS
    MILLISECONDS ZONE TUMBLING HOPPING SIZE ADVANCE RETENTION GRACE PERIOD CASE WHEN THEN ELSE END
    JOIN FULL OUTER INNER LEFT RIGHT ON PARTITION STRUCT WITH VALUES CREATE TABLE TOPIC STREAM
    STREAMS INSERT DELETE INTO DESCRIBE EXTENDED PRINT EXPLAIN ANALYZE TYPE TYPES CAST SHOW LIST
    TABLES TOPICS QUERY QUERIES TERMINATE LOAD COLUMNS COLUMN PARTITIONS FUNCTIONS FUNCTION DROP TO
    RENAME ARRAY MAP SET DEFINE UNDEFINE RESET SESSION SAMPLE EXPORT CATALOG PROPERTIES BEGINNING
    UNSET RUN SCRIPT DECIMAL KEY CONNECTOR CONNECTORS SINK SOURCE NAMESPACE MATERIALIZED VIEW
    PRIMARY REPLACE ASSERT ADD ALTER VARIABLES PLUGINS HEADERS HEADER SYSTEM TIMEOUT SCHEMA SUBJECT
    ID IF STRING PAUSE RESUME
    """
)

# ksqlDB's ``nonReserved`` rule: keywords that may also be used, unquoted, as names.
NON_RESERVED = _words(
    """
    SHOW TABLES COLUMNS COLUMN PARTITIONS FUNCTIONS FUNCTION SESSION STRUCT MAP ARRAY PARTITION
    INTEGER DATE TIME TIMESTAMP INTERVAL ZONE STRING YEAR MONTH DAY HOUR MINUTE SECOND EXPLAIN
    ANALYZE TYPE TYPES SET RESET IF SOURCE SINK PRIMARY KEY EMIT CHANGES FINAL ESCAPE REPLACE ASSERT
    ALTER ADD HEADER HEADERS GRACE PERIOD DEFINE UNDEFINE VARIABLES PLUGINS SYSTEM TIMEOUT SCHEMA
    SUBJECT ID PAUSE RESUME
    """
)

RESERVED = KEYWORDS - NON_RESERVED

_KEYWORD_TYPES = {word: ("KW_STRING" if word == "STRING" else word) for word in KEYWORDS}


def keyword_type(word: str) -> str | None:
    """The token type of ``word`` when it is a keyword (any case), else None."""
    return _KEYWORD_TYPES.get(word.upper())


_OPERATORS = {
    ";": "SEMICOLON",
    ",": "COMMA",
    ".": "DOT",
    "(": "LPAREN",
    ")": "RPAREN",
    "[": "LBRACKET",
    "]": "RBRACKET",
    "=": "EQ",
    "<>": "NEQ",
    "!=": "NEQ",
    "<": "LT",
    "<=": "LTE",
    ">": "GT",
    ">=": "GTE",
    "+": "PLUS",
    "-": "MINUS",
    "*": "ASTERISK",
    "/": "SLASH",
    "%": "PERCENT",
    "||": "CONCAT",
    ":=": "ASSIGN",
    "->": "ARROW",
    "=>": "LAMBDA",
}

# One alternative per token kind. Python's alternation is ordered, not longest-match, so longer
# operators come first and numbers are resolved by _scan_number.
_SCANNER = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<line_comment>--[^\r\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<open_comment>/\*)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<backquoted>`(?:[^`]|``)*`)
  | (?P<variable>\$\{[A-Za-z_][A-Za-z0-9_@]*\})
  | (?P<word>[A-Za-z_][A-Za-z0-9_@]*)
  | (?P<number>[0-9]|\.[0-9])
  | (?P<operator><=|>=|<>|!=|=>|->|:=|\|\||[;,.()\[\]=<>+\-*/%])
    """,
    re.VERBOSE | re.DOTALL,
)

_INTEGER = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]*|\.[0-9]+")
_FLOAT = re.compile(r"[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+")
_DIGIT_IDENTIFIER = re.compile(r"[0-9][A-Za-z0-9_@]+")
# In ksqlDB's rule order, which wins a tie in length.
_NUMBER_RULES = (
    ("INTEGER_VALUE", _INTEGER),
    ("DECIMAL_VALUE", _DECIMAL),
    ("FLOATING_POINT_VALUE", _FLOAT),
    ("DIGIT_IDENTIFIER", _DIGIT_IDENTIFIER),
)

_SIMPLE_KINDS = {
    "string": "STRING",
    "quoted": "QUOTED_IDENTIFIER",
    "backquoted": "BACKQUOTED_IDENTIFIER",
    "variable": "VARIABLE",
    "word": "WORD",
}


def _scan_number(text: str, pos: int) -> tuple[str, int]:
    """The longest numeric (or digit-led identifier) token at ``pos``: (type, end)."""
    best_type, best_end = "", pos
    for token_type, pattern in _NUMBER_RULES:
        match = pattern.match(text, pos)
        if match and match.end() > best_end:
            best_type, best_end = token_type, match.end()
    return best_type, best_end


def _error(text: str, pos: int, line: int, line_start: int, message: str, token: str) -> ParseError:
    return ParseError(
        f"Syntax Error\n{message}",
        line=line,
        column=pos - line_start + 1,
        token=token,
        source=text,
    )


def tokenize(text: str, *, offset: int = 0, line: int = 1, column: int = 1) -> list[Token]:
    """Scan ``text`` into tokens, dropping whitespace and comments.

    ``offset``, ``line`` and ``column`` place ``text`` inside a larger script (positions of the
    returned tokens are then those of the script), which is how a statement re-scanned after
    variable substitution keeps its place.

    Raises:
        ParseError: on a character no token can start with, an unterminated string, quoted
            identifier or comment.
    """
    tokens: list[Token] = []
    append = tokens.append
    pos = 0
    end = len(text)
    # line_start is the (virtual) index in ``text`` where the current line begins, so that
    # column = pos - line_start + 1 holds on the first line too.
    line_start = 1 - column
    scan = _SCANNER.match
    while pos < end:
        match = scan(text, pos)
        if match is None:
            char = text[pos]
            if char in "'\"`":
                what = {"'": "string literal", '"': "quoted identifier", "`": "quoted identifier"}[char]
                raise _error(text, pos, line, line_start, f"unterminated {what} (no closing {char})", char)
            raise _error(text, pos, line, line_start, f"unexpected character {char!r}", char)
        kind = match.lastgroup
        stop = match.end()
        if kind == "open_comment":
            raise _error(text, pos, line, line_start, "unterminated comment (no closing */)", "/*")
        if kind == "number":
            token_type, stop = _scan_number(text, pos)
            if not token_type:  # '.' not followed by a digit is handled by the operator rule
                token_type, stop = "DOT", pos + 1
            value = text[pos:stop]
        elif kind == "operator":
            value = match.group()
            token_type = _OPERATORS[value]
        elif kind in _SIMPLE_KINDS:
            token_type = _SIMPLE_KINDS[kind]
            value = match.group()
        else:
            token_type = ""
            value = ""
        if token_type:
            append(Token(token_type, value, offset + pos, offset + stop, line, pos - line_start + 1))
        newlines = text.count("\n", pos, stop)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", pos, stop) + 1
        pos = stop
    return tokens


def iter_statement_tokens(tokens: list[Token]) -> Iterator[tuple[list[Token], Token | None]]:
    """Split a token list at top-level semicolons: yields (tokens of one statement, its ``;`` or None).

    Semicolons inside strings, quoted identifiers and comments never become tokens, so every
    SEMICOLON token ends a statement.
    """
    current: list[Token] = []
    for token in tokens:
        if token.type == "SEMICOLON":
            yield current, token
            current = []
        else:
            current.append(token)
    if current:
        yield current, None


def split_statements(text: str) -> list[str]:
    """Split a script into statement texts (without their ``;``), ignoring ``;`` in strings, quoted
    identifiers and comments. Empty statements are dropped. Text that does not scan (an unterminated
    string, say) stays with the statement it starts in, so an interactive shell can keep reading.

    Example:
        >>> split_statements("SELECT ';' FROM s; -- done;\\nSHOW STREAMS")
        ["SELECT ';' FROM s", '-- done;\\nSHOW STREAMS']
    """
    try:
        tokens = tokenize(text)
    except ParseError as error:
        tokens = tokenize(text[: _offset_of(text, error.line, error.column)])
    pieces: list[str] = []
    start = 0
    for _, semicolon in iter_statement_tokens(tokens):
        if semicolon is None:
            break
        pieces.append(text[start : semicolon.start_pos])
        start = semicolon.start_pos + 1
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if _has_code(piece)]


def _has_code(piece: str) -> bool:
    """True when ``piece`` holds more than whitespace and comments."""
    try:
        return bool(tokenize(piece))
    except ParseError:
        return True


def _offset_of(text: str, line: int, column: int) -> int:
    """The index in ``text`` of a 1-based line and column."""
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column - 1
