"""Running single cases end to end on the real engine: verdicts, exception matching, resumed mode."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from headwater.conformance.executor import run_case
from headwater.conformance.loader import expand_test_object
from headwater.conformance.model import TestCase
from headwater.conformance.results import Status

SOURCE = "CREATE STREAM INPUT (K STRING KEY, ID BIGINT, NAME STRING) WITH (kafka_topic='input', value_format='JSON');"
CSAS = "CREATE STREAM OUTPUT AS SELECT K, ID, NAME FROM INPUT WHERE ID > 1;"
INPUTS = [
    {"topic": "input", "key": "a", "value": {"ID": 1, "NAME": "one"}, "timestamp": 10},
    {"topic": "input", "key": "b", "value": {"id": 2, "name": "two"}, "timestamp": 20},
    {"topic": "input", "key": "c", "value": {"ID": 3, "NAME": "three"}, "timestamp": 30},
]
OUTPUTS = [
    {"topic": "OUTPUT", "key": "b", "value": {"ID": 2, "NAME": "two"}, "timestamp": 20},
    {"topic": "OUTPUT", "key": "c", "value": {"ID": 3, "NAME": "three"}, "timestamp": 30},
]


def _case(**fields: Any) -> TestCase:
    test: dict[str, Any] = {"name": "t", "statements": [SOURCE, CSAS], "inputs": INPUTS, "outputs": OUTPUTS}
    test.update(fields)
    [case] = expand_test_object("executor.json", test)
    return case


def _run(case: TestCase, tmp_path: Path, mode: str = "straight") -> Any:
    return run_case(case, mode=mode, timeout=60, work_dir=tmp_path)


def test_a_passing_case(tmp_path: Path) -> None:
    result = _run(_case(), tmp_path)
    assert (result.status, result.reason) == (Status.PASS, "")
    assert result.digest and result.name == "executor - t"
    assert list(tmp_path.iterdir()) == []  # the data directory is removed


def test_resumed_mode_gives_the_same_records(tmp_path: Path) -> None:
    straight = _run(_case(), tmp_path)
    resumed = _run(_case(), tmp_path, mode="resumed")
    assert resumed.status is Status.PASS and resumed.digest == straight.digest


def test_wrong_output_fails_with_both_records(tmp_path: Path) -> None:
    wrong = [OUTPUTS[0], {**OUTPUTS[1], "value": {"ID": 3, "NAME": "THREE"}}]
    result = _run(_case(outputs=wrong), tmp_path)
    assert result.status is Status.FAIL
    assert result.summary == "output differs: value differs"
    assert "Topic 'OUTPUT', message 1" in result.reason and '"NAME":"THREE"' in result.reason


def test_wrong_count_fails(tmp_path: Path) -> None:
    result = _run(_case(outputs=OUTPUTS[:1]), tmp_path)
    assert result.status is Status.FAIL and result.summary == "output count differs"
    assert "Topic OUTPUT. Expected <1> records but it was <2>" in result.reason


def test_statement_error_matches_expected_exception(tmp_path: Path) -> None:
    case = _case(
        statements=[SOURCE, "CREATE STREAM OUTPUT AS SELECT K, NOPE FROM INPUT;"],
        inputs=[],
        outputs=[],
        expectedException={"type": "io.confluent.ksql.util.KsqlStatementException", "message": "NOPE"},
    )
    assert _run(case, tmp_path).status is Status.PASS


def test_parse_error_is_a_parse_failed_exception(tmp_path: Path) -> None:
    case = _case(
        statements=[SOURCE, "CREATE STREAM OUTPUT AS SELEKT * FROM INPUT;"],
        inputs=[],
        outputs=[],
        expectedException={"type": "io.confluent.ksql.parser.exception.ParseFailedException"},
    )
    assert _run(case, tmp_path).status is Status.PASS
    wrong = _case(
        statements=[SOURCE, "CREATE STREAM OUTPUT AS SELEKT * FROM INPUT;"],
        inputs=[],
        outputs=[],
        expectedException={"type": "io.confluent.ksql.function.KsqlFunctionException"},
    )
    result = _run(wrong, tmp_path)
    assert result.status is Status.FAIL
    assert result.summary.startswith("a different exception was thrown: ParseError: ")


def test_only_the_last_statement_may_fail(tmp_path: Path) -> None:
    case = _case(
        statements=["CREATE STREAM X AS SELECT * FROM MISSING;", SOURCE],
        inputs=[],
        outputs=[],
        expectedException={"type": "io.confluent.ksql.util.KsqlStatementException"},
    )
    result = _run(case, tmp_path)
    assert result.status is Status.FAIL
    assert result.summary == "Only the last statement in a negative test should fail."


def test_negative_case_without_inputs_must_throw_during_statements(tmp_path: Path) -> None:
    case = _case(inputs=[], outputs=[], expectedException={"message": "anything"})
    result = _run(case, tmp_path)
    assert result.status is Status.FAIL and "Expected test to throw" in result.reason


def test_case_without_queries_fails(tmp_path: Path) -> None:
    result = _run(_case(statements=[SOURCE], outputs=[]), tmp_path)
    assert result.status is Status.FAIL and result.summary == "test did not generate any queries"


def test_input_topic_without_a_source(tmp_path: Path) -> None:
    inputs = [*INPUTS, {"topic": "elsewhere", "value": "x"}]
    result = _run(_case(inputs=inputs), tmp_path)
    assert result.status is Status.FAIL and result.summary == "No information found for topic"
    matched = _case(
        inputs=inputs,
        expectedException={"type": "io.confluent.ksql.util.KsqlException", "message": "elsewhere"},
    )
    assert _run(matched, tmp_path).status is Status.PASS


def test_unexpected_engine_error_names_the_category(tmp_path: Path) -> None:
    result = _run(_case(statements=[SOURCE, "CREATE STREAM OUTPUT AS SELECT K, NOPE FROM INPUT;"]), tmp_path)
    assert result.status is Status.FAIL and result.summary.startswith("PlanError: ")


def test_post_conditions_are_checked(tmp_path: Path) -> None:
    good = {
        "sources": [{"name": "OUTPUT", "type": "stream", "schema": "K STRING KEY, ID BIGINT, NAME STRING"}]
    }
    assert _run(_case(post=good), tmp_path).status is Status.PASS
    bad = {"sources": [{"name": "OUTPUT", "type": "table"}]}
    result = _run(_case(post=bad), tmp_path)
    assert result.status is Status.FAIL and result.summary == "post condition: source type differs"


def test_delimited_and_kafka_formats_round_trip(tmp_path: Path) -> None:
    case = _case(
        statements=[
            "CREATE STREAM INPUT (K INT KEY, ID BIGINT, V DOUBLE) WITH (kafka_topic='input', value_format='DELIMITED');",
            "CREATE STREAM OUTPUT WITH (value_format='KAFKA') AS SELECT K, V FROM INPUT;",
        ],
        inputs=[{"topic": "input", "key": 7, "value": "1,2.5"}],
        outputs=[{"topic": "OUTPUT", "key": 7, "value": Decimal("2.5"), "timestamp": 0}],
    )
    result = _run(case, tmp_path)
    assert result.status is Status.PASS, result.reason


def test_skipped_cases_do_not_run(tmp_path: Path) -> None:
    result = _run(_case(format=["AVRO"]), tmp_path)
    assert (result.status, result.reason) == (Status.SKIP, "needs AVRO")


@pytest.mark.parametrize("mode", ["straight", "resumed"])
def test_test_functions_are_available(tmp_path: Path, mode: str) -> None:
    case = _case(
        statements=[
            "CREATE STREAM INPUT (K STRING KEY, ID BIGINT) WITH (kafka_topic='input', value_format='DELIMITED');",
            "CREATE STREAM OUTPUT AS SELECT K, test_udf(ID, NULL), test_udf(ID, ID, NULL) FROM INPUT;",
        ],
        inputs=[{"topic": "input", "key": "a", "value": "0"}],
        outputs=[{"topic": "OUTPUT", "key": "a", "value": "doStuffLongString,doStuffLongLongString"}],
    )
    assert _run(case, tmp_path, mode).status is Status.PASS


def test_inputs_can_go_to_a_query_sink(tmp_path: Path) -> None:
    """A case may produce to the topic another query writes (a typed topic here): the records are stored
    as that sink's rows and read by the queries over it."""
    case = _case(
        statements=[
            "CREATE STREAM A (K STRING KEY, V INT) WITH (kafka_topic='a', value_format='JSON');",
            "CREATE STREAM B AS SELECT * FROM A;",
            "CREATE STREAM C AS SELECT K, V * 2 AS W FROM B;",
        ],
        inputs=[{"topic": "B", "key": "x", "value": {"V": 5}, "timestamp": 3}],
        outputs=[
            {"topic": "B", "key": "x", "value": {"V": 5}, "timestamp": 3},
            {"topic": "C", "key": "x", "value": {"W": 10}, "timestamp": 3},
        ],
    )
    result = _run(case, tmp_path)
    assert result.status is Status.PASS, result.reason


