"""JSON functions: EXTRACTJSONFIELD, IS_JSON_STRING, JSON_ARRAY_CONTAINS, JSON_ARRAY_LENGTH,
JSON_CONCAT, JSON_ITEMS, JSON_KEYS, JSON_RECORDS and TO_JSON_STRING.

ksqlDB parses with Jackson, configured to keep numbers exact (``1.50`` stays ``1.50``), to read only
the first JSON value of the text (trailing content is ignored), and to reject ``NaN``; text holding
no value at all (``""``) is Jackson's "missing node". :func:`parse_json` reproduces that with
Python's ``json`` module, and :func:`write_json` writes JSON the way Jackson does (compact, keys in
order, control characters as upper-case ``\\u00XX``).

JSON text has no columnar form, so these kernels parse and write row by row (listed in
docs/architecture.md's fallback table); TO_JSON_STRING is vectorized for the primitive types whose
JSON is their plain text.

EXTRACTJSONFIELD's path language is ksqlDB's (from Presto): ``$``, then ``.name`` or ``["name"]``
for object members and ``[n]`` or ``.n`` for array elements; no wildcards.

Example:
    >>> extract_json_field('{"log": {"cloud": "gcp", "n": [1.50, 2]}}', "$.log.n")
    '[1.50,2]'
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.formats.json_rows import JSON_ESCAPE_PATTERN, json_string_literal
from headwater.engine.functions.columns import as_array, list_parts, rebuild_list, valid_mask
from headwater.engine.functions.javafmt import java_decimal_str, java_double_str
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Generic,
    Param,
    ScalarFunction,
    Signature,
    rowwise,
)
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "MISSING", "extract_json_field", "parse_json", "write_json"]

CATEGORY = "JSON"
_T = Generic("T")


class _Missing:
    """Jackson's MissingNode: the text held no JSON value."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


_DECODER = json.JSONDecoder(parse_float=decimal.Decimal, parse_constant=_reject_constant)
_LEADING_SPACE = re.compile(r"[ \t\n\r]*")


def parse_json(text: str) -> Any:
    """Parse like ksqlDB's ``UdfJsonMapper.parseJson``: the first value of the text, numbers exact,
    :data:`MISSING` for text with no value.

    Raises:
        FunctionError: "Invalid JSON format:<text>".
    """
    start = _LEADING_SPACE.match(text)
    position = start.end() if start else 0
    if position >= len(text):
        return MISSING
    try:
        value, _ = _DECODER.raw_decode(text, position)
    except (ValueError, RecursionError) as error:
        raise FunctionError(f"Invalid JSON format:{text}") from error
    return value


