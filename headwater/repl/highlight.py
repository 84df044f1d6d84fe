"""Syntax highlighting of the statement being typed: keywords, strings, numbers, comments, functions.

The prompt's lexer colours the whole text being edited (a multi-line statement included) with the
forgiving scanner of :mod:`headwater.repl.sql_tokens`, so a half-typed string or comment is coloured as
what it is, to the end of the text, while it is open. Keywords are ksqlDB's (the parser's list); a word
directly followed by ``(`` is a function call. Colours are ANSI names, so they follow the terminal's
palette; ``NO_COLOR`` turns them off (the shell then draws in the terminal's default colour).

Example:
    >>> [(style, text) for style, text in highlight_line("select 'x' -- c") if text.strip()]
    [('class:keyword', 'select'), ('class:string', "'x'"), ('class:comment', '-- c')]
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from headwater.repl.sql_tokens import scan_tokens

__all__ = ["SHELL_STYLE", "SqlLexer", "highlight_line", "styled_tokens"]

SHELL_STYLE = Style.from_dict(
    {
        "keyword": "ansiblue bold",
        "string": "ansigreen",
        "quoted": "ansicyan",
        "number": "ansimagenta",
        "comment": "ansibrightblack italic",
        "function": "ansiyellow",
        "variable": "ansicyan bold",
        "prompt": "bold",
    }
)


# Keywords that are far more often column names than keywords in what people type (``ID`` is a keyword of
# ksqlDB's ``ASSERT SCHEMA ... ID n`` only); they are left uncoloured.
_USUALLY_NAMES = frozenset({"ID"})


def _keywords() -> frozenset[str]:
    from headwater.parser.lexer import KEYWORDS

    return KEYWORDS - _USUALLY_NAMES


def styled_tokens(text: str, keywords: frozenset[str] | None = None) -> StyleAndTextTuples:
    """``text`` as (style, text) pieces covering every character."""
    words = _keywords() if keywords is None else keywords
    tokens = scan_tokens(text)
    pieces: StyleAndTextTuples = []
    for index, token in enumerate(tokens):
        style = ""
        if token.kind == "word":
            following = next((t for t in tokens[index + 1 :] if t.kind != "space"), None)
            if following is not None and following.text == "(":
                style = "class:function"
            elif token.text.upper() in words:
                style = "class:keyword"
        elif token.kind in ("string", "quoted", "number", "comment", "variable"):
            style = f"class:{token.kind}"
        pieces.append((style, token.text))
    return pieces


def highlight_line(text: str) -> StyleAndTextTuples:
    """One line's pieces (for tests and single-line use)."""
    return styled_tokens(text)


def _split_lines(pieces: StyleAndTextTuples) -> list[StyleAndTextTuples]:
    """The pieces of a multi-line text, line by line (a piece spanning lines is cut at each newline)."""
    lines: list[StyleAndTextTuples] = [[]]
    for piece in pieces:
        style, text = piece[0], piece[1]
        parts = text.split("\n")
        for number, part in enumerate(parts):
            if number:
                lines.append([])
            if part:
                lines[-1].append((style, part))
    return lines


class SqlLexer(Lexer):
    """prompt_toolkit's lexer for the shell's input (see the module docstring)."""

    def __init__(self) -> None:
        self.keywords = _keywords()

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = _split_lines(styled_tokens(document.text, self.keywords))

        def line(number: int) -> StyleAndTextTuples:
            return lines[number] if number < len(lines) else []

        return line
