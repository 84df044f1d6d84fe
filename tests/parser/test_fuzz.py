"""Property tests: no input makes the parser raise anything but ParseError, errors point into the text
at the offending token, and whatever parses also round-trips through to_sql."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from headwater.errors import ParseError
from headwater.parser import parse, split_statements, to_sql

_IDENTITY = (Path(__file__).resolve().parents[1] / "fixtures" / "parser" / "identity.sql").read_text(
    encoding="utf-8"
)
_STATEMENTS = split_statements(_IDENTITY)

_PIECES = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "PARTITION", "EMIT", "CHANGES", "FINAL", "LIMIT", "CREATE",
    "STREAM", "TABLE", "AS", "WITH", "KEY", "PRIMARY", "INSERT", "INTO", "VALUES", "JOIN", "LEFT", "ON",
    "WITHIN", "WINDOW", "TUMBLING", "SIZE", "SECONDS", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST",
    "ARRAY", "MAP", "STRUCT", "NOT", "AND", "OR", "IN", "LIKE", "IS", "NULL", "BETWEEN", "DISTINCT",
    "SHOW", "DESCRIBE", "DROP", "TYPE", "DEFINE", "ASSERT", "x", "y1", "`q`", '"Q"', "'s'", "'it''s'",
    "1", "-2", "3.5", "4E2", ".5", "(", ")", "[", "]", ",", ";", ".", "*", "+", "-", "/", "%", "=",
    "<>", "<", ">=", "||", ":=", "->", "=>", "${v}", "--c\n", "/*c*/", "\n", "'", "`", '"', "?", "/*",
]  # fmt: skip


def _check_error(error: ParseError) -> None:
    """The error's position lies within its source and, for syntax errors, at the offending token."""
    source = error.source
    lines = source.split("\n")
    assert 1 <= error.line <= len(lines), (error.line, len(lines))
    line = lines[error.line - 1]
    assert 1 <= error.column <= len(line) + 1, (error.column, line)
    if error.message.startswith("Syntax Error") and error.token:
        at = line[error.column - 1 :]
        assert at.startswith(error.token.split("\n")[0]), (at, error.token)
    assert str(error).startswith(f"line {error.line}:{error.column}: ")


def _parse_or_check(text: str, test_statements: bool) -> None:
    try:
        statements = parse(text, allow_test_statements=test_statements)
    except ParseError as error:
        _check_error(error)
        return
    for statement in statements:
        printed = to_sql(statement)
        assert parse(printed, allow_test_statements=True) == [statement], printed


_FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(
    st.text(alphabet="selctfromwhere SELCT*(),;'\"`-/0123456789.=<>!|:${}?\n\t_@", max_size=60), st.booleans()
)
@example("SELECT 'a", False)
@example("--", False)
@example("/* x", False)
@example("${", False)
def test_random_text_raises_only_parse_errors(text: str, test_statements: bool) -> None:
    _parse_or_check(text, test_statements)


@_FUZZ
@given(st.lists(st.sampled_from(_PIECES), max_size=25), st.booleans())
def test_random_token_soup_raises_only_parse_errors(pieces: list[str], test_statements: bool) -> None:
    _parse_or_check(" ".join(pieces), test_statements)


@st.composite
def _mutated_statements(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(_STATEMENTS)) + ";"
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "upper"]))
        if action == "delete":
            length = draw(st.integers(min_value=1, max_value=8))
            text = text[:position] + text[position + length :]
        elif action == "insert":
            text = text[:position] + " " + draw(st.sampled_from(_PIECES)) + " " + text[position:]
        elif action == "duplicate":
            length = draw(st.integers(min_value=1, max_value=12))
            text = text[:position] + text[position : position + length] * 2 + text[position + length :]
        else:
            text = text[:position] + text[position:].swapcase()
    return text


@_FUZZ
@given(_mutated_statements())
def test_mutated_statements_raise_only_parse_errors(text: str) -> None:
    _parse_or_check(text, True)


def test_unmutated_statements_parse() -> None:
    for text in _STATEMENTS:
        _parse_or_check(text, True)