def parse_json_fast(text: str) -> Any:
    """:func:`parse_json` through orjson (C) when it can: numbers become Python floats, so callers
    that write numbers back must use :func:`parse_json` for trees holding floats (see
    :func:`holds_float`). Anything orjson refuses (trailing content, huge integers, bad JSON) goes
    through :func:`parse_json`, which decides like Jackson."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return parse_json(text)


def holds_float(node: Any) -> bool:
    """Whether a parsed tree holds a non-integral number (whose exact text only :func:`parse_json`
    keeps)."""
    if isinstance(node, float):
        return True
    if isinstance(node, dict):
        return any(holds_float(v) for v in node.values())
    if isinstance(node, list):
        return any(holds_float(v) for v in node)
    return False


def write_json(value: Any, *, plain_decimals: bool = True) -> str:
    """Jackson's compact JSON for a parsed value. ``plain_decimals`` is ksqlDB's mapper setting
    (``WRITE_BIGDECIMAL_AS_PLAIN``); a node's own ``toString()`` writes ``1E+2`` instead."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json_string_literal(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if plain_decimals else java_decimal_str(value)
    if isinstance(value, float):
        return java_double_str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json_string_literal(str(k))}:{write_json(v, plain_decimals=plain_decimals)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(write_json(v, plain_decimals=plain_decimals) for v in value) + "]"
    raise FunctionError(f"JSON serialization error: cannot write {type(value).__name__}")


def _node_text(value: Any) -> str:
    """Jackson's ``JsonNode.toString()``."""
    return write_json(value, plain_decimals=False)


# --------------------------------------------------------------------------------------------------------
# EXTRACTJSONFIELD


@lru_cache(maxsize=256)
def json_path_tokens(path: str) -> tuple[str, ...]:
    """Tokenize a ksqlDB JSON path.

    Raises:
        FunctionError: "Invalid JSON path: '<path>'".
    """
    invalid = FunctionError(f"Invalid JSON path: '{path}'")
    index = 0
    length = len(path)

    def skip_space() -> None:
        nonlocal index
        while index < length and path[index].isspace():
            index += 1

    def try_match(ch: str) -> bool:
        nonlocal index
        skip_space()
        if index < length and path[index] == ch:
            index += 1
            return True
        return False

    def unquoted(allow_colon: bool) -> str:
        nonlocal index
        skip_space()
        start = index
        while index < length and (path[index].isalnum() or path[index] == "_" or (allow_colon and path[index] == ":")):
            index += 1
        if index == start:
            raise invalid
        return path[start:index]

    def quoted() -> str:
        nonlocal index
        out = []
        while index < length and path[index] != '"':
            if path[index] == "\\" and index + 1 < length:
                index += 1
            out.append(path[index])
            index += 1
        if not try_match('"'):
            raise invalid
        return "".join(out)

    if not try_match("$"):
        raise invalid
    tokens: list[str] = []
    while True:
        skip_space()
        if index >= length:
            return tuple(tokens)
        if try_match("."):
            tokens.append(unquoted(allow_colon=True))
        elif try_match("["):
            tokens.append(quoted() if try_match('"') else unquoted(allow_colon=False))
            if not try_match("]"):
                raise invalid
        else:
            raise invalid


def extract_json_field(text: str, path: str) -> str | None:
    """One row of EXTRACTJSONFIELD."""
    tokens = json_path_tokens(path)
    node = _walk(parse_json_fast(text), tokens)
    if node is MISSING:
        return None
    if isinstance(node, str):
        return node
    if holds_float(node):
        node = _walk(parse_json(text), tokens)
    return _node_text(node)


def _walk(node: Any, tokens: tuple[str, ...]) -> Any:
    for token in tokens:
        if isinstance(node, list):
            try:
                position = int(token)
            except ValueError:
                return MISSING
            node = node[position] if 0 <= position < len(node) else MISSING
        elif isinstance(node, dict):
            node = node.get(token, MISSING)
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node


# --------------------------------------------------------------------------------------------------------
# The other JSON functions, one row at a time


def _is_json_string(text: str | None) -> bool:
    if text is None:
        return False
    try:
        return parse_json_fast(text) is not MISSING
    except FunctionError:
        return False


def _json_array_length(text: str) -> int | None:
    node = parse_json_fast(text)
    return len(node) if isinstance(node, list) else None


def _json_keys(text: str) -> list[str] | None:
    node = parse_json_fast(text)
    return list(node) if isinstance(node, dict) else None


def _json_records(text: str) -> list[tuple[str, str]] | None:
    node = parse_json(text)
    if not isinstance(node, dict):
        return None
    return [(k, _node_text(v)) for k, v in node.items()]


def _json_items(text: str) -> list[str] | None:
    node = parse_json(text)
    if not isinstance(node, list):
        return None
    return [_node_text(v) for v in node]


def _json_concat(*texts: str | None) -> str | None:
    nodes = []
    for text in texts:
        if text is None:
            return None
        node = parse_json(text)
        if node is MISSING:
            return None
        nodes.append(node)
    if all(isinstance(n, dict) for n in nodes):
        merged: dict[str, Any] = {}
        for node in nodes:
            merged.update(node)
        return write_json(merged)
    items: list[Any] = []
    for node in nodes:
        items.extend(node if isinstance(node, list) else [node])
    return write_json(items)


def _json_array_contains_one(text: str | None, value: Any, kind: str) -> bool:
    """Jackson's token-by-token scan: the value must have the element's JSON kind."""
    if text is None:
        return False
    try:
        node = parse_json(text)
    except FunctionError:
        return False
    if not isinstance(node, list):
        return False
    for element in node:
        if element is None:
            if value is None:
                return True
        elif value is None:
            continue
        elif kind == "int" and isinstance(element, int) and not isinstance(element, bool):
            if element == value:
                return True
        elif kind == "double" and isinstance(element, decimal.Decimal):
            if float(element) == value:
                return True
        elif kind == "string" and isinstance(element, str):
            if element == value:
                return True
        elif kind == "boolean" and isinstance(element, bool) and element == value:
            return True
    return False


def _json_array_contains(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    texts = as_array(args[0], ctx.length).to_pylist()
    values_array = as_array(args[1], ctx.length)
    value_type = ctx.arg_types[1]
    kinds: dict[t.SqlType, str] = {
        t.INT: "int", t.BIGINT: "int", t.DOUBLE: "double", t.STRING: "string", t.BOOLEAN: "boolean"
    }
    kind = kinds.get(value_type, "other") if value_type is not None else "other"
    values = values_array.to_pylist()
    return pa.array(
        [_json_array_contains_one(text, value, kind) for text, value in zip(texts, values)], pa.bool_()
    )


_json_array_contains.rowwise = True  # type: ignore[attr-defined]


def _json_concat_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    columns = [as_array(a, ctx.length).to_pylist() for a in args]
    out = []
    for row in zip(*columns):
        out.append(_json_concat(*row))
    return pa.array(out, pa.string())


_json_concat_kernel.rowwise = True  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------------
# TO_JSON_STRING


def _time_text(millis: int) -> str:
    """Java's ``LocalTime.toString()``: seconds and fractions only when they are not zero."""
    seconds, ms = divmod(millis, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}"
    if secs or ms:
        text += f":{secs:02d}"
        if ms:
            text += f".{ms:03d}"
    return text


def _date_text(days: int) -> str:
    date = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    return date.isoformat() if date.year <= 9999 else f"+{date.isoformat()}"


def _timestamp_text(millis: int) -> str:
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _prepare(value: Any, sql_type: t.SqlType) -> Any:
    """A SQL value as the plain value Jackson writes (``ToJsonString.prepare``)."""
    if value is None:
        return None
    if sql_type == t.TIME:
        millis = value if isinstance(value, int) else (
            (value.hour * 3600 + value.minute * 60 + value.second) * 1000 + value.microsecond // 1000
        )
        return _time_text(millis)
    if sql_type == t.DATE:
        return _date_text(value if isinstance(value, int) else (value - dt.date(1970, 1, 1)).days)
    if sql_type == t.TIMESTAMP:
        if isinstance(value, dt.datetime):
            value = int((value - dt.datetime(1970, 1, 1)) / dt.timedelta(milliseconds=1))
        return _timestamp_text(value)
    if sql_type == t.BYTES:
        return base64.b64encode(value).decode("ascii")
    if isinstance(sql_type, t.Struct):
        return {name: _prepare(value.get(name), ft) for name, ft in sorted(sql_type.fields)}
    if isinstance(sql_type, t.Map):
        items = value.items() if isinstance(value, dict) else value
        return {str(k): _prepare(v, sql_type.value) for k, v in sorted(items, key=lambda kv: str(kv[0]))}
    if isinstance(sql_type, t.Array):
        return [_prepare(v, sql_type.element) for v in value]
    if sql_type == t.DOUBLE:
        return float(value)
    if isinstance(value, decimal.Decimal):
        return value
    return value


_PLAIN_TEXT_TYPES = (t.INT, t.BIGINT, t.BOOLEAN)


def _plain_json(values: pa.Array, sql_type: t.SqlType) -> pa.Array | None:
    """The JSON of a column computed with Arrow kernels, when its type allows (numbers and booleans
    are their text, strings need only quotes unless they hold characters to escape, arrays of those
    are their elements joined); None when only the per-row writer can do it."""
    if sql_type in _PLAIN_TEXT_TYPES:
        return values.cast(pa.string())
    if sql_type == t.STRING:
        if pc.any(pc.match_substring_regex(values, JSON_ESCAPE_PATTERN)).as_py():
            return None
        return pc.binary_join_element_wise('"', values, '"', "")
    if isinstance(sql_type, t.Array) and (sql_type.element in _PLAIN_TEXT_TYPES or sql_type.element == t.STRING):
        lengths, elements, validity = list_parts(values)
        element_text = _plain_json(elements, sql_type.element)
        if element_text is None:
            return None
        texts = rebuild_list(lengths, pc.fill_null(element_text, "null"), validity, pa.list_(pa.string()))
        return pc.binary_join_element_wise("[", pc.binary_join(texts, ","), "]", "")
    return None


def _to_json_string(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)
    sql_type = ctx.arg_types[0]
    assert sql_type is not None
    valid = valid_mask(values)
    text = _plain_json(values, sql_type)
    if text is None:
        text = pa.array(
            [None if v is None else write_json(_prepare(v, sql_type)) for v in values.to_pylist()], pa.string()
        )
    return pc.if_else(pa.array(valid), text, pa.scalar("null"))


def _records_kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    texts = as_array(args[0], ctx.length).to_pylist()
    out = [None if text is None else _json_records(text) for text in texts]
    return pa.array(out, to_arrow(ctx.return_type))


_records_kernel.rowwise = True  # type: ignore[attr-defined]


_JSON = Param("json", t.STRING, "The JSON text.")

FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "extractjsonfield",
        CATEGORY,
        "Given a STRING that contains JSON data, extract the value at the specified JSONPath or NULL if "
        "the specified path does not exist.",
        (
            Signature(
                (Param("input", t.STRING, "The input JSON string."), Param("path", t.STRING, "The JSONPath to extract.")),
                t.STRING,
                rowwise(extract_json_field),
            ),
        ),
    ),
    ScalarFunction(
        "IS_JSON_STRING",
        CATEGORY,
        "Given a string, returns true if it can be parsed as a valid JSON value, false otherwise.",
        (Signature((Param("input", t.STRING, "The input JSON string."),), t.BOOLEAN,
                   rowwise(_is_json_string, null_in_null_out=False)),),
    ),
    ScalarFunction(
        "JSON_ARRAY_CONTAINS",
        CATEGORY,
        "Parses a JSON array and determines whether or not the supplied value is contained within the "
        "array.",
        (Signature((Param("jsonArray", t.STRING, "The JSON array."), Param("val", _T, "The value to find.")),
                   t.BOOLEAN, _json_array_contains),),
    ),
    ScalarFunction(
        "JSON_ARRAY_LENGTH",
        CATEGORY,
        "Given a string, parses it as a JSON value and returns the length of the top-level array; NULL "
        "if it is not an array.",
        (Signature((_JSON,), t.INT, rowwise(_json_array_length)),),
    ),
    ScalarFunction(
        "JSON_CONCAT",
        CATEGORY,
        "Given N strings, parse them as JSON values and return a string representing their "
        "concatenation, with the rules of PostgreSQL's || operator.",
        (Signature((Param("jsonStrings", t.STRING, "The JSON values."),), t.STRING, _json_concat_kernel,
                   variadic=True),),
    ),
    ScalarFunction(
        "JSON_ITEMS",
        CATEGORY,
        "Given a string with a JSON array, returns its elements as JSON strings; NULL if it is not an "
        "array.",
        (Signature((_JSON,), t.Array(t.STRING), rowwise(_json_items)),),
    ),
    ScalarFunction(
        "JSON_KEYS",
        CATEGORY,
        "Given a string, parses it as a JSON object and returns the top-level keys; NULL if it is not an "
        "object.",
        (Signature((_JSON,), t.Array(t.STRING), rowwise(_json_keys)),),
    ),
    ScalarFunction(
        "JSON_RECORDS",
        CATEGORY,
        "Given a string, parses it as a JSON object and returns a map of its top-level keys to their "
        "values as JSON text; NULL if it is not an object.",
        (Signature((_JSON,), t.Map(t.STRING, t.STRING), _records_kernel),),
    ),
    ScalarFunction(
        "TO_JSON_STRING",
        CATEGORY,
        "Given any ksqlDB type returns the equivalent JSON string.",
        (Signature((Param("input", _T, "The value to convert."),), t.STRING, _to_json_string),),
    ),
)

