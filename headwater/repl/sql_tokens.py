"""A forgiving scan of SQL text for the shell: highlighting, completion and telling statements apart.

The parser's lexer (:mod:`headwater.parser.lexer`) is exact and strict: it drops whitespace and comments
and raises on an unterminated string. The shell needs the opposite while the user types: every character
accounted for (a highlighter colours the whole line, comments included), and half-typed text scanned
without complaint (``SELECT 'abc`` is a string still open, not an error). So this scanner never fails:
text that starts a string, quoted name or comment and does not close it runs to the end as an *open*
token of that kind.

It knows the same lexical classes as ksqlDB's grammar (strings ``'...'`` with ``''`` escapes, ``"..."`` and
```...``` quoted names, ``--`` and ``/* */`` comments, ``${name}`` variables, numbers, words, operators), which
is all that highlighting, completion and statement classification look at. The parser, not this module,
decides what a statement means.

Example:
    >>> [(t.kind, t.text) for t in scan_tokens("SELECT 'a;b' -- c") if t.kind != "space"]
    [('word', 'SELECT'), ('string', "'a;b'"), ('comment', '-- c')]
    >>> scan_tokens("WHERE x = 'ope")[-1]
    Token(kind='string', text="'ope", start=10, closed=False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Token", "code_tokens", "leading_words", "scan_tokens"]

_SCANNER = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*(?:'|\Z))
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z)|`(?:[^`]|``)*(?:`|\Z))
  | (?P<variable>\$\{[A-Za-z0-9_@]*\}?)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_@]*)
  | (?P<operator><=|>=|<>|!=|=>|->|:=|\|\||[;,.()\[\]=<>+\-*/%])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

@dataclass(frozen=True, slots=True)
class Token:
    """One piece of scanned text.

    Attributes:
        kind: ``space``, ``comment``, ``string``, ``quoted`` (a quoted name), ``variable``, ``number``,
            ``word`` (a keyword or a name), ``operator`` or ``other`` (a character SQL has no use for).
        text: the token's characters, quotes included.
        start: the index of its first character in the scanned text.
        closed: False for a string, quoted name or block comment still open at the end of the text.
    """

    kind: str
    text: str
    start: int
    closed: bool = True

    @property
    def end(self) -> int:
        """The index just past the token."""
        return self.start + len(self.text)


def _is_closed(kind: str, text: str) -> bool:
    if kind == "string":
        return len(text) >= 2 and text.endswith("'") and _balanced(text, "'")
    if kind == "quoted":
        quote = text[0]
        return len(text) >= 2 and text.endswith(quote) and _balanced(text, quote)
    if kind == "comment" and text.startswith("/*"):
        return len(text) >= 4 and text.endswith("*/")
    return True


def _balanced(text: str, quote: str) -> bool:
    """Whether a quoted token's quotes pair up (an even count): ``'it''s'`` is closed, ``'it''`` is not."""
    return text.count(quote) % 2 == 0


def scan_tokens(text: str) -> list[Token]:
    """Every token of ``text``, whitespace and comments included, in order; never raises.

    One regular expression pass: the scanner's alternatives are ordered so that the first match at each
    position is the token ksqlDB's lexer would read there.
    """
    tokens = []
    for match in _SCANNER.finditer(text):
        kind = match.lastgroup or "other"
        piece = match.group()
        tokens.append(Token(kind, piece, match.start(), _is_closed(kind, piece)))
    return tokens


def code_tokens(text: str) -> list[Token]:
    """The tokens of ``text`` without whitespace and comments."""
    return [token for token in scan_tokens(text) if token.kind not in ("space", "comment")]


def leading_words(text: str, count: int) -> list[str]:
    """The first ``count`` code tokens of ``text``, upper-cased: what kind of statement it is.

    Example:
        >>> leading_words("  -- hi\\n  show  variables;", 2)
        ['SHOW', 'VARIABLES']
    """
    return [token.text.upper() for token in code_tokens(text)[:count]]
