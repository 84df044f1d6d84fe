"""Matching Headwater's errors against a negative case's ``expectedException`` (FORMAT.md §8).

ksqlDB's cases name Java exception classes and match them with ``instanceof``, so a Headwater error is
first translated into the Java exception ksqlDB would have thrown in the same place, then matched against
the class hierarchy that matters:

``ParseFailedException`` ⊂ ``KsqlStatementException`` ⊂ ``KsqlException`` ⊂ ``StreamsException`` ⊂
``KafkaException`` ⊂ ``RuntimeException`` ⊂ ``Exception`` ⊂ ``Throwable``, and ``KsqlFunctionException`` ⊂
``KsqlException``.

=====================================  ===============================================================
Headwater                              ksqlDB
=====================================  ===============================================================
``ParseError`` (statements)            ``ParseFailedException``
``PlanError`` (statements)             ``KsqlStatementException``
other ``HeadwaterError`` (statements)  ``KsqlException``
any ``HeadwaterError`` while a query   ``StreamsException("Exception caught in process ...")`` whose
processes records                      cause is a ``KsqlFunctionException`` (a function failed) or a
                                       ``KsqlException`` with the error's message
=====================================  ===============================================================

Example:
    >>> from headwater.errors import PlanError
    >>> from headwater.conformance.model import ExpectedException
    >>> java = statement_exception(PlanError("Unknown format: FOO"))
    >>> matches_expected(java, ExpectedException(type="io.confluent.ksql.util.KsqlException",
    ...                                          message="Unknown format"))
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from headwater.conformance.model import ExpectedException
from headwater.engine.functions.registry import FunctionError
from headwater.errors import HeadwaterError, ParseError, PlanError

__all__ = [
    "FUNCTION_EXCEPTION",
    "KSQL_EXCEPTION",
    "PARSE_FAILED",
    "STATEMENT_EXCEPTION",
    "STREAMS_EXCEPTION",
    "JavaException",
    "is_instance",
    "matches_expected",
    "mismatch_reason",
    "runtime_exception",
    "statement_exception",
]

PARSE_FAILED = "io.confluent.ksql.parser.exception.ParseFailedException"
STATEMENT_EXCEPTION = "io.confluent.ksql.util.KsqlStatementException"
KSQL_EXCEPTION = "io.confluent.ksql.util.KsqlException"
FUNCTION_EXCEPTION = "io.confluent.ksql.function.KsqlFunctionException"
STREAMS_EXCEPTION = "org.apache.kafka.streams.errors.StreamsException"

_SUPERCLASS: dict[str, str | None] = {
    "java.lang.Throwable": None,
    "java.lang.Exception": "java.lang.Throwable",
    "java.lang.RuntimeException": "java.lang.Exception",
    "java.lang.Error": "java.lang.Throwable",
    "java.lang.AssertionError": "java.lang.Error",
    "org.apache.kafka.common.KafkaException": "java.lang.RuntimeException",
    STREAMS_EXCEPTION: "org.apache.kafka.common.KafkaException",
    KSQL_EXCEPTION: STREAMS_EXCEPTION,
    STATEMENT_EXCEPTION: KSQL_EXCEPTION,
    PARSE_FAILED: STATEMENT_EXCEPTION,
    FUNCTION_EXCEPTION: KSQL_EXCEPTION,
}


@dataclass(frozen=True, slots=True)
class JavaException:
    """The exception ksqlDB would have thrown: its class, message and direct cause."""

    class_name: str
    message: str
    cause: JavaException | None = None

    def describe(self) -> str:
        text = f"{self.class_name}: {self.message}"
        if self.cause is not None:
            text += f" (caused by {self.cause.class_name}: {self.cause.message})"
        return text


def is_instance(class_name: str, expected_class: str) -> bool:
    """Java's ``instanceof`` over the known hierarchy; an unknown class is an instance only of itself."""
    current: str | None = class_name
    while current is not None:
        if current == expected_class:
            return True
        current = _SUPERCLASS.get(current)
    return False


def statement_exception(error: HeadwaterError) -> JavaException:
    """The Java exception for an error raised while parsing, planning or executing a statement."""
    if isinstance(error, ParseError):
        return JavaException(PARSE_FAILED, str(error))
    if isinstance(error, PlanError):
        return JavaException(STATEMENT_EXCEPTION, str(error))
    return JavaException(KSQL_EXCEPTION, str(error))


def _is_function_failure(error: BaseException) -> bool:
    """A failure of a function (the registry's FunctionError somewhere in the cause chain)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, FunctionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def runtime_exception(
    error: HeadwaterError, *, topic: str, partition: int, offset: int | None
) -> JavaException:
    """The Java exception for an error that escaped a query while it processed a record: Kafka Streams
    wraps it in ``StreamsException("Exception caught in process. ...")``."""
    cause_class = FUNCTION_EXCEPTION if _is_function_failure(error) else KSQL_EXCEPTION
    where = f"topic={topic}, partition={partition}"
    if offset is not None:
        where += f", offset={offset}"
    return JavaException(
        STREAMS_EXCEPTION,
        f"Exception caught in process. {where}: {error}",
        cause=JavaException(cause_class, str(error)),
    )


def mismatch_reason(actual: JavaException, expected: ExpectedException) -> str | None:
    """Why ``actual`` does not satisfy ``expected``, or None when it does."""
    if expected.type and not is_instance(actual.class_name, expected.type):
        return f"expected {expected.type}, got {actual.class_name}"
    if expected.message is not None and expected.message not in actual.message:
        return f"expected a message containing {expected.message!r}, got {actual.message!r}"
    if expected.cause:
        if actual.cause is None:
            return f"expected a cause {expected.cause}, got none"
        if not is_instance(actual.cause.class_name, expected.cause):
            return f"expected a cause {expected.cause}, got {actual.cause.class_name}"
        if expected.cause_message is not None and expected.cause_message not in actual.cause.message:
            return f"expected a cause message containing {expected.cause_message!r}, got {actual.cause.message!r}"
    return None


def matches_expected(actual: JavaException, expected: ExpectedException) -> bool:
    """Whether ``actual`` satisfies ``expected`` (``instanceof`` on classes, substring on messages)."""
    return mismatch_reason(actual, expected) is None
