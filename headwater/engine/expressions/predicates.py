"""Comparisons, IN, BETWEEN and LIKE over whole columns, with ksqlDB's semantics.

* ``=``, ``<>``, ``<`` ... are FALSE when either side is NULL (ksqlDB's generated code tests for
  NULL first), so they never yield NULL; IS [NOT] DISTINCT FROM treats two NULLs as equal.
* ARRAY, MAP and STRUCT compare for (in)equality element by element, a NULL element equal to a NULL
  element (Java's ``equals``); MAPs regardless of entry order.
* IN is a disjunction of equalities (NULL never matches); literal items become one hash lookup
  (``is_in``).
* LIKE translates the pattern to an anchored regular expression once per distinct pattern: ``%`` is
  any run of characters, ``_`` one character, the escape character makes the next one literal;
  matching is case-sensitive and ``%``/``_`` do not match line terminators (``\\n``, ``\\r``,
  U+0085, U+2028, U+2029), as with Java's regex.

Example:
    >>> import pyarrow as pa
    >>> compare(ComparisonOp.LESS_THAN, pa.array([1, None, 3]), pa.scalar(2), t.INT, 3).to_pylist()
    [True, False, False]
    >>> like_regex("a%_b") == "^(?:a" + ANY_CHARACTER + "*" + ANY_CHARACTER + "b)$"
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.expressions.arrays import (
    Datum,
    broadcast,
    collection_lengths,
    is_scalar,
    map_entries,
    parent_indices,
    scatter,
    valid_mask,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t
from headwater.parser.expressions import ComparisonOp

__all__ = ["ANY_CHARACTER", "between", "compare", "deep_equal", "in_list", "like", "like_regex"]

_ORDERING = {
    ComparisonOp.EQUAL: pc.equal,
    ComparisonOp.NOT_EQUAL: pc.not_equal,
    ComparisonOp.LESS_THAN: pc.less,
    ComparisonOp.LESS_THAN_OR_EQUAL: pc.less_equal,
    ComparisonOp.GREATER_THAN: pc.greater,
    ComparisonOp.GREATER_THAN_OR_EQUAL: pc.greater_equal,
}
_STRUCTURED = (t.Array, t.Map, t.Struct)
_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")
ANY_CHARACTER = "[^\\n\\r\\x{85}\\x{2028}\\x{2029}]"
"""Java's ``.``: any character but a line terminator (RE2's ``.`` only excludes ``\\n``)."""


def _bool_result(values: np.ndarray, scalar: bool) -> Datum:
    return pa.scalar(bool(values[0])) if scalar else pa.array(values, type=pa.bool_())


def compare(op: ComparisonOp, left: Datum, right: Datum, sql_type: t.SqlType, length: int) -> Datum:
    """``left op right`` for operands of ``sql_type`` (see the module docstring)."""
    scalar = is_scalar(left) and is_scalar(right)
    n = 1 if scalar else length
    if isinstance(sql_type, _STRUCTURED) or op in (
        ComparisonOp.IS_DISTINCT_FROM,
        ComparisonOp.IS_NOT_DISTINCT_FROM,
    ):
        a, b = broadcast(left, n), broadcast(right, n)
        both = valid_mask(a, n) & valid_mask(b, n)
        if isinstance(sql_type, _STRUCTURED):
            equal = deep_equal(a, b, sql_type)
        else:
            equal = np.asarray(pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False), dtype=bool)
        if op is ComparisonOp.IS_NOT_DISTINCT_FROM:
            values = equal | ~(valid_mask(a, n) | valid_mask(b, n))
        elif op is ComparisonOp.IS_DISTINCT_FROM:
            values = ~(equal | ~(valid_mask(a, n) | valid_mask(b, n)))
        elif op is ComparisonOp.EQUAL:
            values = both & equal
        else:
            values = both & ~equal
        return _bool_result(values, scalar)
    result = _ORDERING[op](left, right)
    if isinstance(result, pa.Scalar):
        return pa.scalar(bool(result.is_valid and result.as_py()))
    return pc.fill_null(result, False) if result.null_count else result


def between(value: Datum, low: Datum, high: Datum, negated: bool, sql_type: t.SqlType, length: int) -> Datum:
    """``value >= low AND value <= high`` (each FALSE on NULL), then negated if asked."""
    result = pc.and_(
        compare(ComparisonOp.GREATER_THAN_OR_EQUAL, value, low, sql_type, length),
        compare(ComparisonOp.LESS_THAN_OR_EQUAL, value, high, sql_type, length),
    )
    return pc.invert(result) if negated else result


def in_list(value: Datum, items: Sequence[Datum], sql_type: t.SqlType, length: int, negated: bool) -> Datum:
    """``value IN (items)``: TRUE when an item equals the value (never for NULLs)."""
    scalar = is_scalar(value) and all(is_scalar(i) for i in items)
    n = 1 if scalar else length
    if isinstance(sql_type, _STRUCTURED):
        a = broadcast(value, n)
        found = np.zeros(n, dtype=bool)
        for item in items:
            b = broadcast(item, n)
            found |= valid_mask(a, n) & valid_mask(b, n) & deep_equal(a, b, sql_type)
        return _bool_result(~found if negated else found, scalar)
    constants = [i for i in items if is_scalar(i) and i.is_valid]
    columns = [i for i in items if not is_scalar(i)]
    found_datum: Datum = pa.scalar(False)
    if constants:
        value_set = pa.array([c.as_py() for c in constants], type=to_arrow(sql_type))
        found_datum = pc.fill_null(pc.is_in(value, value_set=value_set, skip_nulls=True), False)
    for column in columns:
        found_datum = pc.or_(found_datum, compare(ComparisonOp.EQUAL, value, column, sql_type, n))
    if scalar:
        found_datum = pa.scalar(bool(found_datum.as_py()))
    return pc.invert(found_datum) if negated else found_datum


# ------------------------------------------------------------------------------------------------------
# Deep equality of ARRAY, MAP and STRUCT values


def deep_equal(a: pa.Array, b: pa.Array, sql_type: t.SqlType) -> np.ndarray:
    """Row-wise equality of two columns of ``sql_type``, where two NULLs are equal (the rule inside
    collections; callers apply the top-level NULL rule themselves)."""
    n = len(a)
    va, vb = valid_mask(a, n), valid_mask(b, n)
    both_null = ~va & ~vb
    if isinstance(sql_type, t.Struct):
        equal = va & vb
        for index, (_, field_type) in enumerate(sql_type.fields):
            equal &= deep_equal(pc.struct_field(a, [index]), pc.struct_field(b, [index]), field_type)
        return both_null | equal
    if isinstance(sql_type, t.Array | t.Map):
        rows = np.flatnonzero(va & vb & (collection_lengths(a) == collection_lengths(b)))
        result = both_null.copy()
        if rows.size:
            result[rows] = _collection_rows_equal(a.take(pa.array(rows)), b.take(pa.array(rows)), sql_type)
        return result
    equal = np.asarray(pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False), dtype=bool)
    return both_null | (va & vb & equal)


def _collection_rows_equal(a: pa.Array, b: pa.Array, sql_type: t.SqlType) -> np.ndarray:
    """For lists (or maps) of equal lengths row by row: whether all elements match."""
    parents = parent_indices(a)
    if isinstance(sql_type, t.Map):
        keys_a, values_a = _sorted_entries(a, parents)
        keys_b, values_b = _sorted_entries(b, parents)
        element_equal = deep_equal(keys_a, keys_b, sql_type.key) & deep_equal(
            values_a, values_b, sql_type.value
        )
    else:
        assert isinstance(sql_type, t.Array)
        element_equal = deep_equal(pc.list_flatten(a), pc.list_flatten(b), sql_type.element)
    mismatches = np.bincount(parents[~element_equal], minlength=len(a))
    return np.asarray(mismatches == 0)


def _sorted_entries(maps: pa.Array, parents: np.ndarray) -> tuple[pa.Array, pa.Array]:
    keys, values = map_entries(maps)
    order = pc.sort_indices(
        pa.table({"row": pa.array(parents), "key": keys}),
        sort_keys=[("row", "ascending"), ("key", "ascending")],
    )
    return keys.take(order), values.take(order)


# ------------------------------------------------------------------------------------------------------
# LIKE


def like_regex(pattern: str, escape: str | None = None) -> str:
    """The anchored RE2 pattern equivalent to a LIKE pattern (see the module docstring).

    Raises:
        ValueError: the pattern ends with the escape character.
    """
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            escaped = False
            parts.append("\\" + char if char in _REGEX_SPECIAL else char)
        elif escape is not None and char == escape:
            escaped = True
        elif char == "%":
            parts.append(ANY_CHARACTER + "*")
        elif char == "_":
            parts.append(ANY_CHARACTER)
        else:
            parts.append("\\" + char if char in _REGEX_SPECIAL else char)
    if escaped:
        raise ValueError("LIKE pattern must not end with escape character")
    return "^(?:" + "".join(parts) + ")$"


def like(value: Datum, pattern: Datum, escape: str | None, negated: bool, length: int) -> Datum:
    """``value LIKE pattern``; NULL when either side is NULL. A column of patterns is matched once per
    distinct pattern. Raises ValueError for a pattern that ends with the escape character."""
    if is_scalar(pattern):
        if not pattern.is_valid:
            return pa.scalar(None, pa.bool_()) if is_scalar(value) else pa.nulls(length, pa.bool_())
        result = _match(value, like_regex(pattern.as_py(), escape))
    else:
        values = broadcast(value, length)
        pieces: list[tuple[np.ndarray, pa.Array]] = []
        for distinct in pc.unique(pattern).to_pylist():
            if distinct is None:
                continue
            rows = np.flatnonzero(np.asarray(pc.fill_null(pc.equal(pattern, distinct), False), dtype=bool))
            pieces.append((rows, _match(values.take(pa.array(rows)), like_regex(distinct, escape))))
        result = scatter(pieces, length, pa.bool_())
    return pc.invert(result) if negated else result


def _match(value: Datum, regex: str) -> Datum:
    if is_scalar(value):
        return pc.match_substring_regex(pa.repeat(value, 1), regex)[0]
    return pc.match_substring_regex(value, regex)
