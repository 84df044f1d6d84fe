"""Loading RQTT files: comments, exact decimals, validation messages, format expansion, query split."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from headwater.conformance.jsonc import TestFileError
from headwater.conformance.rest_executor import rest_skip_reason, with_unique_topics
from headwater.conformance.rest_loader import expand_rest_test_object, load_rest_file, load_rest_paths

CREATE = "CREATE STREAM S (K INT KEY, V DOUBLE) WITH (kafka_topic='test_topic', value_format='{FORMAT}');"


def _test(**fields: Any) -> dict[str, Any]:
    test: dict[str, Any] = {
        "name": "t",
        "statements": [CREATE.replace("{FORMAT}", "JSON"), "SELECT * FROM S;"],
        "responses": [{"admin": {"@type": "currentStatus"}}],
    }
    test.update(fields)
    return test


def test_comments_and_exact_decimals(tmp_path: Path) -> None:
    path = tmp_path / "pull.json"
    path.write_text(
        """{"tests": [ // the only test
          {"name": "t", "statements": ["CREATE STREAM S (V DOUBLE) WITH (kafka_topic='s', value_format='JSON');",
                                       "SELECT * FROM S;"],  // a pull query
           "inputs": [{"topic": "s", "value": {"V": 1.50}}],
           "responses": [{"query": [{"row": {"columns": [1.50]}}]}]}
        ]}""",
        encoding="utf-8",
    )
    [case] = load_rest_file(path)
    assert case.inputs[0].value == {"V": Decimal("1.50")}
    columns = case.responses[0]["query"][0]["row"]["columns"]
    assert columns == [Decimal("1.50")] and str(columns[0]) == "1.50"


def test_format_matrix_names_and_statement_split() -> None:
    cases = expand_rest_test_object(
        "limit.json", _test(format=["JSON", "PROTOBUF"], statements=[CREATE, "SELECT * FROM S LIMIT 1;"])
    )
    assert [c.name for c in cases] == ["limit - t - JSON", "limit - t - PROTOBUF"]
    assert "value_format='PROTOBUF'" in cases[1].statements[0]
    assert cases[0].admin_statements == (CREATE.replace("{FORMAT}", "JSON"),)
    assert cases[0].queries == ("SELECT * FROM S LIMIT 1;",)
    assert rest_skip_reason(cases[0]) is None and rest_skip_reason(cases[1]) == "needs PROTOBUF"


def test_only_the_exact_select_prefix_makes_a_query() -> None:
    [case] = expand_rest_test_object("f.json", _test(statements=[CREATE, "select * from S;"]))
    assert case.queries == () and len(case.admin_statements) == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "a test has no name"),
        ({"statements": []}, "statements: is required and must not be empty"),
        (
            {"inputs": [{"topic": "s", "value": 1}], "expectedError": {"status": 400}},
            "inputs and expectedError can not both be set",
        ),
        ({"expectedError": {}}, "expectedError: needs a type, a message or a status"),
        ({"responses": [{"admin": {}, "query": []}]}, "responses[0]: must have exactly one key"),
        ({"responses": [{"rows": []}]}, "responses[0]: must have exactly one key"),
        (
            {"testPullWithProtoFormat": True, "responses": [{"query": []}]},
            "Number of query responses must be equal to number of queryProto responses",
        ),
    ],
)
def test_invalid_tests_are_refused_with_where(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(TestFileError) as caught:
        expand_rest_test_object("bad.json", _test(**fields))
    assert message in str(caught.value) and "bad.json" in str(caught.value)


def test_conditions_and_flags() -> None:
    [case] = expand_rest_test_object(
        "f.json",
        _test(
            inputConditions={"waitForActivePushQuery": True},
            outputConditions={"verifyOrder": True},
            testPullWithProtoFormat=True,
            responses=[{"query": []}, {"queryProto": []}],
        ),
    )
    assert case.wait_for_active_push_query and case.verify_order and case.proto_output
    assert rest_skip_reason(case) == "needs protobuf query output (testPullWithProtoFormat)"


def test_unique_topics_replace_every_occurrence() -> None:
    [case] = expand_rest_test_object(
        "f.json",
        _test(
            statements=[CREATE.replace("{FORMAT}", "JSON")],
            topics=[{"name": "test_topic", "partitions": 2}],
            outputs=[{"topic": "test_topic", "key": 1, "value": {"V": 1}}],
            responses=[{"admin": {"@type": "currentStatus", "note": "on test_topic"}}],
        ),
    )
    unique = with_unique_topics(case, "abcd1234")
    assert "kafka_topic='test_topic_abcd1234'" in unique.statements[0]
    assert unique.topics[0].name == "test_topic_abcd1234" and unique.topics[0].partitions == 2
    assert unique.outputs[0].topic == "test_topic_abcd1234"
    assert unique.responses[0]["admin"]["note"] == "on test_topic_abcd1234"
    assert len(with_unique_topics(case).statements[0]) == len(unique.statements[0])


def test_duplicate_names_spoil_their_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"tests": [_test()]}), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"tests": [_test(), _test()]}), encoding="utf-8")
    loaded = load_rest_paths([tmp_path])
    assert [c.name for c in loaded.cases] == ["a - t"]
    assert "duplicate test name 'b - t'" in loaded.file_errors["b.json"]


def test_the_public_corpus_loads(tmp_path: Path) -> None:
    corpus = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "rqtt"
    if not corpus.is_dir():
        pytest.skip("the conformance corpus is not there")
    loaded = load_rest_paths([corpus])
    assert loaded.file_errors == {}
    assert len(loaded.cases) >= 300
    assert len({c.name for c in loaded.cases}) == len(loaded.cases)


def test_records_and_topics_are_read_as_qtt_reads_them() -> None:
    # one reader for both harnesses: the same checks, the same messages naming file, test and field
    from headwater.conformance.loader import expand_test_object

    bad_window = {"topic": "s", "key": 1, "value": {"V": 1}, "window": {"start": 0, "end": 10, "type": "DAY"}}
    qtt = {"name": "t", "statements": [CREATE.replace("{FORMAT}", "JSON")], "inputs": [bad_window]}
    with pytest.raises(TestFileError) as rest_error:
        expand_rest_test_object("f.json", _test(inputs=[bad_window]))
    with pytest.raises(TestFileError) as qtt_error:
        expand_test_object("f.json", qtt)
    assert str(rest_error.value) == str(qtt_error.value)
    assert (
        str(qtt_error.value) == "f.json, test 't', inputs[0].window.type: must be TIME or SESSION, not 'DAY'"
    )
    [case] = expand_rest_test_object("f.json", _test(topics=[{"name": "test_topic"}], enabled="false"))
    assert case.topics[0].partitions == 1 and case.topics[0].replicas == 1 and not case.enabled
