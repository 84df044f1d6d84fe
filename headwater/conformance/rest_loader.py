"""Loading ksqlDB's RQTT files and expanding them into runnable cases (FORMAT.md §12.1).

The files are read as QTT files are, through :mod:`headwater.conformance.case_files` (comments allowed,
exact decimals, unknown keys ignored, the same records and topics), and each test object is validated as
ksqlDB's ``RestTestCaseNode`` validates it: a name, at least one statement, not both ``inputs`` and
``expectedError``, an ``expectedError`` with at least one field, responses of exactly one key each, and as
many ``query`` as ``queryProto`` responses when ``testPullWithProtoFormat`` is set. A test expands into one case per entry of its ``format`` list (``{FORMAT}`` substituted in the
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

from headwater.conformance.case_files import (
    LoadResult,
    Where,
    boolean_field,
    case_name,
    expand_file,
    integer_field,
    list_field,
    load_unique,
    object_field,
    read_common_fields,
    string_field,
)
from headwater.conformance.rest_model import ExpectedError, RestTestCase

__all__ = ["expand_rest_test_object", "load_rest_file", "load_rest_paths"]

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
    common = read_common_fields(file_name, node)
    obj, where = common.obj, common.where
    expected_error = (
        _read_expected_error(obj["expectedError"], where.at("expectedError"))
        if obj.get("expectedError") is not None
        else None
    )
    if common.inputs and expected_error is not None:
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
    wait_for_push = _flag(obj.get("inputConditions"), "waitForActivePushQuery", where.at("inputConditions"))
    verify_order = _flag(obj.get("outputConditions"), "verifyOrder", where.at("outputConditions"))
    return [
        RestTestCase(
            file=Path(file_name).name,
            test=common.name,
            name=case_name(file_name, common.name, fmt),
            statements=common.statements_for(fmt),
            inputs=common.inputs,
            outputs=common.outputs,
            topics=common.topics,
            properties=dict(common.properties),
            format=fmt,
            responses=responses,
            expected_error=expected_error,
            wait_for_active_push_query=wait_for_push,
            verify_order=verify_order,
            proto_output=proto_output,
            enabled=common.enabled,
        )
        for fmt in common.formats
    ]


def load_rest_file(path: Path | str) -> list[RestTestCase]:
    """Read one RQTT file and expand every test object in it, in file order.

    Raises:
        TestFileError: the file cannot be read, is not JSON, or breaks the format's rules.
    """
    return expand_file(path, expand_rest_test_object, no_tests="test file did not contain any tests")


def load_rest_paths(paths: Iterable[Path | str]) -> LoadResult[RestTestCase]:
    """Load every RQTT file under ``paths``; enabled expanded names must be unique across all of them
    (a duplicate makes the later file fail to load, as ksqlDB refuses to run with duplicates).

    Raises:
        TestFileError: a path does not exist.
    """
    return load_unique(paths, load_rest_file)
