"""The output comparator, rule by rule (FORMAT.md §7), with small hand-made cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from headwater.conformance.comparator import (
    ActualRecord,
    OutputCountMismatch,
    OutputMismatch,
    matches,
    verify_outputs,
)
from headwater.conformance.model import HeaderSpec, RecordSpec, WindowSpec, WindowType

D = Decimal

# -- §7.2 values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected", "result"),
    [
        # objects: same size, lower-case expected names fall back to upper case, never the reverse
        ({"A": 1}, {"a": 1}, True),
        ({"a": 1}, {"A": 1}, False),
        ({"A": 1, "B": 2}, {"A": 1}, False),
        ({"A": 1}, {"A": 1, "B": None}, False),
        ({"A": None, "B": 1}, {"A": None, "B": 1}, True),
        ({"A": 1, "C": 2}, {"A": 1, "B": None}, True),  # a missing field reads as null
        ([1], {"A": 1}, False),
        # arrays: same length, element by element
        ([1, 2], [1, 2], True),
        ([1, 2], [2, 1], False),
        ([1], [1, 2], False),
        ({"A": 1}, [1], False),
        # integers: Java Integer compares with the truncated (and 32-bit wrapped) expected number
        (1, D("1.9"), True),
        (-1, D("-1.9"), True),
        (1, 1, True),
        (1, 2, False),
        (1, 2**32 + 1, True),
        (2**40, 2**40, True),  # a Long
        (2**40 + 1, D("1099511627777.7"), True),
        (2**64, 2**64, False),  # a BigInteger: no branch takes it
        (True, 1, False),
        # doubles: within 1e-6
        (1.0000001, D("1.0"), True),
        (1.00001, D("1.0"), False),
        (3.0, 3, True),
        # decimals: scale-sensitive
        (D("1.0"), D("1.0"), True),
        (D("1.0"), D("1.00"), False),
        (D("10"), 10, True),
        (D("1E+1"), 10, True),
        (D("10.0"), 10, False),
        ("1.0", D("1.0"), False),
        # strings
        ("a", "a", True),
        ("a", "A", False),
        (D("1.50"), "1.50", True),
        (D("1.5"), "1.50", False),
        (D("1.5"), "abc", False),
        (b"!", "IQ==", True),
        (b"!!", "IQ==", False),
        (1, "1", False),
        # booleans and null
        (True, True, True),
        (1, True, False),
        (False, True, False),
        (None, None, True),
        (0, None, False),
        (None, 0, False),
        (None, "", False),
    ],
)
def test_value_rules(actual: object, expected: object, result: bool) -> None:
    assert matches(actual, expected) is result


def test_nested_structures_recurse() -> None:
    actual = {"K": [{"X": D("1.10")}, None], "M": {"a": 1}}
    assert matches(actual, {"k": [{"x": D("1.10")}, None], "m": {"a": 1}})
    assert not matches(actual, {"k": [{"x": D("1.1")}, None], "m": {"a": 1}})
    assert not matches(actual, {"k": [{"x": D("1.10")}, None], "m": {"A": 1}})


# -- §7.1, §7.3-§7.5 records and topics -----------------------------------------------------------------


def _expected(**kw: object) -> RecordSpec:
    fields: dict[str, object] = {"topic": "OUT", "key": "k", "value": {"V": 1}}
    fields.update(kw)
    return RecordSpec(**fields)  # type: ignore[arg-type]


def _actual(**kw: object) -> ActualRecord:
    fields: dict[str, object] = {"key": "k", "value": {"V": 1}, "timestamp": 5}
    fields.update(kw)
    return ActualRecord(**fields)  # type: ignore[arg-type]


def _verify(expected: list[RecordSpec], actual: list[ActualRecord], *, no_inputs: bool = False) -> None:
    verify_outputs(expected, {"OUT": actual}, ran_without_inputs=no_inputs)


def test_matching_record_passes() -> None:
    _verify([_expected(timestamp=5)], [_actual()])


def test_count_must_match_exactly() -> None:
    with pytest.raises(OutputCountMismatch, match=r"Topic OUT\. Expected <2> records but it was <1>"):
        _verify([_expected(), _expected()], [_actual()])


def test_only_topics_with_expected_outputs_are_checked() -> None:
    verify_outputs([], {"OUT": [_actual()]}, ran_without_inputs=False)
    verify_outputs(
        [_expected()], {"OUT": [_actual()], "OTHER": [_actual(), _actual()]}, ran_without_inputs=False
    )


def test_a_topic_without_records_has_zero() -> None:
    with pytest.raises(OutputCountMismatch, match="but it was <0>"):
        verify_outputs([_expected()], {}, ran_without_inputs=False)


def test_order_within_a_topic_matters() -> None:
    with pytest.raises(OutputMismatch, match="message 0"):
        _verify([_expected(value={"V": 2}), _expected()], [_actual(), _actual(value={"V": 2})])


@pytest.mark.parametrize(
    ("expected", "actual", "what"),
    [
        ({"key": "x"}, {}, "key differs"),
        ({"value": {"V": 2}}, {}, "value differs"),
        ({"value": None}, {}, "value differs"),
        ({"timestamp": 6}, {}, "timestamp differs"),
        ({"timestamp": 0}, {}, "timestamp differs"),
    ],
)
def test_each_part_is_compared(expected: dict[str, object], actual: dict[str, object], what: str) -> None:
    with pytest.raises(OutputMismatch) as info:
        _verify([_expected(**expected)], [_actual(**actual)])
    assert info.value.what == what
    assert str(info.value).startswith("Topic 'OUT', message 0: Expected <")


def test_missing_expected_timestamp_is_not_checked() -> None:
    _verify([_expected()], [_actual(timestamp=123)])


def test_zero_timestamp_matches_anything_only_without_inputs() -> None:
    _verify([_expected(timestamp=0)], [_actual(timestamp=77)], no_inputs=True)
    with pytest.raises(OutputMismatch):
        _verify([_expected(timestamp=1)], [_actual(timestamp=77)], no_inputs=True)


def test_missing_expected_key_means_null_key() -> None:
    _verify([_expected(key=None)], [_actual(key=None)])
    with pytest.raises(OutputMismatch):
        _verify([_expected(key=None)], [_actual(key="k")])


def test_headers_absent_means_none_expected() -> None:
    with pytest.raises(OutputMismatch) as info:
        _verify([_expected()], [_actual(headers=(("a", b"1"),))])
    assert info.value.what == "headers differ"


def test_headers_compare_key_and_bytes_in_order() -> None:
    headers = (HeaderSpec("a", b"1"), HeaderSpec("b", None))
    _verify([_expected(headers=headers)], [_actual(headers=(("a", b"1"), ("b", None)))])
    for wrong in [
        (("a", b"1"), ("b", b"")),
        (("b", None), ("a", b"1")),
        (("a", b"1"),),
        (("A", b"1"), ("b", None)),
    ]:
        with pytest.raises(OutputMismatch):
            _verify([_expected(headers=headers)], [_actual(headers=wrong)])


def test_windows_compare_start_end_and_type() -> None:
    window = WindowSpec(0, 30000, WindowType.TIME)
    _verify([_expected(window=window)], [_actual(window=window)])
    for wrong in [
        None,
        WindowSpec(0, 30001, WindowType.TIME),
        WindowSpec(1, 30000, WindowType.TIME),
        WindowSpec(0, 30000, WindowType.SESSION),
    ]:
        with pytest.raises(OutputMismatch):
            _verify([_expected(window=window)], [_actual(window=wrong)])


def test_windowed_actual_key_never_matches_an_unwindowed_expectation() -> None:
    with pytest.raises(OutputMismatch, match="message 0"):
        _verify([_expected()], [_actual(window=WindowSpec(0, 1, WindowType.TIME))])


def test_message_shows_both_records() -> None:
    with pytest.raises(OutputMismatch) as info:
        _verify([_expected(value="x", timestamp=5)], [_actual(value="y", headers=(("h", b"!"),))])
    text = str(info.value)
    assert '<"k", "x"> with timestamp=5 and headers=[]' in text
    assert 'but was <k, "y"> with timestamp=5 and headers=[{KEY=h,VALUE=IQ==}]' in text
