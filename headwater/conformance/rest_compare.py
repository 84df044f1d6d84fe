"""Verdicts of RQTT cases, exactly as ksqlDB's ``RestTestExecutor`` reaches them (FORMAT.md §12.4).

* **Responses** (:func:`verify_responses`): at least as many actual responses as expected ones,
  compared by index. Only the keys an expected object holds are checked, nested objects recursively; a
  key suffix ``|starts_with`` turns a leaf into a prefix match; every other leaf must be Java-``equals``
  to the expected value after a JSON round trip with exact decimals (``1.0`` is not ``1.00``, ``1`` is
  not ``1.0``). A query response must have exactly as many rows as expected (header, rows and final
  message each count as one), and unless the case asks for order, the ``columns`` arrays of its rows
  are compared as a multiset: equal column lists must occur equally often.
* **Outputs** (:func:`verify_rest_outputs`): the first records of each expected topic, position by
  position: the key ``Objects.equals`` the expected key (an expected integer is widened to the actual
  ``Long``, an expected decimal narrowed to the actual ``Double``), the value matches by the QTT
  comparator's rules, the timestamp equals the expected one when given. Headers are not compared.
* **Errors** (:func:`error_mismatch`): the error body is an instance of the expected class
  (``KsqlStatementErrorMessage`` is a ``KsqlErrorMessage``), its message contains the expected text, its
  status is the expected one, and a statement error names a statement containing the case's last one.

Example:
    >>> from decimal import Decimal
    >>> verify_responses([("query", [{"header": {"queryId": "q1", "schema": "`K` INT"}},
    ...                              {"row": {"columns": [2]}}, {"row": {"columns": [1]}}])],
    ...                  [{"query": [{"header": {"schema": "`K` INT"}},
    ...                              {"row": {"columns": [1]}}, {"row": {"columns": [2]}}]}])
    >>> java_equals(Decimal("1.0"), Decimal("1.00"))
    False
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from headwater.conformance.comparator import ActualRecord, matches
from headwater.conformance.model import RecordSpec
from headwater.conformance.rest_model import (
    KSQL_ERROR_MESSAGE,
    KSQL_STATEMENT_ERROR_MESSAGE,
    ErrorResponse,
    ExpectedError,
)

__all__ = [
    "ActualResponse",
    "ResponseMismatch",
    "error_mismatch",
    "java_equals",
    "verify_responses",
    "verify_rest_outputs",
]

ActualResponse = tuple[str, Any]
"""(kind, payload): ``("admin", entity JSON)`` or ``("query", [row JSON, ...])``."""

_STARTS_WITH = "STARTS_WITH"
_ERROR_SUPERCLASS = {KSQL_STATEMENT_ERROR_MESSAGE: KSQL_ERROR_MESSAGE}


class ResponseMismatch(AssertionError):
    """The run's responses or records differ from the case's; the message says where, ksqlDB's way."""


