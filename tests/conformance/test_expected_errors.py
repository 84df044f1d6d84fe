"""Matching Headwater's errors against expectedException (FORMAT.md §8)."""

from __future__ import annotations

import pytest

from headwater.conformance.expected_errors import (
    FUNCTION_EXCEPTION,
    KSQL_EXCEPTION,
    PARSE_FAILED,
    STATEMENT_EXCEPTION,
    STREAMS_EXCEPTION,
    JavaException,
    is_instance,
    matches_expected,
    mismatch_reason,
    runtime_exception,
    statement_exception,
)
from headwater.conformance.model import ExpectedException
from headwater.engine.functions.registry import FunctionError
from headwater.errors import ExecutionError, ParseError, PlanError, StorageError


@pytest.mark.parametrize(
    ("actual", "expected", "result"),
    [
        (PARSE_FAILED, PARSE_FAILED, True),
        (PARSE_FAILED, STATEMENT_EXCEPTION, True),
        (PARSE_FAILED, KSQL_EXCEPTION, True),
        (PARSE_FAILED, STREAMS_EXCEPTION, True),
        (PARSE_FAILED, "java.lang.RuntimeException", True),
        (STATEMENT_EXCEPTION, PARSE_FAILED, False),
        (KSQL_EXCEPTION, STATEMENT_EXCEPTION, False),
        (FUNCTION_EXCEPTION, KSQL_EXCEPTION, True),
        (FUNCTION_EXCEPTION, STATEMENT_EXCEPTION, False),
        (STREAMS_EXCEPTION, KSQL_EXCEPTION, False),
        ("com.example.Unknown", KSQL_EXCEPTION, False),
        ("com.example.Unknown", "com.example.Unknown", True),
    ],
)
def test_instanceof(actual: str, expected: str, result: bool) -> None:
    assert is_instance(actual, expected) is result


def test_categories_of_statement_errors() -> None:
    assert statement_exception(ParseError("bad", line=1, column=3)).class_name == PARSE_FAILED
    assert statement_exception(PlanError("Unknown format: FOO")).class_name == STATEMENT_EXCEPTION
    assert statement_exception(ExecutionError("x")).class_name == KSQL_EXCEPTION
    assert statement_exception(StorageError("x")).class_name == KSQL_EXCEPTION


def test_parse_error_message_keeps_its_position() -> None:
    java = statement_exception(ParseError("Syntax Error", line=1, column=23, source="SELECT"))
    assert matches_expected(
        java, ExpectedException(type=STATEMENT_EXCEPTION, message="line 1:23: Syntax Error")
    )


def test_message_is_a_substring_match() -> None:
    java = statement_exception(PlanError("Unknown format: FOO"))
    assert matches_expected(java, ExpectedException(type=KSQL_EXCEPTION, message="format: FO"))
    assert matches_expected(java, ExpectedException(message="Unknown format: FOO"))
    reason = mismatch_reason(java, ExpectedException(message="Unknown format: BAR"))
    assert reason is not None and "'Unknown format: BAR'" in reason


def test_type_mismatch_is_reported() -> None:
    java = statement_exception(PlanError("x"))
    assert mismatch_reason(java, ExpectedException(type=PARSE_FAILED)) == (
        f"expected {PARSE_FAILED}, got {STATEMENT_EXCEPTION}"
    )


def test_runtime_errors_are_wrapped_like_kafka_streams_does() -> None:
    error = ExecutionError("Numeric field overflow")
    java = runtime_exception(error, topic="in", partition=0, offset=3)
    assert java.class_name == STREAMS_EXCEPTION
    assert java.message.startswith("Exception caught in process.")
    assert java.cause == JavaException(KSQL_EXCEPTION, "Numeric field overflow")
    expected = ExpectedException(
        type=STREAMS_EXCEPTION,
        message="Exception caught in process",
        cause=KSQL_EXCEPTION,
        cause_message="Numeric field overflow",
    )
    assert matches_expected(java, expected)
    assert not matches_expected(java, ExpectedException(type=STREAMS_EXCEPTION, cause=FUNCTION_EXCEPTION))


def test_function_failures_become_ksql_function_exceptions() -> None:
    try:
        try:
            raise FunctionError("Numeric field overflow")
        except FunctionError as inner:
            raise ExecutionError("SUM failed: Numeric field overflow") from inner
    except ExecutionError as error:
        java = runtime_exception(error, topic="in", partition=0, offset=None)
    assert java.cause is not None and java.cause.class_name == FUNCTION_EXCEPTION
    expected = ExpectedException(
        type=STREAMS_EXCEPTION,
        message="Exception caught in process",
        cause="io.confluent.ksql.function.KsqlFunctionException",
        cause_message="Numeric field overflow",
    )
    assert matches_expected(java, expected)


def test_cause_is_required_when_expected() -> None:
    java = statement_exception(PlanError("x"))
    assert mismatch_reason(java, ExpectedException(message="x", cause=KSQL_EXCEPTION)) == (
        f"expected a cause {KSQL_EXCEPTION}, got none"
    )
