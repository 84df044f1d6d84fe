"""The stateless slice: which cases belong to it, and how its pass rate and failures are reported."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.conformance.loader import expand_test_object
from headwater.conformance.model import TestCase
from headwater.conformance.results import CaseResult, Status
from headwater.conformance.slices import (
    render_slice,
    rest_measures,
    stateful_reason,
    stateless_names,
    summarise_slice,
)

STREAM = "CREATE STREAM S (K INT KEY, V INT) WITH (kafka_topic='s', value_format='{FORMAT}');"
TABLE = "CREATE TABLE T (K INT PRIMARY KEY, V INT) WITH (kafka_topic='t', value_format='JSON');"


def _case(*statements: str, fmt: str = "JSON", **fields: Any) -> TestCase:
    test: dict[str, Any] = {
        "name": "t",
        "format": [fmt],
        "statements": list(statements),
        "inputs": [{"topic": "s", "key": 1, "value": {"V": 1}}],
    }
    test.update(fields)
    [case] = expand_test_object("slice.json", test)
    return case


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("CREATE STREAM O AS SELECT K, V + 1 AS W FROM S WHERE V > 0;", None),
        ("CREATE STREAM O AS SELECT K, V FROM S PARTITION BY V;", None),
        ("CREATE TABLE O AS SELECT K, COUNT(*) AS C FROM S GROUP BY K;", "CREATE TABLE AS SELECT"),
        ("CREATE STREAM O AS SELECT K, COUNT(*) AS C FROM S GROUP BY K;", "GROUP BY"),
        ("CREATE STREAM O AS SELECT * FROM S WINDOW TUMBLING (SIZE 1 SECOND);", "WINDOW"),
        ("CREATE STREAM O AS SELECT * FROM S JOIN S2 WITHIN 1 SECOND ON S.K = S2.K;", "JOIN"),
        ("CREATE STREAM O AS SELECT * FROM T;", "query over a table"),
        ("CREATE STREAM O AS SELEKT * FROM S GROUP BY K;", "unparsable statement naming GROUP BY"),
        ("CREATE STREAM O AS SELEKT * FROM S;", None),
    ],
)
def test_membership_by_statement(statement: str, reason: str | None) -> None:
    second = "CREATE STREAM S2 (K INT KEY, W INT) WITH (kafka_topic='s2', value_format='JSON');"
    assert stateful_reason(_case(STREAM, TABLE, second, statement)) == reason


def test_formats_windows_and_windowed_sources_leave_the_slice() -> None:
    csas = "CREATE STREAM O AS SELECT * FROM S;"
    assert stateful_reason(_case(STREAM, csas, fmt="DELIMITED")) is None
    assert stateful_reason(_case(STREAM, csas, fmt="AVRO")) == "skipped by the runner: needs AVRO"
    windowed = [{"topic": "s", "key": 1, "value": {"V": 1}, "window": {"start": 0, "end": 1, "type": "time"}}]
    assert stateful_reason(_case(STREAM, csas, inputs=windowed)) == "windowed records"
    source = STREAM.replace("value_format", "window_type='Tumbling', window_size='1 second', value_format")
    assert stateful_reason(_case(source, csas)) == "windowed source"


def test_summary_counts_only_the_slice_and_groups_failures() -> None:
    inside = [_case(STREAM, "CREATE STREAM O AS SELECT * FROM S;", name=f"n{i}") for i in range(3)]
    outside = _case(STREAM, "CREATE TABLE O AS SELECT K, COUNT(*) FROM S GROUP BY K;", name="agg")
    names = stateless_names([*inside, outside])
    assert names == {"slice - n0 - JSON", "slice - n1 - JSON", "slice - n2 - JSON"}
    results = [
        CaseResult("slice.json", "n0", "slice - n0 - JSON", Status.PASS),
        CaseResult("slice.json", "n1", "slice - n1 - JSON", Status.FAIL, "output differs: value differs\n.."),
        CaseResult("slice.json", "n2", "slice - n2 - JSON", Status.PASS),
        CaseResult("slice.json", "agg", "slice - agg - JSON", Status.FAIL, "PlanError: no"),
    ]
    summary = summarise_slice(results, names)
    assert (summary.passed, summary.total) == (2, 3)
    assert summary.failures == (("output differs: value differs", ("slice - n1 - JSON",)),)
    assert render_slice(summary).splitlines() == [
        "stateless JSON/DELIMITED/KAFKA/NONE cases: 2/3 passed (66.7%; target 95%)",
        "     1  output differs: value differs",
        "          slice - n1 - JSON",
    ]


def test_rest_measures_leave_skipped_cases_out() -> None:
    results = [
        CaseResult("insert-values.json", "a", "insert-values - a", Status.PASS),
        CaseResult("insert-values.json", "b", "insert-values - b", Status.SKIP, "needs AVRO"),
        CaseResult("pull-queries-against-streams.json", "c", "pull - c", Status.PASS),
        CaseResult("pull-queries-against-streams.json", "d", "pull - d", Status.FAIL, "response differs"),
        CaseResult("pull-queries-protobuf.json", "e", "pull - e", Status.SKIP, "needs protobuf query output"),
    ]
    everything, pull = rest_measures(results)
    assert (everything.passed, everything.total, pull.passed, pull.total) == (2, 3, 1, 2)
    assert everything.render() == "RQTT cases that need no schema registry: 2/3 passed (66.7%; target 90%)"
    assert pull.render().startswith(
        "RQTT pull-query cases (pull-queries-*.json) that need no schema registry: 1/2"
    )
