"""Checks that a system's result equals DuckDB's answer on the same data: same columns, same multiset.

Column names must match in order, and decimal columns must have exactly DuckDB's precision and scale.
Rows are then compared in two steps:

1. DuckDB's answer is fetched as Arrow (on one thread DuckDB keeps the scan order, and Headwater keeps
   each partition's order), cast to the result's Arrow types (a lossless cast: timestamp units, string
   widths; a lossy one fails the fast path) and compared value by value. Equal in order means equal
   as multisets, and this costs a few hundred milliseconds per million rows.
2. Otherwise the multisets are compared inside DuckDB, both ways with ``EXCEPT ALL`` (multiset
   difference: duplicates count), and the rows each side lacks are counted.

Values compare exactly: decimals are scaled integers in both Arrow and DuckDB, never floats.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from benchmarks.nexmark.queries import NexmarkQuery

__all__ = ["Comparison", "arrow_type_names", "compare_with_duckdb"]

_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of one check.

    Attributes:
        query: the query id.
        system: whose result was checked.
        expected_rows: rows in DuckDB's answer.
        actual_rows: rows in the result under test.
        missing: rows of DuckDB's answer absent from the result (with multiplicity).
        unexpected: rows of the result absent from DuckDB's answer (with multiplicity).
        problems: column name or type differences, in words.
    """

    query: str
    system: str
    expected_rows: int
    actual_rows: int
    missing: int
    unexpected: int
    problems: tuple[str, ...] = ()

    @property
    def equal(self) -> bool:
        return not self.problems and self.missing == 0 and self.unexpected == 0

    def describe(self) -> str:
        if self.equal:
            return f"{self.query} {self.system}: equal to DuckDB ({self.actual_rows:,} rows)"
        details = [f"{self.missing:,} rows missing", f"{self.unexpected:,} rows unexpected", *self.problems]
        return (f"{self.query} {self.system}: DIFFERS from DuckDB ({self.actual_rows:,} rows vs "
                f"{self.expected_rows:,}): " + "; ".join(details))


def arrow_type_names(schema: pa.Schema) -> list[str]:
    """Column types in the SQL spelling the check compares (``DECIMAL(23,3)``; other types by family)."""
    names = []
    for field in schema:
        if pa.types.is_decimal(field.type):
            names.append(f"DECIMAL({field.type.precision},{field.type.scale})")
        else:
            names.append(str(field.type))
    return names


def _decimal(type_name: str) -> tuple[int, int] | None:
    found = _DECIMAL.search(type_name.upper())
    return (int(found.group(1)), int(found.group(2))) if found else None


def compare_with_duckdb(con: duckdb.DuckDBPyConnection, query: NexmarkQuery, system: str, actual: pa.Table,
                        declared_types: Sequence[str] | None = None) -> Comparison:
    """Compare ``actual`` (the result of ``query`` on ``system``) with DuckDB's answer.

    Args:
        con: a connection with the event views (see :func:`benchmarks.nexmark.duckdb_run.connect`).
        query: the query.
        system: a name for the messages.
        actual: the rows under test.
        declared_types: the system's own column types (e.g. Flink's), when ``actual``'s Arrow types are
            not the system's (rows collected into Python and back); default: ``actual``'s types.
    """
    described = con.execute(f"DESCRIBE {query.duckdb_sql}").fetchall()
    expected_names = [row[0] for row in described]
    expected_types = [str(row[1]) for row in described]
    problems: list[str] = []
    if actual.column_names != expected_names:
        problems.append(f"columns {actual.column_names} instead of {expected_names}")
    types = list(declared_types) if declared_types is not None else arrow_type_names(actual.schema)
    for name, mine, theirs in zip(expected_names, types, expected_types):
        if _decimal(theirs) != _decimal(mine):
            problems.append(f"column {name} is {mine}, DuckDB's is {theirs}")
    if problems and actual.num_columns != len(expected_names):
        expected_rows = _count(con, f"SELECT count(*) FROM ({query.duckdb_sql})")
        return Comparison(query.query_id, system, expected_rows, actual.num_rows, -1, -1, tuple(problems))
    expected = con.sql(query.duckdb_sql).to_arrow_table()
    if not problems and _equal_in_order(expected, actual):
        return Comparison(query.query_id, system, expected.num_rows, actual.num_rows, 0, 0)
    del expected
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.register("headwater_actual_rows", actual)
    try:
        missing = _count(
            con, f"SELECT count(*) FROM (({query.duckdb_sql}) EXCEPT ALL SELECT * FROM headwater_actual_rows)")
        unexpected = _count(
            con, f"SELECT count(*) FROM (SELECT * FROM headwater_actual_rows EXCEPT ALL ({query.duckdb_sql}))")
    finally:
        con.unregister("headwater_actual_rows")
        con.execute(f"SET threads = {int(threads)}")
    expected_rows = _count(con, f"SELECT count(*) FROM ({query.duckdb_sql})")
    return Comparison(query.query_id, system, expected_rows, actual.num_rows, missing, unexpected, tuple(problems))


def _equal_in_order(expected: pa.Table, actual: pa.Table) -> bool:
    if expected.num_rows != actual.num_rows:
        return False
    try:
        converted = expected.rename_columns(actual.column_names).cast(actual.schema, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return False
    return bool(converted.equals(actual))


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])