def java_equals(actual: Any, expected: Any) -> bool:
    """Java's ``equals`` between two JSON values read with exact decimals (maps by key, lists in order,
    decimals scale-sensitively, integers by value, never an integer equal to a decimal or a boolean)."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and actual == expected
    if isinstance(expected, int):
        return isinstance(actual, int) and actual == expected
    if isinstance(expected, Decimal):
        return (
            isinstance(actual, Decimal)
            and actual == expected
            and actual.as_tuple().exponent == expected.as_tuple().exponent
        )
    if isinstance(expected, float):  # a Double on both sides
        return isinstance(actual, float) and actual == expected
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(java_equals(a, e) for a, e in zip(actual, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(java_equals(actual[k], v) for k, v in expected.items())
        )
    return bool(actual == expected)


def _canonical(value: Any) -> Any:
    """A hashable stand-in for a JSON value under :func:`java_equals` (for counting multisets)."""
    if value is None or isinstance(value, bool | str):
        return (type(value).__name__, value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, Decimal):
        return ("decimal", value.as_tuple())
    if isinstance(value, float):
        return ("double", value)
    if isinstance(value, list):
        return ("list", tuple(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("map", tuple(sorted((str(k), _canonical(v)) for k, v in value.items())))
    return ("other", repr(value))


class _Multiset:
    """The row ``columns`` seen on each side of one response, with the path of each actual one."""

    def __init__(self) -> None:
        self.actual: Counter[Any] = Counter()
        self.expected: Counter[Any] = Counter()
        self.shown: dict[Any, tuple[str, Any]] = {}
        self.expected_shown: dict[Any, Any] = {}

    def add(self, actual: Any, expected: Any, path: str) -> None:
        key, expected_key = _canonical(actual), _canonical(expected)
        self.actual[key] += 1
        self.expected[expected_key] += 1
        self.shown.setdefault(key, (path, actual))
        self.expected_shown.setdefault(expected_key, expected)

    def verify(self) -> None:
        """ksqlDB's ``verifyResponseFields``: every actual column list occurs as often as expected."""
        for key, count in self.actual.items():
            path, actual = self.shown[key]
            if key not in self.expected:
                if len(self.expected) == 1:
                    wanted = _text(next(iter(self.expected_shown.values())))
                    raise ResponseMismatch(
                        f"Response mismatch at {path}: expected {wanted}, but was {_text(actual)}"
                    )
                raise ResponseMismatch(
                    f"Response mismatch at {path}: {_text(actual)} is not among the expected rows"
                )
            if self.expected[key] != count:
                raise ResponseMismatch(
                    f"Uneven occurrence of expected vs actual for row {_text(actual)}: "
                    f"expected {self.expected[key]}, but was {count}"
                )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _match_fields(
    actual: Any, expected: Mapping[str, Any], path: str, rows: _Multiset, verify_order: bool
) -> None:
    """ksqlDB's ``matchResponseFields``: each expected key must be in ``actual`` and match."""
    if not isinstance(actual, Mapping):
        raise ResponseMismatch(f"Response mismatch at {path}: expected an object, but was {_text(actual)}")
    for raw_key, expected_value in expected.items():
        key, _, operator = raw_key.partition("|")
        if key not in actual:
            raise ResponseMismatch(
                f"Response mismatch at {path}: expected an object with key {key!r}, but was {_text(actual)}"
            )
        actual_value = actual[key]
        new_path = f"{path}->{key}"
        if isinstance(expected_value, Mapping):
            if not isinstance(actual_value, Mapping):
                raise ResponseMismatch(
                    f"Response mismatch at {new_path}: expected an object, but was {_text(actual_value)}"
                )
            _match_fields(actual_value, expected_value, new_path, rows, verify_order)
        elif operator and operator.upper() == _STARTS_WITH:
            if not (
                isinstance(actual_value, str)
                and isinstance(expected_value, str)
                and actual_value.startswith(expected_value)
            ):
                raise ResponseMismatch(
                    f"Response mismatch at {new_path}: expected a string starting with "
                    f"{_text(expected_value)}, but was {_text(actual_value)}"
                )
        elif not verify_order and "query" in new_path and "row" in new_path and key.lower() == "columns":
            rows.add(actual_value, expected_value, new_path)
        elif not java_equals(actual_value, expected_value):
            raise ResponseMismatch(
                f"Response mismatch at {new_path}: expected {_text(expected_value)}, but was {_text(actual_value)}"
            )


def _verify_admin(actual: Any, expected: Any, index: int, verify_order: bool) -> None:
    if not isinstance(expected, Mapping):
        raise ResponseMismatch(f"responses[{index}]: the admin payload should be a JSON object")
    rows = _Multiset()
    _match_fields(actual, expected, f"responses[{index}]->admin", rows, verify_order)
    rows.verify()


def _verify_query(actual: Sequence[Any], expected: Any, index: int, verify_order: bool) -> None:
    if not isinstance(expected, list):
        raise ResponseMismatch(f"responses[{index}]: the query response should be an array")
    if len(actual) != len(expected):
        listed = "\n\t".join(_text(r) for r in expected)
        got = "\n\t".join(_text(r) for r in actual)
        raise ResponseMismatch(f"row count mismatch.\nExpected: \n\t{listed}\nGot: \n\t{got}")
    rows = _Multiset()
    for position, (actual_row, expected_row) in enumerate(zip(actual, expected)):
        if not isinstance(expected_row, Mapping):
            raise ResponseMismatch(f"responses[{index}]->query[{position}]: each row should be a JSON object")
        _match_fields(actual_row, expected_row, f"responses[{index}]->query[{position}]", rows, verify_order)
    rows.verify()


