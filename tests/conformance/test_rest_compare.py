"""RQTT verdicts, rule by rule (FORMAT.md §12.4), on hand-made responses, records and errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from headwater.conformance.comparator import ActualRecord
from headwater.conformance.model import RecordSpec
from headwater.conformance.rest_compare import (
    ResponseMismatch,
    error_mismatch,
    java_equals,
    verify_responses,
    verify_rest_outputs,
)
from headwater.conformance.rest_model import (
    KSQL_ERROR_MESSAGE,
    KSQL_STATEMENT_ERROR_MESSAGE,
    ErrorResponse,
    ExpectedError,
)

HEADER = {"header": {"queryId": "transient_S_1", "schema": "`K` STRING KEY, `V` BIGINT"}}


def _query(*rows: Any, final: str | None = None) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = [HEADER, *({"row": {"columns": list(r)}} for r in rows)]
    if final is not None:
        body.append({"finalMessage": final})
    return body


def _expected_query(*rows: Any, final: str | None = None) -> dict[str, Any]:
    body: list[dict[str, Any]] = [{"header": {"schema": HEADER["header"]["schema"]}}]
    body += [{"row": {"columns": list(r)}} for r in rows]
    if final is not None:
        body.append({"finalMessage": final})
    return {"query": body}


def test_only_expected_keys_are_checked() -> None:
    admin = {"@type": "currentStatus", "commandId": "stream/S/create", "commandSequenceNumber": 3}
    verify_responses([("admin", admin)], [{"admin": {"@type": "currentStatus"}}])
    with pytest.raises(ResponseMismatch, match=r"responses\[0\]->admin->@type: expected 'tables'"):
        verify_responses([("admin", admin)], [{"admin": {"@type": "tables"}}])
    with pytest.raises(ResponseMismatch, match="expected an object with key 'missing'"):
        verify_responses([("admin", admin)], [{"admin": {"missing": 1}}])


def test_more_actual_responses_are_fine_fewer_are_not() -> None:
    admin = ("admin", {"@type": "currentStatus"})
    verify_responses([admin, admin], [{"admin": {"@type": "currentStatus"}}])
    with pytest.raises(ResponseMismatch, match="Not enough responses: expected 2, but got 1"):
        verify_responses([admin], [{"admin": {}}, {"admin": {}}])
    with pytest.raises(ResponseMismatch, match="expected query response, but was admin"):
        verify_responses([admin], [_expected_query()])


def test_rows_are_a_multiset_header_and_final_message_are_positional() -> None:
    actual = _query(["b", 2], ["a", 1], ["b", 2], final="Limit Reached")
    verify_responses(
        [("query", actual)], [_expected_query(["a", 1], ["b", 2], ["b", 2], final="Limit Reached")]
    )
    with pytest.raises(ResponseMismatch, match="Uneven occurrence"):
        verify_responses(
            [("query", actual)], [_expected_query(["a", 1], ["a", 1], ["b", 2], final="Limit Reached")]
        )
    with pytest.raises(ResponseMismatch, match=r"query\[4\]->finalMessage: expected 'Query Completed'"):
        verify_responses(
            [("query", actual)], [_expected_query(["a", 1], ["b", 2], ["b", 2], final="Query Completed")]
        )
    with pytest.raises(ResponseMismatch, match="expected an object with key 'finalMessage'"):
        verify_responses(
            [("query", _query(["a", 1], ["b", 2]))], [_expected_query(["a", 1], final="Limit Reached")]
        )


def test_verify_order_compares_rows_in_place() -> None:
    actual = _query(["b", 2], ["a", 1])
    expected = [_expected_query(["a", 1], ["b", 2])]
    verify_responses([("query", actual)], expected)
    with pytest.raises(ResponseMismatch, match=r"query\[1\]->row->columns"):
        verify_responses([("query", actual)], expected, verify_order=True)


def test_row_count_must_be_exact() -> None:
    with pytest.raises(ResponseMismatch, match="row count mismatch"):
        verify_responses([("query", _query(["a", 1]))], [_expected_query(["a", 1], ["a", 1])])


def test_a_single_expected_row_is_named_in_the_message() -> None:
    with pytest.raises(ResponseMismatch, match=r"expected \['a', 1\], but was \['a', 2\]"):
        verify_responses([("query", _query(["a", 2]))], [_expected_query(["a", 1])])


def test_starts_with_operator() -> None:
    expected = {
        "query": [{"header": {"schema": HEADER["header"]["schema"], "queryId|starts_with": "transient_"}}]
    }
    verify_responses([("query", _query())], [expected])
    expected["query"][0]["header"]["queryId|starts_with"] = "SCALABLE_PUSH_QUERY"
    with pytest.raises(ResponseMismatch, match="expected a string starting with 'SCALABLE_PUSH_QUERY'"):
        verify_responses([("query", _query())], [expected])


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        (Decimal("1.0"), Decimal("1.0"), True),
        (Decimal("1.0"), Decimal("1.00"), False),
        (1, Decimal("1.0"), False),
        (1, 1, True),
        (True, 1, False),
        ({"A": [1, None]}, {"A": [1, None]}, True),
        ({"A": 1}, {"a": 1}, False),
        ([1, 2], [2, 1], False),
        (None, None, True),
        ("1", 1, False),
    ],
)
def test_java_equality_of_json_values(actual: Any, expected: Any, equal: bool) -> None:
    assert java_equals(actual, expected) is equal


def test_decimal_scale_counts_inside_row_multisets() -> None:
    actual = _query(["a", Decimal("1.50")])
    verify_responses([("query", actual)], [_expected_query(["a", Decimal("1.50")])])
    with pytest.raises(ResponseMismatch):
        verify_responses([("query", actual)], [_expected_query(["a", Decimal("1.5")])])


def _record(key: Any, value: Any, timestamp: int | None = None) -> RecordSpec:
    return RecordSpec(topic="t", key=key, value=value, timestamp=timestamp)


def test_outputs_key_value_and_timestamp() -> None:
    actual = {"t": [ActualRecord(key="k", value={"ID": 10}, timestamp=1234), ActualRecord("x", None, 5)]}
    verify_rest_outputs([_record("k", {"id": 10}, 1234)], actual)  # only the first records count
    verify_rest_outputs([_record("k", {"ID": 10})], actual)  # no timestamp: not checked
    with pytest.raises(ResponseMismatch, match=r"^key differs: Topic t, record 0"):
        verify_rest_outputs([_record("j", {"ID": 10})], actual)
    with pytest.raises(ResponseMismatch, match=r"^value differs"):
        verify_rest_outputs([_record("k", {"ID": 11})], actual)
    with pytest.raises(ResponseMismatch, match=r"^timestamp differs"):
        verify_rest_outputs([_record("k", {"ID": 10}, 1)], actual)
    with pytest.raises(ResponseMismatch, match=r"^too few records: Topic t: expected at least 3 records"):
        verify_rest_outputs([_record("k", {"ID": 10})] * 3, actual)


def test_output_keys_are_coerced_to_the_actual_type() -> None:
    verify_rest_outputs(
        [_record(Decimal("1.23"), None)], {"t": [ActualRecord(key=1.23, value=None, timestamp=0)]}
    )
    verify_rest_outputs([_record(10, None)], {"t": [ActualRecord(key=10, value=None, timestamp=0)]})
    with pytest.raises(ResponseMismatch):
        verify_rest_outputs([_record(10, None)], {"t": [ActualRecord(key="10", value=None, timestamp=0)]})


def _error(statement: bool = True, text: str | None = "SELECT * FROM S GROUP BY K;") -> ErrorResponse:
    return ErrorResponse(
        400, statement, "Pull queries don't support GROUP BY clauses.", text if statement else None
    )


def test_error_matching() -> None:
    last = "SELECT * FROM S GROUP BY K;"
    assert (
        error_mismatch(_error(), ExpectedError(KSQL_STATEMENT_ERROR_MESSAGE, "GROUP BY", 400), last) is None
    )
    assert error_mismatch(_error(), ExpectedError(KSQL_ERROR_MESSAGE), last) is None  # a subclass
    assert "expected a io.confluent" in str(
        error_mismatch(_error(False), ExpectedError(KSQL_STATEMENT_ERROR_MESSAGE), last)
    )
    assert "to contain" in str(
        error_mismatch(
            _error(text="SELECT * FROM S GROUP BY K"), ExpectedError(KSQL_STATEMENT_ERROR_MESSAGE), last
        )
    )
    assert "expected status 404" in str(error_mismatch(_error(), ExpectedError(status=404), last))
    assert "message containing 'WINDOW'" in str(
        error_mismatch(_error(), ExpectedError(message="WINDOW"), last)
    )


def test_an_unexpected_row_is_named() -> None:
    actual = _query(["a", 1], ["z", 9])
    with pytest.raises(
        ResponseMismatch, match=r"query\[2\]->row->columns: \['z', 9\] is not among the expected rows"
    ):
        verify_responses([("query", actual)], [_expected_query(["a", 1], ["b", 2])])
