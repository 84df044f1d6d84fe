"""Statement texts and the spans of the parts that end a statement; RUN SCRIPT in and out of test mode.

The engine quotes ``Statement.text`` in entities and runs an EXPLAINed statement from its own text, so
a nested statement's text must be complete whatever clause ends it (``PARTITION BY ABS(V)``, a
parenthesised condition, ``GROUP BY a, b``, a type ending in ``>``...).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.errors import ParseError
from headwater.parser import ast, parse, parse_statement, split_statements

_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parser"
_IDENTITY = (_FIXTURES / "identity.sql").read_text(encoding="utf-8")

# ksqlDB's test language: accepted only with allow_test_statements, and never inside EXPLAIN (ksqlDB's
# `EXPLAIN (statement | identifier)` takes its main grammar's statements only).
_TEST_LANGUAGE = (ast.AssertValues, ast.AssertTombstone, ast.AssertSource, ast.RunScript)


def _explainable_texts() -> list[str]:
    """Every statement of the round-trip fixture that EXPLAIN accepts, as written there."""
    texts = []
    for text in split_statements(_IDENTITY):
        (statement,) = parse(text, allow_test_statements=True)
        if not isinstance(statement, _TEST_LANGUAGE):
            texts.append(statement.text)
    return texts


_EXPLAINABLE = _explainable_texts()


def test_the_explained_texts_cover_every_statement_kind_explain_accepts() -> None:
    kinds = {type(parse_statement(text)).__name__ for text in _EXPLAINABLE}
    every = {cls.__name__ for cls in _statement_classes(ast.Statement)}
    assert every - {cls.__name__ for cls in _TEST_LANGUAGE} - kinds == set()


def _statement_classes(base: type) -> set[type]:
    found: set[type] = set()
    sub: type
    for sub in base.__subclasses__():
        if sub.__dict__.get("__dataclass_fields__"):
            found.add(sub)
        found |= _statement_classes(sub)
    return found


@pytest.mark.parametrize("text", _EXPLAINABLE)
def test_an_explained_statement_gets_its_whole_text(text: str) -> None:
    explain = parse_statement(f"EXPLAIN {text};")
    assert isinstance(explain, ast.Explain) and explain.statement is not None
    assert explain.statement.text == text
    assert explain.statement == parse_statement(text)
    assert explain.text == f"EXPLAIN {text}"


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM s PARTITION BY ABS(V)",
        "CREATE STREAM x AS SELECT * FROM s PARTITION BY ABS(V), v + 1",
        "SELECT a, COUNT(*) FROM t GROUP BY a, b",
        "SELECT a FROM t GROUP BY (a, b)",
        "SELECT * FROM s WHERE (a > 1)",
        "SELECT * FROM s WHERE f(a, (b))",
        "INSERT INTO x SELECT * FROM s WHERE a IN (1, 2)",
        "CREATE TYPE t AS STRUCT<a ARRAY<MAP<STRING, INT>>>",
        "SELECT CASE WHEN a THEN 1 ELSE 2 END FROM s",
        "SELECT * FROM s WINDOW TUMBLING (SIZE 1 SECOND)",
        "EXPLAIN SELECT * FROM s PARTITION BY ABS(V)",
    ],
)
def test_nested_text_ends_with_the_statement_on_any_closing_construct(text: str) -> None:
    script = f"SHOW STREAMS;\n  EXPLAIN\n    {text}  -- trailing comment\n;\nSHOW TABLES;"
    explain = parse(script)[1]
    assert isinstance(explain, ast.Explain) and explain.statement is not None
    assert explain.statement.text == text
    span = explain.statement.span
    assert span is not None and script[span.start : span.end] == text
    assert (span.line, span.column) == (3, 5)


def test_nested_explain_statements_each_get_their_text() -> None:
    outer = parse_statement("EXPLAIN EXPLAIN SELECT * FROM s GROUP BY a, (b)")
    assert isinstance(outer, ast.Explain) and isinstance(outer.statement, ast.Explain)
    assert outer.statement.text == "EXPLAIN SELECT * FROM s GROUP BY a, (b)"
    assert outer.statement.statement is not None
    assert outer.statement.statement.text == "SELECT * FROM s GROUP BY a, (b)"


def test_nested_text_after_variable_substitution() -> None:
    explain = parse_statement(
        "EXPLAIN SELECT * FROM ${src} PARTITION BY ABS(${col})", variables={"src": "s", "col": "v"}
    )
    assert isinstance(explain, ast.Explain) and explain.statement is not None
    assert explain.statement.text == "SELECT * FROM s PARTITION BY ABS(v)"


_QUERY_TAILED = (ast.SelectStatement, ast.CreateStreamAsSelect, ast.CreateTableAsSelect, ast.InsertInto)


@pytest.mark.parametrize(
    "text",
    [t for t in _EXPLAINABLE if isinstance(parse_statement(t), _QUERY_TAILED)],
)
def test_a_query_span_runs_to_the_end_of_its_statement(text: str) -> None:
    statement = parse_statement(text)
    assert isinstance(statement, _QUERY_TAILED)
    span = statement.query.span
    assert span is not None
    assert text[span.start : span.start + 6].upper() == "SELECT"
    assert span.end == len(text)


def test_clause_spans_cover_grouping_lists() -> None:
    query = parse_statement("SELECT a FROM s GROUP BY a, b").query  # type: ignore[attr-defined]
    assert query.span.end == len("SELECT a FROM s GROUP BY a, b")


# ------------------------------------------------------------------------------------------------------
# RUN SCRIPT: a command of ksqlDB's CLI (which reads the file and sends its statements) and of its
# test language (SqlTestReader runs the file's statements in place). ksqlDB's main grammar has no
# RUN SCRIPT statement and reserves RUN, so a server answers it with a syntax error.


def test_run_script_in_test_mode() -> None:
    statements = parse(
        "run script '/tmp/it''s here.sql';\nRUN SCRIPT 'b.sql'; SHOW STREAMS", allow_test_statements=True
    )
    assert statements == [ast.RunScript("/tmp/it's here.sql"), ast.RunScript("b.sql"), ast.ListStreams()]
    assert [s.text for s in statements] == [
        "run script '/tmp/it''s here.sql'",
        "RUN SCRIPT 'b.sql'",
        "SHOW STREAMS",
    ]
    assert parse_statement("RUN SCRIPT 'x.sql';", allow_test_statements=True) == ast.RunScript("x.sql")


def test_run_script_outside_test_mode_is_ksqldbs_syntax_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse("SHOW STREAMS;\nRUN SCRIPT 'x.sql';")
    error = caught.value
    assert (error.line, error.column) == (2, 1)
    assert error.message.startswith("Syntax Error\nmismatched input 'RUN' expecting {")
    assert "'SELECT'" in error.message and "reserved keyword" not in error.message


@pytest.mark.parametrize("allow", [False, True])
def test_run_script_cannot_be_explained(allow: bool) -> None:
    with pytest.raises(ParseError) as caught:
        parse("EXPLAIN RUN SCRIPT 'x.sql'", allow_test_statements=allow)
    assert (caught.value.line, caught.value.column) == (1, 9)
    assert caught.value.message.startswith("Syntax Error\nmismatched input 'RUN'")


def test_run_script_needs_a_quoted_path() -> None:
    with pytest.raises(ParseError) as caught:
        parse('RUN SCRIPT "x.sql"', allow_test_statements=True)
    assert (caught.value.line, caught.value.column) == (1, 12)
    assert "expecting STRING" in caught.value.message
