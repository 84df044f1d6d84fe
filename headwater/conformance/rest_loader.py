"""Loading ksqlDB's RQTT files and expanding them into runnable cases (FORMAT.md §12.1).

The files are read as QTT files are (comments allowed, exact decimals, unknown keys ignored) and each
test object is validated as ksqlDB's ``RestTestCaseNode`` validates it: a name, at least one statement,
not both ``inputs`` and ``expectedError``, an ``expectedError`` with at least one field, responses of
exactly one key each, and as many ``query`` as ``queryProto`` responses when ``testPullWithProtoFormat``
is set. A test expands into one case per entry of its ``format`` list (``{FORMAT}`` substituted in the
statements); RQTT has no config matrix.

Example:
    >>> [case] = expand_rest_test_object("push.json", {
    ...     "name": "t", "statements": ["CREATE STREAM S (V INT) WITH (kafka_topic='s', value_format='JSON');",
    ...                                 "SELECT * FROM S EMIT CHANGES LIMIT 1;"],
    ...     "responses": [{"admin": {"@type": "currentStatus"}}]})
    >>> case.name, case.admin_statements[0][:13], case.queries
    ('push - t', 'CREATE STREAM', ('SELECT * FROM S EMIT CHANGES LIMIT 1;',))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from headwater.conformance.jsonc import TestFileError, load_jsonc
from headwater.conformance.loader import (
    FORMAT_REPLACE_ERROR,
    Where,
    boolean_field,
    case_name,
    find_test_files,
    integer_field,
    list_field,
    object_field,
    read_record,
    read_topic,
    string_field,
)
from headwater.conformance.rest_model import ExpectedError, RestTestCase

__all__ = ["RestLoadResult", "expand_rest_test_object", "load_rest_file", "load_rest_paths"]

_RESPONSE_KINDS = ("admin", "query", "queryProto")


def _read_expected_error(node: Any, where: Where) -> ExpectedError:
    obj = object_field(node, where)
    expected = ExpectedError(
        type=string_field(obj.get("type"), where.at("type")),
        message=string_field(obj.get("message"), where.at("message")),
        status=integer_field(obj.get("status"), where.at("status")),
    )
    if expected.type is None and expected.message is None and expected.status is None:
        raise where.error("needs a type, a message or a status")
    return expected


def _read_response(node: Any, where: Where) -> Mapping[str, Any]:
    obj = object_field(node, where)
    if len(obj) != 1 or next(iter(obj)) not in _RESPONSE_KINDS:
        raise where.error(f"must have exactly one key of {', '.join(_RESPONSE_KINDS)}, not {sorted(obj)}")
    return obj


def _flag(node: Any, key: str, where: Where) -> bool:
    if node is None:
        return False
    return boolean_field(object_field(node, where).get(key), where.at(key)) is True


def expand_rest_test_object(file_name: str, node: Any) -> list[RestTestCase]:
    """Validate one RQTT test object and expand it into cases, one per format.

    Raises:
        TestFileError: a required field is missing or has the wrong shape.
    """
    where = Where(file_name)
    obj = object_field(node, where)
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise where.error("a test has no name")
    where = Where(file_name, name)
    raw_statements = list_field(obj.get("statements"), where.at("statements"))
    if not raw_statements:
        raise where.at("statements").error("is required and must not be empty")
    statements = [
        str(string_field(s, where.at(f"statements[{i}]"), required=True))
        for i, s in enumerate(raw_statements)
    ]
    inputs = tuple(
        read_record(r, where.at(f"inputs[{i}]")) for i, r in enumerate(list_field(obj.get("inputs"), where))
    )
    outputs = tuple(
        read_record(r, where.at(f"outputs[{i}]")) for i, r in enumerate(list_field(obj.get("outputs"), where))
    )
    topics = tuple(
        read_topic(t, where.at(f"topics[{i}]")) for i, t in enumerate(list_field(obj.get("topics"), where))
    )
    properties = (
        object_field(obj["properties"], where.at("properties")) if obj.get("properties") is not None else {}
    )
    expected_error = (
        _read_expected_error(obj["expectedError"], where.at("expectedError"))
        if obj.get("expectedError") is not None
        else None
    )
    if inputs and expected_error is not None:
        raise where.error("inputs and expectedError can not both be set")
    responses = tuple(
        _read_response(r, where.at(f"responses[{i}]"))
        for i, r in enumerate(list_field(obj.get("responses"), where.at("responses")))
    )
    proto_output = (
        boolean_field(obj.get("testPullWithProtoFormat"), where.at("testPullWithProtoFormat")) is True
    )
    if proto_output:
        kinds = [next(iter(r)) for r in responses]
        if kinds.count("query") != kinds.count("queryProto"):
            raise where.at("responses").error(
                "Number of query responses must be equal to number of queryProto responses "
                "when `testPullWithProtoFormat` flag is set to `True`"
            )
    enabled = boolean_field(obj.get("enabled"), where.at("enabled")) is not False
    wait_for_push = _flag(obj.get("inputConditions"), "waitForActivePushQuery", where.at("inputConditions"))
    verify_order = _flag(obj.get("outputConditions"), "verifyOrder", where.at("outputConditions"))
    formats: list[str | None] = [
        str(string_field(f, where.at("format"), required=True))
        for f in list_field(obj.get("format"), where.at("format"))
    ] or [None]
    cases = []
    for fmt in formats:
        replacement = fmt if fmt is not None else FORMAT_REPLACE_ERROR
        cases.append(
            RestTestCase(
                file=Path(file_name).name,
                test=name,
                name=case_name(file_name, name, fmt),
                statements=tuple(s.replace("{FORMAT}", replacement) for s in statements),
                inputs=inputs,
                outputs=outputs,
                topics=topics,
                properties=dict(properties),
                format=fmt,
                responses=responses,
                expected_error=expected_error,
                wait_for_active_push_query=wait_for_push,
                verify_order=verify_order,
                proto_output=proto_output,
                enabled=enabled,
            )
        )
    return cases


def load_rest_file(path: Path | str) -> list[RestTestCase]:
    """Read one RQTT file and expand every test object in it, in file order.

    Raises:
        TestFileError: the file cannot be read, is not JSON, or breaks the format's rules.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise TestFileError(f"{path}: cannot be read: {e.strerror or e}") from None
    document = load_jsonc(text, source=str(path))
    where = Where(path.name)
    if not isinstance(document, dict):
        raise where.error("the top level must be an object with a 'tests' array")
    tests = list_field(document.get("tests"), where.at("tests"))
    if not tests:
        raise where.at("tests").error("test file did not contain any tests")
    cases: list[RestTestCase] = []
    for node in tests:
        cases.extend(expand_rest_test_object(path.name, node))
    return cases


class RestLoadResult:
    """Cases of every RQTT file that loaded, and a message per file that did not."""

    def __init__(self, cases: Iterable[RestTestCase], file_errors: Mapping[str, str]) -> None:
        self.cases = list(cases)
        self.file_errors = dict(file_errors)


def load_rest_paths(paths: Iterable[Path | str]) -> RestLoadResult:
    """Load every RQTT file under ``paths``; enabled expanded names must be unique across all of them
    (a duplicate makes the later file fail to load, as ksqlDB refuses to run with duplicates).

    Raises:
        TestFileError: a path does not exist.
    """
    cases: list[RestTestCase] = []
    file_errors: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in find_test_files(paths):
        try:
            loaded = load_rest_file(path)
            names: dict[str, str] = {}
            for case in loaded:
                if not case.enabled:
                    continue
                if case.name in seen or case.name in names:
                    raise TestFileError(
                        f"{path.name}: duplicate test name {case.name!r} "
                        f"(also in {seen.get(case.name, path.name)})"
                    )
                names[case.name] = path.name
        except TestFileError as e:
            file_errors[path.name] = str(e)
            continue
        seen.update(names)
        cases.extend(loaded)
    return RestLoadResult(cases, file_errors)
