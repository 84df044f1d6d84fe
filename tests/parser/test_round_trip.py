"""parse -> to_sql -> parse gives an equal statement, and printing is stable.

The fixture tests/fixtures/parser/identity.sql holds over 300 statements covering every statement kind
and expression form; the conformance corpus is round-tripped too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import corpus
import lark
import pytest

from headwater.errors import ParseError
from headwater.parser import ast, parse, to_sql
from headwater.parser import expressions as ex
from headwater.parser.lexer import split_statements

_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parser"
IDENTITY = (_FIXTURES / "identity.sql").read_text(encoding="utf-8")


def _identity_statements() -> list[ast.Statement]:
    return parse(IDENTITY, allow_test_statements=True)


def _round_trip(statement: ast.Statement) -> None:
    printed = to_sql(statement)
    again = parse(printed, allow_test_statements=True)
    assert again == [statement], f"{statement.text!r} printed as {printed!r} reads back differently"
    assert to_sql(again[0]) == printed, f"printing {printed!r} is not stable"


def test_identity_fixture_has_at_least_300_statements() -> None:
    assert len(_identity_statements()) >= 300


@pytest.mark.parametrize("text", split_statements(IDENTITY))
def test_identity_statement_round_trips(text: str) -> None:
    (statement,) = parse(text, allow_test_statements=True)
    _round_trip(statement)


def _all_subclasses(base: type) -> set[str]:
    """Names of the concrete subclasses of ``base``. (Names, because ``dataclass(slots=True)``
    replaces each class, and the replaced one still shows in ``__subclasses__``.)"""
    found: set[str] = set()
    sub: type
    for sub in base.__subclasses__():
        if dataclasses.is_dataclass(sub):
            found.add(sub.__name__)
        found |= _all_subclasses(sub)
    return found


def test_identity_fixture_covers_every_statement_kind() -> None:
    seen = {type(s) for s in _identity_statements()}
    seen |= {type(s.statement) for s in _identity_statements() if isinstance(s, ast.Explain) and s.statement}
    missing = _all_subclasses(ast.Statement) - {cls.__name__ for cls in seen}
    assert not missing


def test_identity_fixture_covers_every_expression_form() -> None:
    seen: set[type] = set()
    for statement in _identity_statements():
        seen |= {type(node) for node in ex.walk(statement)}
    # TypedLiteral: ksqlDB's AstBuilder rejects every type constructor but DECIMAL, which it reads
    # as a DecimalLiteral, so the parser never produces one.
    expected = _all_subclasses(ex.Expression) - {"TypedLiteral"}
    expected |= {"TumblingWindow", "HoppingWindow", "SessionWindow", "Join", "WithinExpression", "WhenClause"}
    expected |= {"AllColumns", "StructAll", "SingleColumn", "TableElement", "Property"}
    assert expected - {cls.__name__ for cls in seen} == set()


def test_every_join_type_window_unit_and_constraint_is_covered() -> None:
    nodes = [node for statement in _identity_statements() for node in ex.walk(statement)]
    assert {n.join_type for n in nodes if isinstance(n, ast.Join)} == set(ast.JoinType)
    assert {n.unit for n in nodes if isinstance(n, ex.Duration)} == set(ex.TimeUnit)
    assert {n.constraint for n in nodes if isinstance(n, ast.TableElement)} == set(ast.ColumnConstraint)
    assert {n.op for n in nodes if isinstance(n, ex.ComparisonOp | ex.Comparison)} >= set(ex.ComparisonOp)
    assert {n.op for n in nodes if isinstance(n, ex.ArithmeticBinary)} == set(ex.ArithmeticOp)


def test_no_parse_tree_leaks_into_statements() -> None:
    """Every grammar rule has a builder callback: no lark Tree or Token is left in a statement."""

    def check(value: object, path: str) -> None:
        assert not isinstance(value, lark.Tree | lark.Token), path
        if isinstance(value, tuple):
            for index, item in enumerate(value):
                check(item, f"{path}[{index}]")
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                check(getattr(value, field.name), f"{path}.{field.name}")

    for statement in _identity_statements():
        check(statement, type(statement).__name__)


def test_statement_text_and_span_are_the_source_slice() -> None:
    statements = _identity_statements()
    for statement in statements:
        span = statement.span
        assert span is not None
        assert IDENTITY[span.start : span.end] == statement.text
        assert not statement.text.endswith(";")
        line_start = IDENTITY.rfind("\n", 0, span.start) + 1
        assert span.column == span.start - line_start + 1
        assert span.line == IDENTITY.count("\n", 0, span.start) + 1


def test_printing_is_canonical_for_equivalent_spellings() -> None:
    spellings = [
        "select a as b from s where x>1 emit changes",
        "SELECT A AS B FROM S WHERE (X > 1) EMIT CHANGES",
        "Select  a  B\nFROM s /* c */ WHERE x > 1 -- c\n EMIT CHANGES;",
    ]
    printed = {to_sql(parse(text)[0]) for text in spellings}
    assert printed == {"SELECT A AS B FROM S WHERE (X > 1) EMIT CHANGES"}


def test_every_corpus_statement_round_trips() -> None:
    count = 0
    for case in corpus.corpus_cases():
        try:
            statements = parse(case.script, allow_test_statements=case.test_statements)
        except ParseError:
            continue
        for statement in statements:
            _round_trip(statement)
            count += 1
    assert count > 4000
