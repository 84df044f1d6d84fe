"""Reasons of cases that error: the exception, where in the product it surfaced, its traceback."""

from __future__ import annotations

import pytest

from headwater.conformance.results import error_reason, first_line
from headwater.parser import parse_type


def test_an_error_reason_names_the_innermost_product_frame() -> None:
    with pytest.raises(Exception) as raised:
        parse_type(None)  # type: ignore[arg-type]
    reason = error_reason(raised.value)
    summary = first_line(reason)
    assert summary.startswith(f"{type(raised.value).__name__}: ")
    assert " at headwater/parser/" in summary and "/conformance/" not in summary
    assert "Traceback" in reason.split("\n", 1)[1]


def test_first_line_skips_leading_blank_lines() -> None:
    assert first_line("\n  boom\nmore") == "boom"
