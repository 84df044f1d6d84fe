"""The QTT loader: comments, exact decimals, validation messages, expansion and names (FORMAT.md §2-§4)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from headwater.conformance.case_files import FORMAT_REPLACE_ERROR, case_name
from headwater.conformance.jsonc import TestFileError, load_jsonc, strip_comments
from headwater.conformance.loader import expand_test_object, load_paths, load_test_file
from headwater.conformance.model import HeaderSpec, WindowType

STREAM = "CREATE STREAM S (K STRING KEY, A INT) WITH (kafka_topic='s', value_format='{FORMAT}');"


def _test(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"name": "t", "statements": [STREAM], "inputs": [{"topic": "s", "value": "1"}]}
    base.update(fields)
    return base


# -- comments and numbers ------------------------------------------------------------------------------


def test_line_and_block_comments_are_removed_outside_strings() -> None:
    text = '{"a": 1, // trailing\n /* block\n over lines */ "b": "// kept /* kept */"}'
    assert load_jsonc(text) == {"a": 1, "b": "// kept /* kept */"}


def test_comment_removal_keeps_line_numbers() -> None:
    text = '{\n/* one\ntwo */\n"a": ,\n}'
    with pytest.raises(TestFileError, match="line 4 column 6"):
        load_jsonc(text)
    assert strip_comments(text).count("\n") == text.count("\n")


def test_escaped_quote_does_not_end_a_string() -> None:
    assert load_jsonc(r'{"a": "x\" // y"}') == {"a": 'x" // y'}


def test_unclosed_block_comment_is_reported() -> None:
    with pytest.raises(TestFileError, match="never closed"):
        load_jsonc('{"a": 1 /* open')


def test_decimals_keep_their_scale_and_integers_stay_integers() -> None:
    doc = load_jsonc('{"a": 1.50, "b": 1.5, "c": 2, "d": 1e3, "e": 9999999999}')
    assert doc["a"] == Decimal("1.50") and doc["a"].as_tuple().exponent == -2
    assert doc["b"].as_tuple().exponent == -1
    assert doc["c"] == 2 and isinstance(doc["c"], int)
    assert doc["d"] == Decimal("1E+3")
    assert doc["e"] == 9999999999 and isinstance(doc["e"], int)


def test_nan_is_not_json() -> None:
    with pytest.raises(TestFileError, match="NaN"):
        load_jsonc('{"a": NaN}')


# -- expansion and names --------------------------------------------------------------------------------


def test_name_without_matrices() -> None:
    [case] = expand_test_object("project-filter.json", _test(name="project and filter"))
    assert case.name == "project-filter - project and filter"
    assert case.test == "project and filter"
    assert case.file == "project-filter.json"
    assert case.statements[0].endswith(f"value_format='{FORMAT_REPLACE_ERROR}');")


def test_format_matrix_substitutes_statements_only() -> None:
    cases = expand_test_object(
        "joins.json",
        _test(name="on INT", format=["AVRO", "JSON"], outputs=[{"topic": "{FORMAT}", "value": "{FORMAT}"}]),
    )
    assert [c.name for c in cases] == ["joins - on INT - AVRO", "joins - on INT - JSON"]
    assert "value_format='JSON'" in cases[1].statements[0]
    assert cases[1].outputs[0].topic == "{FORMAT}" and cases[1].outputs[0].value == "{FORMAT}"
    assert [c.format for c in cases] == ["AVRO", "JSON"]


def test_config_matrix_is_the_inner_loop_and_sets_a_string() -> None:
    cases = expand_test_object(
        "formats.json",
        _test(
            name="x",
            format=["JSON", "KAFKA"],
            config=["true", "false"],
            properties={"ksql.new.query.planner.enabled": "{CONFIG}", "other": 1},
        ),
    )
    assert [c.name for c in cases] == [
        "formats - x - JSON - ksql.new.query.planner.enabled=true",
        "formats - x - JSON - ksql.new.query.planner.enabled=false",
        "formats - x - KAFKA - ksql.new.query.planner.enabled=true",
        "formats - x - KAFKA - ksql.new.query.planner.enabled=false",
    ]
    assert cases[1].properties == {"ksql.new.query.planner.enabled": "false", "other": 1}


def test_config_matrix_needs_exactly_one_placeholder() -> None:
    with pytest.raises(TestFileError, match="exactly one property"):
        expand_test_object("f.json", _test(config=["true"], properties={"a": "x"}))
    with pytest.raises(TestFileError, match="found 2"):
        expand_test_object("f.json", _test(config=["true"], properties={"a": "{config}", "b": "{CONFIG}"}))


def test_case_name_helper() -> None:
    assert case_name("dir/a.json", "n", "JSON", ("k", "v")) == "a - n - JSON - k=v"


# -- records --------------------------------------------------------------------------------------------


def test_records_carry_windows_headers_and_timestamps() -> None:
    [case] = expand_test_object(
        "w.json",
        _test(
            inputs=[{"topic": "s", "key": 1, "value": {"A": 1.0}, "timestamp": 10}],
            outputs=[
                {
                    "topic": "O",
                    "key": 0,
                    "value": "5",
                    "window": {"start": 0, "end": 30000, "type": "Time"},
                    "headers": [{"KEY": "abc", "VALUE": "IQ=="}, {"KEY": "n", "VALUE": None}],
                }
            ],
        ),
    )
    record = case.inputs[0]
    assert (record.key, record.timestamp, record.window, record.headers) == (1, 10, None, None)
    out = case.outputs[0]
    assert out.timestamp is None
    assert out.window is not None and out.window.type is WindowType.TIME and out.window.end == 30000
    assert out.headers == (HeaderSpec("abc", b"!"), HeaderSpec("n", None))


def test_unknown_keys_are_ignored() -> None:
    [case] = expand_test_object(
        "f.json", _test(comment="x", inputs=[{"topic": "s", "value": 1, "N4": 3, ",timestamp": 5}])
    )
    assert case.inputs[0].timestamp is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "a test has no name"),
        ({"statements": []}, "statements: is required"),
        ({"inputs": [], "outputs": []}, "no inputs, outputs or expectedException"),
        ({"inputs": [{"value": 1}]}, r"inputs\[0\]\.topic: is required"),
        ({"inputs": [{"topic": " s", "value": 1}]}, "whitespace"),
        ({"inputs": [{"topic": "s"}]}, r"inputs\[0\]\.value: is required"),
        ({"inputs": [{"topic": "s", "value": 1, "timestamp": "x"}]}, "must be an integer"),
        (
            {"inputs": [{"topic": "s", "value": 1, "window": {"start": 0, "end": 1, "type": "hopping"}}]},
            "TIME or SESSION",
        ),
        ({"inputs": [{"topic": "s", "value": 1, "headers": [{"KEY": "k", "VALUE": "%%"}]}]}, "not base64"),
        ({"expectedException": {}}, "needs a type or a message"),
        ({"expectedException": {"message": "m", "causeMessage": "c"}}, "causeMessage needs cause"),
        ({"post": {"sources": [{"name": "S", "type": "view"}]}}, "stream or table"),
    ],
)
def test_invalid_tests_name_file_test_and_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(TestFileError, match=message) as info:
        expand_test_object("bad.json", _test(**fields))
    assert str(info.value).startswith("bad.json")


def test_expected_exception_without_inputs_is_valid() -> None:
    [case] = expand_test_object(
        "f.json", _test(inputs=[], expectedException={"type": "io.confluent.ksql.util.KsqlException"})
    )
    assert case.expected_exception is not None and case.expected_exception.message is None


def test_post_conditions_are_read() -> None:
    [case] = expand_test_object(
        "f.json",
        _test(
            post={
                "sources": [
                    {
                        "name": "OUTPUT",
                        "type": "TABLE",
                        "schema": "ID INT KEY, V STRING",
                        "keyFormat": {"format": "KAFKA", "windowType": "HOPPING", "windowSize": 30000},
                        "valueFeatures": ["WRAP_SINGLES"],
                        "isSource": True,
                    }
                ],
                "topics": {"blacklist": ".*-repartition", "topics": [{"name": "OUTPUT", "partitions": 4}]},
            }
        ),
    )
    assert case.post is not None
    source = case.post.sources[0]
    assert source.type == "table" and source.key_format is not None
    assert source.key_format.window_size == 30000 and source.value_features == frozenset({"WRAP_SINGLES"})
    assert source.is_source is True and source.key_features is None
    assert case.post.blacklist == ".*-repartition" and case.post.topics[0].partitions == 4


# -- files ----------------------------------------------------------------------------------------------


def _write(path: Path, tests: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"tests": tests}), encoding="utf-8")
    return path


def test_disabled_tests_are_kept_but_marked(tmp_path: Path) -> None:
    _write(tmp_path / "a.json", [_test(name="on"), _test(name="off", enabled=False)])
    cases = load_test_file(tmp_path / "a.json")
    assert [(c.name, c.enabled) for c in cases] == [("a - on", True), ("a - off", False)]


def test_duplicate_names_spoil_their_file(tmp_path: Path) -> None:
    _write(tmp_path / "a.json", [_test(name="x")])
    (tmp_path / "b.json").write_text(json.dumps({"tests": [_test(name="x")]}), encoding="utf-8")
    _write(tmp_path / "c.json", [_test(name="x", format=["JSON"]), _test(name="x", format=["KAFKA"])])
    _write(tmp_path / "d.json", [_test(name="y"), _test(name="y")])
    result = load_paths([tmp_path])
    assert sorted(c.name for c in result.cases) == ["a - x", "b - x", "c - x - JSON", "c - x - KAFKA"]
    assert list(result.file_errors) == ["d.json"]
    assert "duplicate test name 'd - y'" in result.file_errors["d.json"]


def test_same_raw_name_with_different_formats_is_allowed(tmp_path: Path) -> None:
    _write(tmp_path / "e.json", [_test(name="x", format=["JSON"]), _test(name="x", format=["AVRO"])])
    assert len(load_paths([tmp_path]).cases) == 2


def test_bad_files_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"tests": [', encoding="utf-8")
    (tmp_path / "empty.json").write_text('{"tests": []}', encoding="utf-8")
    result = load_paths([tmp_path])
    assert result.cases == []
    assert "line 1" in result.file_errors["broken.json"]
    assert "tests: is required and must not be empty" in result.file_errors["empty.json"]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TestFileError, match="no such file"):
        load_paths([tmp_path / "nope.json"])


def test_the_public_corpus_loads(qtt_dir: Path) -> None:
    result = load_paths([qtt_dir])
    assert result.file_errors == {}
    names = [c.name for c in result.cases if c.enabled]
    assert len(names) == len(set(names))
    assert sum(1 for c in result.cases if not c.enabled) == 9
