"""Planner rewrite rules against their fixture files: each line is an input expression and the expected
result, both as SQL (STYLE.md: one rule per module, one fixture file per rule)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from headwater.engine.planner.rules import WHERE_RULES, apply_rules
from headwater.engine.planner.rules.pseudo_timestamp_literals import (
    parse_partial_timestamp,
    pseudo_timestamp_literals,
)
from headwater.errors import PlanError
from headwater.parser import parse_expression, to_sql

FIXTURES = Path(__file__).parent


def _cases(name: str) -> list[tuple[str, str]]:
    cases = []
    for line in (FIXTURES / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            given, expected = line.split("  =>  ")
            cases.append((given.strip(), expected.strip()))
    return cases


@pytest.mark.parametrize(("given", "expected"), _cases("pseudo_timestamp_literals.txt"))
def test_pseudo_timestamp_literals(given: str, expected: str) -> None:
    assert to_sql(pseudo_timestamp_literals(parse_expression(given))) == expected
    assert to_sql(apply_rules(parse_expression(given), WHERE_RULES)) == expected


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2017", 1483228800000),
        ("2020-02", 1580515200000),
        ("2020-01-02T", 1577923200000),
        ("2020-12-02T13Z", 1606914000000),
        ("2017-11-13T23:59:58.999+0100", 1510613998999),
        ("2017-11-13T23:59:58.999-01:00", 1510621198999),
    ],
)
def test_partial_timestamps_parse_as_ksqldb_does(text: str, millis: int) -> None:
    assert parse_partial_timestamp(text) == millis


@pytest.mark.parametrize("text", ["2017-1-1", "2017-01-01T00:00:00.000+foo", "yesterday"])
def test_bad_timestamps_say_what_is_required(text: str) -> None:
    with pytest.raises(
        PlanError, match=f"(?s)Failed to parse timestamp '{re.escape(text)}'.*Required format is"
    ):
        parse_partial_timestamp(text)
