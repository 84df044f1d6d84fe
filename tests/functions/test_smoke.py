from __future__ import annotations

from function_calls import call, col, lit

from headwater.parser import types as t


def test_substring_through_registry() -> None:
    assert call("SUBSTRING", col(t.STRING, ["some_string", "short", None]), lit(t.INT, 6)) == ["string", "", None]
