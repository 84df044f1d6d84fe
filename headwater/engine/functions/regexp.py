"""Regular-expression functions: REGEXP_EXTRACT, REGEXP_EXTRACT_ALL, REGEXP_REPLACE and
REGEXP_SPLIT_TO_ARRAY, with Java's pattern syntax (see :mod:`.java_regex`).

The pattern is nearly always a literal, so each kernel compiles it once and runs Arrow's RE2 kernels
over the whole column; a column of patterns is grouped by distinct pattern. Patterns RE2 cannot run
(backreferences, lookaround...) fall back to Python's ``re`` row by row, as does REGEXP_EXTRACT_ALL,
for which Arrow has no all-matches kernel.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.functions.registry import CallContext
    >>> from headwater.parser import types as t
    >>> ctx = CallContext((t.STRING, t.STRING, t.INT), t.STRING, 2)
    >>> _extract([pa.scalar("(.*) (.*)"), pa.array(["steven zhang", "agavra"]), pa.scalar(2)], ctx).to_pylist()
    ['zhang', None]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.columns import apply_by_distinct, as_array, valid_mask, with_nulls
from headwater.engine.functions.java_regex import (
    JavaPattern,
    compile_java,
    java_replacement_to_python,
    java_replacement_to_re2,
)
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.functions.text import spans_to_strings
from headwater.parser import types as t

__all__ = ["FUNCTIONS"]

CATEGORY = "REGULAR EXPRESSION"


def _numbered(pattern: JavaPattern) -> str:
    """The RE2 pattern with every capturing group named ``g<n>`` (plus ``g0`` around the whole), so
    that Arrow's extract kernels report Java's numbered groups."""
    assert pattern.re2 is not None
    out = []
    text = pattern.re2
    group = 0
    i = 0
    in_class = False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            continue
        if ch == "(":
            if text.startswith("(?P<", i):
                group += 1
                close = text.index(">", i)
                out.append(f"(?P<g{group}>")
                i = close + 1
                continue
            if not text.startswith("(?", i):
                group += 1
                out.append(f"(?P<g{group}>")
                i += 1
                continue
        out.append(ch)
        i += 1
    return "(?P<g0>" + "".join(out) + ")"


def _extract_one(pattern: JavaPattern, text: str, group: int) -> str | None:
    match = pattern.python.search(text)
    return match.group(group) if match else None


def _extract(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    inputs = as_array(args[1], ctx.length)
    group_arg: Datum = args[2] if len(args) > 2 else pa.scalar(0, pa.int32())

    def compute(key: tuple[str, int], rows: np.ndarray) -> pa.Array:
        pattern = compile_java(key[0])
        group = key[1]
        subset = inputs.take(pa.array(rows)) if len(rows) != ctx.length else inputs
        if group > pattern.group_count:
            return pa.nulls(len(rows), pa.string())
        if group < 0:
            raise FunctionError(f"No group {group}")
        if pattern.re2 is None:
            return pa.array(
                [None if v is None else _extract_one(pattern, v, group) for v in subset.to_pylist()], pa.string()
            )
        spans = pc.extract_regex_span(subset, pattern=_numbered(pattern))
        return spans_to_strings(subset, pc.struct_field(spans, [group]))

    return apply_by_distinct([args[0], group_arg], ctx.length, pa.string(), compute)


def _extract_all(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """All matches, per row in Python: Arrow has no kernel that returns every match of a pattern."""
    inputs = as_array(args[1], ctx.length)
    group_arg: Datum = args[2] if len(args) > 2 else pa.scalar(0, pa.int32())
    out_type = pa.list_(pa.string())

    def compute(key: tuple[str, int], rows: np.ndarray) -> pa.Array:
        pattern = compile_java(key[0])
        group = key[1]
        if group > pattern.group_count:
            return pa.nulls(len(rows), out_type)
        if group < 0:
            raise FunctionError(f"No group {group}")
        subset = inputs.take(pa.array(rows)).to_pylist()
        result = [
            None if v is None else [m.group(group) for m in pattern.python.finditer(v)] for v in subset
        ]
        return pa.array(result, out_type)

    return apply_by_distinct([args[0], group_arg], ctx.length, out_type, compute)


_extract_all.rowwise = True  # type: ignore[attr-defined]


def _replace(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    inputs = as_array(args[0], ctx.length)

    def compute(key: tuple[str, str], rows: np.ndarray) -> pa.Array:
        pattern = compile_java(key[0])
        subset = inputs.take(pa.array(rows)) if len(rows) != ctx.length else inputs
        if pattern.re2 is not None and pattern.group_count <= 9:
            rewrite = java_replacement_to_re2(key[1], pattern)
            return pc.replace_substring_regex(subset, pattern=pattern.re2, replacement=rewrite)
        template = java_replacement_to_python(key[1], pattern)
        return pa.array(
            [None if v is None else pattern.python.sub(template, v) for v in subset.to_pylist()], pa.string()
        )

    result = apply_by_distinct([args[1], args[2]], ctx.length, pa.string(), compute)
    return with_nulls(result, ~valid_mask(inputs))


def _java_split(pattern: re.Pattern[str], text: str) -> list[str]:
    """Java's ``Pattern.split(text)``: a zero-width match at the start makes no leading empty piece,
    and trailing empty pieces are removed."""
    pieces: list[str] = []
    index = 0
    matched = False
    for match in pattern.finditer(text):
        if match.start() == 0 and match.end() == 0:
            continue
        matched = True
        pieces.append(text[index : match.start()])
        index = match.end()
    if not matched:
        return [text]
    pieces.append(text[index:])
    while pieces and pieces[-1] == "":
        pieces.pop()
    return pieces


def _split(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    inputs = as_array(args[0], ctx.length)
    out_type = pa.list_(pa.string())

    def compute(source: str, rows: np.ndarray) -> pa.Array:
        pattern = compile_java(source)
        subset = inputs.take(pa.array(rows)) if len(rows) != ctx.length else inputs
        if source == "" or pattern.matches_empty():
            return pa.array(
                [None if v is None else _java_split(pattern.python, v) for v in subset.to_pylist()], out_type
            )
        if pattern.re2 is not None:
            return pc.split_pattern_regex(subset, pattern=pattern.re2)
        return pa.array(
            [None if v is None else pattern.python.split(v) if not pattern.python.groups
             else _split_keep_all(pattern.python, v) for v in subset.to_pylist()],
            out_type,
        )

    return with_nulls(apply_by_distinct(args[1], ctx.length, out_type, compute), ~valid_mask(inputs))


def _split_keep_all(pattern: re.Pattern[str], text: str) -> list[str]:
    """Guava's ``Splitter.on(pattern)``: every piece between matches, empty ones included."""
    pieces = []
    index = 0
    for match in pattern.finditer(text):
        pieces.append(text[index : match.start()])
        index = match.end()
    pieces.append(text[index:])
    return pieces


