"""Output verification exactly as ksqlDB's test harness does it (FORMAT.md §7).

:func:`matches` is ``ExpectedRecordComparator.matches``: it dispatches on the *expected* JSON node and
keeps Java's quirks, because the expected files were written against them:

* an expected object matches a map with exactly as many entries; each expected field is looked up as
  written, then upper-cased (so lower-case expectations match upper-case columns, never the reverse);
* numbers compare by the *actual* value's Java type: an ``Integer`` against ``expected.intValue()``, which
  truncates (``1.9`` matches ``1``) and wraps to 32 bits, a ``Long`` against ``longValue()``, a ``Double``
  within 1e-6, a ``BigDecimal`` scale-sensitively (``1.0`` is not ``1.00``; an integral literal needs an
  actual scale of at most 0);
* an expected string matches an equal string, a decimal equal to ``new BigDecimal(expected)``, or bytes
  whose base64 is the string.

Actual values are Python values as the harness's deserialisers produce them: ``int`` (an ``Integer`` when
it fits 32 bits, a ``Long`` when it fits 64, otherwise a ``BigInteger``, as Jackson reads JSON), ``float``
(a ``Double``), :class:`~decimal.Decimal`, ``str``, ``bytes``, ``bool``, ``dict``, ``list`` and None.

:func:`verify_outputs` checks the records of every topic named in the expected outputs: count first, then
record by record, key (with its window), value, headers and timestamp.

Example:
    >>> from decimal import Decimal
    >>> matches(1, Decimal("1.9")), matches(Decimal("1.0"), Decimal("1.00")), matches({"A": 1}, {"a": 1})
    (True, False, True)
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from headwater.conformance.model import HeaderSpec, RecordSpec, WindowSpec

__all__ = [
    "ActualRecord",
    "OutputCountMismatch",
    "OutputMismatch",
    "format_actual_record",
    "format_expected_record",
    "matches",
    "verify_outputs",
]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class ActualRecord:
    """A record read back from a topic and deserialised with the topic's serdes.

    Attributes:
        key: the deserialised key (the inner key for windowed keys).
        value: the deserialised value.
        timestamp: the record's timestamp in ms.
        headers: (key, value) pairs in order; a value may be None.
        window: the key's window when the topic's key is windowed.
    """

    key: Any
    value: Any
    timestamp: int
    headers: tuple[tuple[str, bytes | None], ...] = ()
    window: WindowSpec | None = None


class OutputMismatch(AssertionError):
    """An actual record differs from the expected one (ksqlDB raises an AssertionError: never matched
    against an expected exception). ``what`` names the part that differs (key, value, window...)."""

    what: str = "record differs"


class OutputCountMismatch(Exception):
    """A topic holds a different number of records than expected. ksqlDB raises this as a KsqlException,
    which a negative case's expectation may match."""


def _wrap(value: int, bits: int) -> int:
    """Java's narrowing of an integer to ``bits`` two's-complement bits."""
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value


def _truncate(number: int | Decimal) -> int:
    """Java's ``intValue()``/``longValue()`` before narrowing: the integer part, toward zero."""
    if isinstance(number, int):
        return number
    return int(number.to_integral_value(rounding="ROUND_DOWN"))


def _same_decimal(a: Decimal, b: Decimal) -> bool:
    """Java's ``BigDecimal.equals``: equal value *and* equal scale."""
    return a == b and a.as_tuple().exponent == b.as_tuple().exponent


def _scale(d: Decimal) -> int:
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


def _matches_number(actual: Any, expected: int | Decimal) -> bool:
    if isinstance(actual, bool):
        return False
    if isinstance(actual, int):
        if _INT_MIN <= actual <= _INT_MAX:  # a Java Integer
            return _wrap(_truncate(expected), 32) == actual
        if _LONG_MIN <= actual <= _LONG_MAX:  # a Java Long
            return _wrap(_truncate(expected), 64) == actual
        return False  # a BigInteger: no comparator branch takes it
    if isinstance(actual, float):
        return abs(float(expected) - actual) < 1e-6
    if isinstance(actual, Decimal):
        if isinstance(expected, int):
            if _scale(actual) > 0:
                return False
            return _wrap(expected, 64) == int(actual)
        return _same_decimal(expected, actual)
    return False


def _matches_text(actual: Any, expected: str) -> bool:
    if isinstance(actual, str):
        return actual == expected
    if isinstance(actual, Decimal):
        try:
            return _same_decimal(Decimal(expected), actual)
        except InvalidOperation:
            return False
    if isinstance(actual, bytes | bytearray):
        return base64.b64encode(bytes(actual)).decode("ascii") == expected
    return False


