"""Every statement of ksqlDB's functional test corpus parses exactly when ksqlDB's parser accepts it.

* Cases that expect ``ParseFailedException`` must fail on their last statement (the earlier ones must
  parse), with a message containing the one the case expects.
* Every other case must parse completely, unless ksqlDB itself rejects the statement while parsing:
  then the case's expected message (a text only ksqlDB's parser produces, such as "'X' is not a valid
  stream/table name or alias.") must be in our error.
* RQTT cases send their admin statements as one request and each query (a statement starting with
  ``SELECT ``) as its own, so they are parsed that way.

The summary line is printed (run with ``-s`` to see it).
"""

from __future__ import annotations

import contextlib

import corpus
import pytest

from headwater.errors import ParseError
from headwater.parser import ast, parse

# Cases whose outcome differs from ksqlDB's, by name, with the reason. Empty: none differ.
KNOWN_DIFFERENCES: dict[str, str] = {}


def _requests(case) -> list[str]:
    """The scripts ksqlDB's runner parses for a case: one for QTT and sql-tests; for RQTT the admin
    statements together, then each query alone."""
    if not case.name.startswith("rqtt/"):
        return [case.script]
    admin = [s for s in case.statements if not s.startswith("SELECT ")]
    queries = [s for s in case.statements if s.startswith("SELECT ")]
    return (["\n".join(admin)] if admin else []) + queries


def _check_case(case) -> tuple[str | None, int]:
    """None when the case behaves as in ksqlDB, else the reason; plus the statements parsed."""
    parsed = 0
    for request in _requests(case):
        try:
            parsed += len(parse(request, allow_test_statements=case.test_statements))
        except ParseError as error:
            expected = case.expected_message
            if expected and case.name.startswith("rqtt/"):
                # The REST layer appends the statement to the parser's message.
                expected = expected.split("\n\nStatement: ")[0]
            if case.expects_parse_failure:
                earlier = "\n".join(case.statements[:-1])
                try:
                    parse(earlier)
                except ParseError as early:
                    return f"a statement before the last one failed: {early}", parsed
                if expected and expected not in str(error):
                    return f"message {expected!r} not in {str(error)!r}", parsed
                return None, parsed
            if expected and expected in str(error):
                return None, parsed  # rejected while parsing, as ksqlDB does
            return f"failed to parse: {error}", parsed
    if case.expects_parse_failure:
        return "parsed, but ksqlDB fails to parse it", parsed
    return None, parsed


@pytest.fixture(scope="module")
def outcomes() -> list[tuple[object, str | None, int]]:
    cases = corpus.corpus_cases()
    assert cases, f"no conformance cases found under {corpus.conformance_root()}"
    results = []
    for case in cases:
        reason, parsed = _check_case(case)
        results.append((case, reason, parsed))
    return results


def test_every_case_parses_as_in_ksqldb(outcomes) -> None:
    failures = {
        case.name: reason for case, reason, _ in outcomes if reason and case.name not in KNOWN_DIFFERENCES
    }
    statements = sum(parsed for _, _, parsed in outcomes)
    negative = sum(1 for case, _, _ in outcomes if case.expects_parse_failure)
    agreeing = len(outcomes) - len(failures)
    print(
        f"\nconformance corpus: {agreeing}/{len(outcomes)} cases as in ksqlDB "
        f"({statements} statements parsed, {negative} cases expecting a parse failure); "
        f"{len(KNOWN_DIFFERENCES)} known differences"
    )
    for name, reason in sorted(KNOWN_DIFFERENCES.items()):
        print(f"  known difference: {name}: {reason}")
    assert not failures, "\n".join(f"{name}: {reason}" for name, reason in sorted(failures.items()))


def test_corpus_is_complete_enough_to_mean_something(outcomes) -> None:
    # The shared subset holds 17 expanded cases expecting ParseFailedException and ~5,000 statements.
    assert sum(1 for case, _, _ in outcomes if case.expects_parse_failure) >= 15
    assert sum(parsed for _, _, parsed in outcomes) > 4000
    assert any(case.name.startswith("sql/") for case, _, _ in outcomes)


def test_parse_failure_cases_fail_on_their_last_statement() -> None:
    cases = [c for c in corpus.corpus_cases() if c.expects_parse_failure and len(c.statements) > 1]
    assert cases
    for case in cases:
        with pytest.raises(ParseError) as raised:
            parse(case.script)
        last_line = case.script.count("\n") + 1
        assert raised.value.line == last_line, case.name


def test_corpus_statement_kinds_include_the_common_ones() -> None:
    kinds: set[type] = set()
    for case in corpus.corpus_cases():
        for request in _requests(case):
            with contextlib.suppress(ParseError):
                kinds.update(type(s) for s in parse(request, allow_test_statements=case.test_statements))
    for kind in (
        ast.CreateStream,
        ast.CreateTable,
        ast.CreateStreamAsSelect,
        ast.CreateTableAsSelect,
        ast.InsertInto,
        ast.InsertValues,
        ast.SelectStatement,
        ast.AssertValues,
        ast.AssertSource,
    ):
        assert kind in kinds, kind.__name__