_PATTERN = Param("pattern", t.STRING, "The regex pattern.")
_INPUT = Param("input", t.STRING, "The input string to apply regex on.")
_GROUP = Param("group", t.INT, "The capturing group number.")

FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "regexp_extract",
        CATEGORY,
        "Extracts the first substring matched by a regex pattern, or the given capturing group of it.",
        (
            Signature((_PATTERN, _INPUT), t.STRING, _extract, description="The first match."),
            Signature((_PATTERN, _INPUT, _GROUP), t.STRING, _extract, description="A group of the first match."),
        ),
    ),
    ScalarFunction(
        "regexp_extract_all",
        CATEGORY,
        "Extracts all substrings matched by a regex pattern, or the given capturing group of each.",
        (
            Signature((_PATTERN, _INPUT), t.Array(t.STRING), _extract_all, description="All matches."),
            Signature(
                (_PATTERN, _INPUT, _GROUP), t.Array(t.STRING), _extract_all, description="A group of each match."
            ),
        ),
    ),
    ScalarFunction(
        "regexp_replace",
        CATEGORY,
        "Replaces all matches of a regexp in a string with a new substring ($n refers to a group).",
        (
            Signature(
                (
                    Param("str", t.STRING, "The source string."),
                    Param("regexp", t.STRING, "The regexp to match."),
                    Param("newStr", t.STRING, "The string to replace the matches with."),
                ),
                t.STRING,
                _replace,
            ),
        ),
    ),
    ScalarFunction(
        "regexp_split_to_array",
        CATEGORY,
        "Splits a string into an array of substrings based on a regexp; empty pieces are kept, and an "
        "empty regexp splits every character.",
        (
            Signature(
                (Param("string", t.STRING, "The string to be split."),
                 Param("regexp", t.STRING, "The regular expression to split the string by.")),
                t.Array(t.STRING),
                _split,
            ),
        ),
    ),
)