def matches(actual: Any, expected: Any) -> bool:
    """Whether a deserialised actual value matches an expected value spec (FORMAT.md §7.2)."""
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual == expected
    if isinstance(expected, dict):
        if not isinstance(actual, Mapping) or len(actual) != len(expected):
            return False
        for name, expected_field in expected.items():
            found = actual.get(name)
            if found is None:
                found = actual.get(name.upper())
            if not matches(found, expected_field):
                return False
        return True
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        return all(matches(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, int | Decimal):
        return _matches_number(actual, expected)
    if isinstance(expected, str):
        return _matches_text(actual, expected)
    return False


def _headers_match(actual: Sequence[tuple[str, bytes | None]], expected: Sequence[HeaderSpec]) -> bool:
    if len(actual) != len(expected):
        return False
    return all(a_key == e.key and a_value == e.value for (a_key, a_value), e in zip(actual, expected))


# --------------------------------------------------------------------------------------------------------
# messages in ksqlDB's shape


def _java_text(value: Any) -> str:
    """A value roughly as Java's ``toString`` shows it in ksqlDB's messages (JSON-like for collections)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    return str(value)


def _json_text(value: Any) -> str:
    """An expected value spec as Jackson prints a JsonNode (strings quoted)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_text(k)}:{_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    return str(value)


def _headers_text(headers: Sequence[tuple[str, bytes | None]]) -> str:
    return ", ".join(
        f"{{KEY={k},VALUE={'null' if v is None else base64.b64encode(v).decode('ascii')}}}"
        for k, v in headers
    )


def _window_text(window: WindowSpec | None) -> str:
    if window is None:
        return ""
    return f"[{window.type.value.lower()} {window.start}..{window.end}]"


def format_expected_record(expected: RecordSpec, timestamp: int | None) -> str:
    """``<key, value> with timestamp=... and headers=[...]`` for an expected record."""
    headers = [(h.key, h.value) for h in expected.headers or ()]
    return (
        f"<{_json_text(expected.key)}{_window_text(expected.window)}, {_json_text(expected.value)}> "
        f"with timestamp={timestamp if timestamp is not None else 'any'} and headers=[{_headers_text(headers)}]"
    )


def format_actual_record(actual: ActualRecord) -> str:
    """``<key, value> with timestamp=... and headers=[...]`` for an actual record (string values quoted,
    as ksqlDB prints them)."""
    value = f'"{actual.value}"' if isinstance(actual.value, str) else _java_text(actual.value)
    return (
        f"<{_java_text(actual.key)}{_window_text(actual.window)}, {value}> "
        f"with timestamp={actual.timestamp} and headers=[{_headers_text(actual.headers)}]"
    )


# --------------------------------------------------------------------------------------------------------
# whole topics


def _check_record(
    topic: str, index: int, expected: RecordSpec, actual: ActualRecord, ran_without_inputs: bool
) -> None:
    expected_timestamp = expected.timestamp if expected.timestamp is not None else actual.timestamp

    def mismatch(what: str) -> OutputMismatch:
        error = OutputMismatch(
            f"Topic '{topic}', message {index}: Expected "
            f"{format_expected_record(expected, expected_timestamp)} but was {format_actual_record(actual)}"
        )
        error.what = what
        return error

    if expected.window is not None:
        if actual.window is None:
            raise mismatch("key is not windowed")
        if actual.window != expected.window:
            raise mismatch("window differs")
    elif actual.window is not None:
        # ksqlDB compares the Windowed object itself against the expected key, which never matches.
        raise mismatch("key is windowed")
    if not matches(actual.key, expected.key):
        raise mismatch("key differs")
    if not matches(actual.value, expected.value):
        raise mismatch("value differs")
    if not _headers_match(actual.headers, expected.headers or ()):
        raise mismatch("headers differ")
    if actual.timestamp != expected_timestamp and (not ran_without_inputs or expected_timestamp != 0):
        raise mismatch("timestamp differs")


def verify_outputs(
    expected: Sequence[RecordSpec],
    actual_by_topic: Mapping[str, Sequence[ActualRecord]],
    *,
    ran_without_inputs: bool,
) -> None:
    """Check the actual records of every topic that has expected outputs (FORMAT.md §7).

    Topics are checked in the order they first appear in ``expected``; topics without expected records
    are not checked at all.

    Args:
        expected: the case's expected output records.
        actual_by_topic: every record each topic holds, in production order, deserialised.
        ran_without_inputs: the case has no input records (an expected timestamp of 0 then matches any).

    Raises:
        OutputCountMismatch: a topic holds a different number of records.
        OutputMismatch: a record differs.
    """
    by_topic: dict[str, list[RecordSpec]] = {}
    for record in expected:
        by_topic.setdefault(record.topic, []).append(record)
    for topic, expected_records in by_topic.items():
        actual_records = list(actual_by_topic.get(topic, ()))
        if len(actual_records) != len(expected_records):
            listing = "\n".join(format_actual_record(a) for a in actual_records)
            raise OutputCountMismatch(
                f"Topic {topic}. Expected <{len(expected_records)}> records but it was <{len(actual_records)}>\n"
                f"Actual records: \n{listing}"
            )
        for index, (e, a) in enumerate(zip(expected_records, actual_records)):
            _check_record(topic, index, e, a, ran_without_inputs)