def test_a_refused_property_is_a_ksql_exception(tmp_path: Path) -> None:
    case = _case(properties={"ksql.functions.substring.legacy.args": "maybe"})
    result = _run(case, tmp_path)
    assert result.status is Status.FAIL and "ksql.functions.substring.legacy.args" in result.summary
    matched = _case(
        properties={"ksql.functions.substring.legacy.args": "maybe"},
        expectedException={"type": "io.confluent.ksql.util.KsqlException", "message": "Invalid value maybe"},
    )
    assert _run(matched, tmp_path).status is Status.PASS


def test_keyless_sinks_read_back_every_record(tmp_path: Path) -> None:
    """Sinks without key columns (KAFKA and NONE key formats) hold as many records as went in: the row
    count reaches the key encoder, which has no column to read it from."""
    case = _case(
        statements=[
            "CREATE STREAM KEYLESS (V INT) WITH (kafka_topic='keyless', value_format='JSON');",
            "CREATE STREAM NOKEY AS SELECT V FROM KEYLESS;",
            "CREATE STREAM NONEKEY WITH (key_format='NONE') AS SELECT V + 1 AS W FROM KEYLESS;",
        ],
        inputs=[
            {"topic": "keyless", "value": {"V": 1}, "timestamp": 1},
            {"topic": "keyless", "value": {"V": 2}, "timestamp": 2},
        ],
        outputs=[
            {"topic": "NOKEY", "key": None, "value": {"V": 1}, "timestamp": 1},
            {"topic": "NOKEY", "key": None, "value": {"V": 2}, "timestamp": 2},
            {"topic": "NONEKEY", "key": None, "value": {"W": 2}, "timestamp": 1},
            {"topic": "NONEKEY", "key": None, "value": {"W": 3}, "timestamp": 2},
        ],
    )
    result = _run(case, tmp_path)
    assert result.status is Status.PASS, result.reason