def verify_responses(
    actual: Sequence[ActualResponse], expected: Sequence[Mapping[str, Any]], *, verify_order: bool = False
) -> None:
    """Compare the run's responses with the case's, index by index.

    Raises:
        ResponseMismatch: too few responses, or one that differs (the message says where).
    """
    if len(actual) < len(expected):
        raise ResponseMismatch(f"Not enough responses: expected {len(expected)}, but got {len(actual)}")
    for index, wanted in enumerate(expected):
        ((kind, payload),) = wanted.items()
        actual_kind, actual_payload = actual[index]
        if kind != actual_kind:
            raise ResponseMismatch(f"responses[{index}]: expected {kind} response, but was {actual_kind}")
        if kind == "admin":
            _verify_admin(actual_payload, payload, index, verify_order)
        else:
            _verify_query(actual_payload, payload, index, verify_order)


def _coerced_key(expected: Any, actual: Any) -> Any:
    """``RestTestExecutor.coerceExpectedKey``: an expected decimal becomes a double when the actual key
    is one (integers need nothing: Python compares them by value, as the widening to Long does)."""
    if isinstance(actual, float) and isinstance(expected, Decimal):
        return float(expected)
    return expected


def verify_rest_outputs(expected: Sequence[RecordSpec], actual: Mapping[str, Sequence[ActualRecord]]) -> None:
    """Compare the first records of each expected topic with the expected records, in order.

    Raises:
        ResponseMismatch: a topic holds fewer records, or a record differs.
    """
    by_topic: dict[str, list[RecordSpec]] = {}
    for record in expected:
        by_topic.setdefault(record.topic, []).append(record)
    for topic, records in by_topic.items():
        received = list(actual.get(topic, ()))
        if len(received) < len(records):
            raise ResponseMismatch(
                f"too few records: Topic {topic}: expected at least {len(records)} records, "
                f"but {len(received)} arrived"
            )
        for position, (want, got) in enumerate(zip(records, received)):
            key = _coerced_key(want.key, got.key)
            timestamp = want.timestamp if want.timestamp is not None else got.timestamp
            differs = [
                part
                for part, same in (
                    ("key", java_equals(got.key, key)),
                    ("value", matches(got.value, want.value)),
                    ("timestamp", got.timestamp == timestamp),
                )
                if not same
            ]
            if differs:
                raise ResponseMismatch(
                    f"{' and '.join(differs)} differ{'s' if len(differs) == 1 else ''}: "
                    f"Topic {topic}, record {position}: Expected <{_text(key)}, {_text(want.value)}> with "
                    f"timestamp={timestamp} but was <{_text(got.key)}, {_text(got.value)}> with "
                    f"timestamp={got.timestamp}"
                )


def _is_instance(class_name: str, expected: str) -> bool:
    current: str | None = class_name
    while current is not None:
        if current == expected:
            return True
        current = _ERROR_SUPERCLASS.get(current)
    return False


def error_mismatch(actual: ErrorResponse, expected: ExpectedError, last_statement: str) -> str | None:
    """Why the error response does not satisfy ``expectedError``, or None when it does."""
    if expected.type is not None:
        if not _is_instance(actual.class_name, expected.type):
            return f"expected a {expected.type}, got a {actual.class_name}"
        if _is_instance(expected.type, KSQL_STATEMENT_ERROR_MESSAGE) and last_statement not in (
            actual.statement_text or ""
        ):
            return (
                f"expected the error's statement to contain {last_statement!r}, got {actual.statement_text!r}"
            )
    if expected.message is not None and expected.message not in actual.message:
        return f"expected a message containing {expected.message!r}, got {actual.message!r}"
    if expected.status is not None and expected.status != actual.status:
        return f"expected status {expected.status}, got {actual.status}"
    return None
