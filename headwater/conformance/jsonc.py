"""JSON with comments and exact decimals, as ksqlDB's test files are written.

ksqlDB reads its test files with Jackson's ``ALLOW_COMMENTS`` on (``//`` and ``/* */`` outside string
literals) and with ``USE_BIG_DECIMAL_FOR_FLOATS``: every non-integer number is an exact decimal that keeps
the scale it was written with, so ``1.50`` and ``1.5`` are different expectations. Python's :mod:`json`
rejects comments, so they are blanked out first (replaced by spaces, newlines kept, so the positions in a
syntax error still point into the original text), and floats are parsed as :class:`decimal.Decimal`.

Example:
    >>> load_jsonc('{"a": 1.50, // the price\\n "b": "x // not a comment"}')
    {'a': Decimal('1.50'), 'b': 'x // not a comment'}
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from headwater.errors import HeadwaterError

__all__ = ["TestFileError", "load_jsonc", "strip_comments"]


class TestFileError(HeadwaterError, ValueError):
    """A test file that cannot be read or that breaks the rules of ksqlDB's test format.

    The message names the file and, where known, the line and column or the test.
    """

    __test__ = False  # not a pytest test class despite the name


def strip_comments(text: str) -> str:
    """Blank out ``//`` line comments and ``/* */`` block comments that lie outside string literals.

    Every character of a comment becomes a space, except newlines, which are kept so that line and column
    numbers stay those of the original text.

    Raises:
        TestFileError: for a block comment that is never closed.
    """
    out: list[str] = []
    i = 0
    n = len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise TestFileError(f"line {line}: a /* comment is never closed")
            end += 2
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:end]))
            i = end
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _reject_constant(name: str) -> Any:
    """Jackson rejects NaN and Infinity, which Python's json would accept."""
    raise TestFileError(f"{name} is not a JSON number")


def load_jsonc(text: str, *, source: str = "<text>") -> Any:
    """Parse JSON that may hold comments; non-integer numbers become exact :class:`~decimal.Decimal`\\ s.

    Args:
        text: the document.
        source: a name for the document (a file path) used in error messages.

    Raises:
        TestFileError: the text is not valid JSON once comments are removed; the message gives the line
            and column.
    """
    try:
        return json.loads(strip_comments(text), parse_float=Decimal, parse_constant=_reject_constant)
    except TestFileError as e:
        raise TestFileError(f"{source}: {e}") from None
    except json.JSONDecodeError as e:
        raise TestFileError(f"{source}: line {e.lineno} column {e.colno}: {e.msg}") from None