def test_a_stream_record_without_a_value_reaches_the_sink_as_one(tmp_path: Path) -> None:
    """ksqlDB carries a null value through a stream projection: the sink holds a record with a null
    value (a typed row flagged ``__tombstone``), not a row of nulls and not nothing."""
    case = _case(
        statements=[SOURCE, "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;"],
        inputs=[INPUTS[0], {"topic": "input", "key": "z", "value": None, "timestamp": 15}],
        outputs=[
            {"topic": "OUTPUT", "key": "a", "value": {"ID": 1, "NAME": "one"}, "timestamp": 10},
            {"topic": "OUTPUT", "key": "z", "value": None, "timestamp": 15},
        ],
    )
    result = _run(case, tmp_path)
    assert result.status is Status.PASS, result.reason


@pytest.mark.parametrize("mode", ["straight", "resumed"])
def test_a_record_without_a_key_keeps_no_key_through_several_key_columns(tmp_path: Path, mode: str) -> None:
    """A record with no key at all and one whose key columns are all NULL differ in ksqlDB's output
    (null key, and a key object of nulls): the sink's absent-key column tells them apart."""
    source = "CREATE STREAM I (K INT KEY, K2 INT KEY, V INT) WITH (kafka_topic='i', format='JSON');"
    case = _case(
        statements=[source, "CREATE STREAM OUTPUT AS SELECT * FROM I;"],
        inputs=[
            {"topic": "i", "key": {"K": None, "K2": None}, "value": {"V": 1}},
            {"topic": "i", "key": None, "value": {"V": 2}},
        ],
        outputs=[
            {"topic": "OUTPUT", "key": {"K": None, "K2": None}, "value": {"V": 1}},
            {"topic": "OUTPUT", "key": None, "value": {"V": 2}},
        ],
    )
    result = _run(case, tmp_path, mode)
    assert result.status is Status.PASS, result.reason


@pytest.mark.parametrize("mode", ["straight", "resumed"])
def test_a_sink_with_several_partitions_reads_back_in_production_order(tmp_path: Path, mode: str) -> None:
    """ksqlDB's stub Kafka keeps one order per topic: "d" (partition 1 of 2), then "a" (partition 0), then
    "d" again must read back in that order, not partition by partition."""
    source = (
        "CREATE STREAM I (K STRING KEY, V INT) WITH (kafka_topic='i', value_format='JSON', partitions=2);"
    )
    case = _case(
        statements=[source, "CREATE STREAM OUTPUT AS SELECT * FROM I;"],
        inputs=[{"topic": "i", "key": k, "value": {"V": v}} for k, v in (("d", 1), ("a", 2), ("d", 3))],
        outputs=[{"topic": "OUTPUT", "key": k, "value": {"V": v}} for k, v in (("d", 1), ("a", 2), ("d", 3))],
        post={"topics": {"topics": [{"name": "OUTPUT", "partitions": 2}]}},
    )
    result = _run(case, tmp_path, mode)
    assert result.status is Status.PASS, result.reason


def test_the_failing_statement_is_found_in_the_script() -> None:
    from headwater.conformance.executor import failed_statement_index
    from headwater.errors import ExecutionError, PlanError
    from headwater.parser import parse

    create = "CREATE STREAM A (V INT) WITH (kafka_topic='a', value_format='JSON')"
    statements = parse(f"{create};\nDROP STREAM A;")
    assert failed_statement_index(PlanError("no", statement=create), statements) == 0
    named = PlanError("no")
    named.statement_index = 0  # type: ignore[attr-defined]
    assert failed_statement_index(named, statements) == 0
    assert failed_statement_index(PlanError("no", statement="DROP STREAM A"), statements) == 1
    assert failed_statement_index(ExecutionError("unknown"), statements) == 1
