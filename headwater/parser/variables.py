"""``${name}`` substitution: ksqlDB's DEFINE variables.

Substitution is textual and happens before a statement is parsed. Names are case-insensitive. Inside
a string literal a value's single quotes are doubled, so ``'${v}'`` stays one string whatever ``v``
holds; elsewhere the value goes in as written (``partitions=${n}``, ``CREATE STREAM ${name}``).
``$${name}`` is an escape for the text ``${name}``. A reference to an unknown variable is left as
written: the parser then reports it where it stands, as ksqlDB does.

Example:
    >>> substitute_variables("SELECT '${who}' FROM ${src}", {"WHO": "it's", "SRC": "s1"})
    "SELECT 'it''s' FROM s1"
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from headwater.parser.lexer import Token

__all__ = ["normalise_variables", "references_variables", "substitute_variables"]

# A string literal (whose references are substituted with quotes doubled), or a reference.
_PIECES = re.compile(r"'(?:[^']|'')*'|\$?\$\{([A-Za-z_][A-Za-z0-9_@]*)\}")
_REFERENCE = re.compile(r"(\$?)\$\{([A-Za-z_][A-Za-z0-9_@]*)\}")


def normalise_variables(variables: Mapping[str, str] | None) -> dict[str, str]:
    """A private copy of ``variables`` keyed by upper-cased name."""
    return {name.upper(): value for name, value in (variables or {}).items()}


def references_variables(tokens: Sequence[Token]) -> bool:
    """True when a statement's tokens may hold a ``${name}`` reference."""
    return any(t.type == "VARIABLE" or (t.type != "WORD" and "${" in t.value) for t in tokens)


def _replace_references(text: str, variables: Mapping[str, str], quote: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):  # $${name}: the escaped text ${name}
            return match.group()[1:]
        value = variables.get(match.group(2).upper())
        if value is None:
            return match.group()
        return value.replace("'", "''") if quote else value

    return _REFERENCE.sub(replace, text)


def substitute_variables(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with every ``${name}`` of a known variable replaced (keys of ``variables`` upper-case)."""

    def replace(match: re.Match[str]) -> str:
        piece = match.group()
        if piece.startswith("'"):
            return _replace_references(piece, variables, quote=True)
        return _replace_references(piece, variables, quote=False)

    return _PIECES.sub(replace, text)
