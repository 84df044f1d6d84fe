"""Throughput of the function library: each family on one million rows, in rows per second.

Usage::

    .venv/bin/python benchmarks/functions.py [--rows N] [--repeat R] [--only NAME_SUBSTRING]

Every case resolves its function through the product registry, builds its argument columns once,
and times the kernel alone (best of ``--repeat`` runs). Kernels built on the per-row fallback
(``rowwise``, or listed as such in their module) are marked ``rowwise`` and also report their cost
per row, the figure docs/architecture.md's fallback table quotes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from headwater.engine.functions import default_registry
from headwater.engine.functions.registry import CompiledLambda, IntervalUnitType, LambdaType
from headwater.engine.types import to_arrow
from headwater.parser import types as t


@dataclass(frozen=True)
class Case:
    family: str
    name: str
    args: tuple[tuple[t.SqlType, Any], ...]  # (type, pa.Array | pa.Scalar | CompiledLambda | unit name)

    @property
    def label(self) -> str:
        return f"{self.name}({', '.join(a.sql() for a, _ in self.args)})"


class VectorLambda(CompiledLambda):
    """A lambda body that is one Arrow kernel over the element columns (what the compiler produces for
    ``x => x * 2`` and the like)."""

    def __init__(self, body: Callable[..., pa.Array]) -> None:
        self.body = body

    def __call__(self, params: Sequence[pa.Array], parent_index: pa.Array) -> pa.Array:
        return self.body(*params)


def _data(rows: int) -> dict[str, pa.Array]:
    rng = np.random.default_rng(42)
    words = np.array(["alpha", "Beta", "gamma delta", "épsilon", "ZETA eta", "theta_iota", "kappa", "Lambda mu"])
    strings = pa.array(words[rng.integers(0, len(words), rows)])
    ints = pa.array(rng.integers(-1_000_000, 1_000_000, rows).astype(np.int32))
    doubles = pa.array(rng.normal(0, 1000, rows))
    millis = rng.integers(0, 2_000_000_000_000, rows)
    stamps = pa.array(millis, pa.int64()).view(pa.timestamp("ms"))
    days = pa.array((millis // 86_400_000).astype(np.int32)).view(pa.date32())
    lengths = rng.integers(0, 8, rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    flat = pa.array(rng.integers(0, 20, int(offsets[-1])).astype(np.int32))
    arrays = pa.ListArray.from_arrays(pa.array(offsets), flat)
    keys = pa.array(np.array(["a", "b", "c", "d", "e", "f", "g", "h"])[np.arange(int(offsets[-1])) % 8])
    maps = pa.MapArray.from_arrays(pa.array(offsets), keys, flat)
    formatted = pc.strftime(stamps.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%d %H:%M:%S")
    json_docs = pc.binary_join_element_wise('{"a": {"b": ', ints.cast(pa.string()), ', "c": [1, 2]}}', "")
    urls = pc.binary_join_element_wise("http://host", ints.cast(pa.string()), ".example.com:8080/p/q?x=", pc.replace_substring(strings, " ", "+"), "")
    return {
        "strings": strings, "ints": ints, "doubles": doubles, "stamps": stamps, "days": days, "arrays": arrays,
        "maps": maps, "formatted": formatted, "json": json_docs, "urls": urls,
        "bytes": strings.cast(pa.binary()), "decimals": doubles.cast(pa.decimal128(12, 3)),
    }


def _cases(d: dict[str, pa.Array]) -> list[Case]:
    s, i, x, ts = d["strings"], d["ints"], d["doubles"], d["stamps"]
    arr, maps = d["arrays"], d["maps"]
    ints_array = t.Array(t.INT)
    int_map = t.Map(t.STRING, t.INT)
    times = pa.array((d["ints"].to_numpy() % 86_400_000).astype(np.int32)).view(pa.time32("ms"))
    return [
        Case("string", "UCASE", ((t.STRING, s),)),
        Case("string", "SUBSTRING", ((t.STRING, s), (t.INT, pa.scalar(2, pa.int32())), (t.INT, pa.scalar(3, pa.int32())))),
        Case("string", "SUBSTRING", ((t.STRING, s), (t.INT, i.cast(pa.int32())), (t.INT, pa.scalar(3, pa.int32())))),
        Case("string", "CONCAT", ((t.STRING, s), (t.STRING, pa.scalar("-")), (t.STRING, s))),
        Case("string", "CONCAT_WS", ((t.STRING, pa.scalar(",")), (t.STRING, s), (t.STRING, s))),
        Case("string", "LEN", ((t.STRING, s),)),
        Case("string", "TRIM", ((t.STRING, s),)),
        Case("string", "INITCAP", ((t.STRING, s),)),
        Case("string", "LPAD", ((t.STRING, s), (t.INT, pa.scalar(12, pa.int32())), (t.STRING, pa.scalar("xy")))),
        Case("string", "REPLACE", ((t.STRING, s), (t.STRING, pa.scalar("a")), (t.STRING, pa.scalar("AA")))),
        Case("string", "SPLIT", ((t.STRING, s), (t.STRING, pa.scalar(" ")))),
        Case("string", "MASK", ((t.STRING, s),)),
        Case("string", "INSTR", ((t.STRING, s), (t.STRING, pa.scalar("a")))),
        Case("string", "INSTR", ((t.STRING, s), (t.STRING, pa.scalar("a")), (t.INT, pa.scalar(2, pa.int32())))),
        Case("string", "CHR", ((t.INT, pc.abs(i).cast(pa.int32())),)),
        Case("string", "MD5", ((t.STRING, s),)),
        Case("string", "UUID", ()),
        Case("regexp", "REGEXP_EXTRACT", ((t.STRING, pa.scalar("(\\w+) (\\w+)")), (t.STRING, s), (t.INT, pa.scalar(2, pa.int32())))),
        Case("regexp", "REGEXP_REPLACE", ((t.STRING, s), (t.STRING, pa.scalar("[aeiou]")), (t.STRING, pa.scalar("_")))),
        Case("regexp", "REGEXP_SPLIT_TO_ARRAY", ((t.STRING, s), (t.STRING, pa.scalar("[ _]")))),
        Case("regexp", "REGEXP_EXTRACT_ALL", ((t.STRING, pa.scalar("[aeiou]")), (t.STRING, s))),
        Case("math", "ABS", ((t.DOUBLE, x),)),
        Case("math", "ROUND", ((t.DOUBLE, x),)),
        Case("math", "ROUND", ((t.DOUBLE, x), (t.INT, pa.scalar(2, pa.int32())))),
        Case("math", "ROUND", ((t.Decimal(12, 3), d["decimals"]), (t.INT, pa.scalar(1, pa.int32())))),
        Case("math", "SQRT", ((t.DOUBLE, x),)),
        Case("math", "LOG", ((t.DOUBLE, x), (t.DOUBLE, x))),
        Case("math", "GREATEST", ((t.INT, i), (t.INT, pa.scalar(0, pa.int32())), (t.INT, i))),
        Case("math", "GEO_DISTANCE", ((t.DOUBLE, pa.array(np.clip(x.to_numpy() / 20.0, -90, 90))), (t.DOUBLE, pa.scalar(0.0)),
                                      (t.DOUBLE, pa.scalar(51.0)), (t.DOUBLE, pa.scalar(0.0)))),
        Case("datetime", "FORMAT_TIMESTAMP", ((t.TIMESTAMP, ts), (t.STRING, pa.scalar("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")))),
        Case("datetime", "FORMAT_TIMESTAMP", ((t.TIMESTAMP, ts), (t.STRING, pa.scalar("yyyy-MM-dd HH:mm")),
                                              (t.STRING, pa.scalar("America/Los_Angeles")))),
        Case("datetime", "PARSE_TIMESTAMP", ((t.STRING, d["formatted"]), (t.STRING, pa.scalar("yyyy-MM-dd HH:mm:ss")))),
        Case("datetime", "PARSE_TIMESTAMP", ((t.STRING, d["formatted"]), (t.STRING, pa.scalar("yyyy-MM-dd HH:mm:ss")),
                                             (t.STRING, pa.scalar("Europe/Paris")))),
        Case("datetime", "FORMAT_DATE", ((t.DATE, d["days"]), (t.STRING, pa.scalar("dd MMM yyyy")))),
        Case("datetime", "FORMAT_TIME", ((t.TIME, times), (t.STRING, pa.scalar("hh:mm a")))),
        Case("datetime", "CONVERT_TZ", ((t.TIMESTAMP, ts), (t.STRING, pa.scalar("UTC")), (t.STRING, pa.scalar("Asia/Tokyo")))),
        Case("datetime", "TIMESTAMPADD", ((IntervalUnitType(), "HOURS"), (t.INT, pa.scalar(5, pa.int32())), (t.TIMESTAMP, ts))),
        Case("json", "EXTRACTJSONFIELD", ((t.STRING, d["json"]), (t.STRING, pa.scalar("$.a.b")))),
        Case("json", "JSON_ARRAY_LENGTH", ((t.STRING, pc.binary_join_element_wise('["', s, '", 1]', "")),)),
        Case("json", "TO_JSON_STRING", ((t.INT, i),)),
        Case("json", "TO_JSON_STRING", ((t.STRING, s),)),
        Case("json", "TO_JSON_STRING", ((ints_array, arr),)),
        Case("array", "ARRAY_LENGTH", ((ints_array, arr),)),
        Case("array", "ARRAY_CONTAINS", ((ints_array, arr), (t.INT, pa.scalar(3, pa.int32())))),
        Case("array", "ARRAY_DISTINCT", ((ints_array, arr),)),
        Case("array", "ARRAY_UNION", ((ints_array, arr), (ints_array, arr))),
        Case("array", "ARRAY_SORT", ((ints_array, arr),)),
        Case("array", "ARRAY_MAX", ((ints_array, arr),)),
        Case("array", "ARRAY_JOIN", ((ints_array, arr),)),
        Case("array", "SLICE", ((ints_array, arr), (t.INT, pa.scalar(2, pa.int32())), (t.INT, pa.scalar(4, pa.int32())))),
        Case("array", "GENERATE_SERIES", ((t.INT, pa.scalar(1, pa.int32())), (t.INT, pc.bit_wise_and(i, 7)))),
        Case("map", "MAP_KEYS", ((int_map, maps),)),
        Case("map", "MAP_UNION", ((int_map, maps), (int_map, maps))),
        Case("map", "ENTRIES", ((int_map, maps), (t.BOOLEAN, pa.scalar(True)))),
        Case("lambda", "TRANSFORM", ((ints_array, arr), (LambdaType((t.INT,), t.INT), VectorLambda(lambda v: pc.multiply(v, 2))))),
        Case("lambda", "FILTER", ((ints_array, arr), (LambdaType((t.INT,), t.BOOLEAN),
                                                      VectorLambda(lambda v: pc.fill_null(pc.greater(v, 5), False))))),
        Case("lambda", "REDUCE", ((ints_array, arr), (t.INT, pa.scalar(0, pa.int32())),
                                  (LambdaType((t.INT, t.INT), t.INT), VectorLambda(lambda acc, v: pc.add(acc, v))))),
        Case("url", "URL_EXTRACT_HOST", ((t.STRING, d["urls"]),)),
        Case("url", "URL_EXTRACT_PARAMETER", ((t.STRING, d["urls"]), (t.STRING, pa.scalar("x")))),
        Case("url", "URL_ENCODE_PARAM", ((t.STRING, s),)),
        Case("url", "URL_DECODE_PARAM", ((t.STRING, s),)),
        Case("bytes", "TO_BYTES", ((t.STRING, s), (t.STRING, pa.scalar("utf8")))),
        Case("bytes", "FROM_BYTES", ((t.BYTES, d["bytes"]), (t.STRING, pa.scalar("hex")))),
        Case("bytes", "FROM_BYTES", ((t.BYTES, d["bytes"]), (t.STRING, pa.scalar("base64")))),
        Case("bytes", "ENCODE", ((t.STRING, s), (t.STRING, pa.scalar("utf8")), (t.STRING, pa.scalar("hex")))),
        Case("bytes", "INT_FROM_BYTES", ((t.BYTES, pa.array([b"\x00\x00\x07\xe5"] * len(s))),)),
        Case("null", "COALESCE", ((t.INT, i), (t.INT, pa.scalar(0, pa.int32())))),
        Case("null", "NULLIF", ((t.INT, i), (t.INT, pa.scalar(0, pa.int32())))),
        Case("table", "EXPLODE", ((ints_array, arr),)),
        Case("table", "CUBE_EXPLODE", ((ints_array, pc.list_slice(arr, 0, 3)),)),
    ]


def _is_rowwise(kernel: Any) -> bool:
    return bool(getattr(kernel, "rowwise", False))


def run_case(case: Case, rows: int, repeat: int) -> tuple[float, bool]:
    registry = default_registry()
    arg_types = tuple(a for a, _ in case.args)
    resolved = registry.resolve(case.name, arg_types)
    datums: list[Any] = []
    lambdas = []
    for (sql_type, value), param in zip(case.args, resolved.param_types):
        if isinstance(sql_type, LambdaType):
            datums.append(None)
            lambdas.append(value)
        elif isinstance(sql_type, IntervalUnitType):
            datums.append(pa.scalar(value))
        else:
            target = to_arrow(param)
            datums.append(value if value.type == target else value.cast(target))
    context = resolved.context(rows, {}, tuple(lambdas))
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        resolved.kernel(datums, context)
        best = min(best, time.perf_counter() - started)
    return best, _is_rowwise(resolved.kernel)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="run only cases whose label contains this text")
    options = parser.parse_args(argv)
    data = _data(options.rows)
    print(f"{options.rows:,} rows, best of {options.repeat}; {dt.datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'family':<9} {'function':<62} {'rows/s':>14} {'ns/row':>9}")
    for case in _cases(data):
        if options.only and options.only.upper() not in case.label.upper():
            continue
        seconds, rowwise = run_case(case, options.rows, options.repeat)
        rate = options.rows / seconds
        marker = "  rowwise" if rowwise else ""
        print(f"{case.family:<9} {case.label:<62} {rate:>14,.0f} {seconds / options.rows * 1e9:>9.0f}{marker}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
