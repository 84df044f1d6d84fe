"""The stored record layout: system columns, user columns, and turning a caller's batch into a stored one.

Every stored batch starts with the system columns (names exported here as constants), then the user
columns (see docs/architecture.md, "The stored record layout"):

=================  ==========================================  ===========================================
column             type                                        meaning
=================  ==========================================  ===========================================
``__offset``       int64                                       offset in the partition, assigned by the log
``__timestamp``    int64                                       event time, ms since the epoch (ROWTIME)
``__headers``      list<struct<key: string, value: binary>>    Kafka-style headers; null when none
``__tombstone``    bool                                        typed topics: the record deletes its key
``__key``          binary                                      raw topics: serialised key
``__value``        binary                                      raw topics: serialised value (null = tombstone)
=================  ==========================================  ===========================================

:class:`AppendPreparer` validates a caller's batch against the topic's columns once per distinct input
schema (the plan is cached) and fills what is missing with whole-column constants, so the per-append
cost does not grow with the number of rows beyond Arrow's own work.

A batch without ``__headers`` is prepared with ``__headers`` of Arrow's null type (see
:func:`headerless`); the partition stores it that way in a segment of the headerless variant, or
converts it to all-null lists for a segment that already holds headers. Reads always return the
list type.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.storage.errors import RecordBatchError

__all__ = [
    "HEADERS",
    "HEADERS_TYPE",
    "KEY",
    "KEY_FIELD_METADATA",
    "OFFSET",
    "RAW_SYSTEM_FIELDS",
    "SYSTEM_COLUMNS",
    "TIMESTAMP",
    "TOMBSTONE",
    "TYPED_SYSTEM_FIELDS",
    "VALUE",
    "AppendPreparer",
    "StoredLayout",
    "headerless",
    "is_headerless",
    "is_key_field",
    "key_column_names",
    "null_headers",
    "null_headers_of",
    "raw_stored_schema",
    "rows_to_batch",
    "typed_stored_schema",
    "user_schema_of",
    "validate_user_schema",
    "wall_clock_ms",
    "with_headers",
]

OFFSET = "__offset"
TIMESTAMP = "__timestamp"
HEADERS = "__headers"
TOMBSTONE = "__tombstone"
KEY = "__key"
VALUE = "__value"
SYSTEM_COLUMNS = frozenset({OFFSET, TIMESTAMP, HEADERS, TOMBSTONE, KEY, VALUE})
KEY_FIELD_METADATA = b"headwater.key"

HEADERS_TYPE = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())]))

OFFSET_FIELD = pa.field(OFFSET, pa.int64(), nullable=False)
TIMESTAMP_FIELD = pa.field(TIMESTAMP, pa.int64(), nullable=False)
HEADERS_FIELD = pa.field(HEADERS, HEADERS_TYPE)
TOMBSTONE_FIELD = pa.field(TOMBSTONE, pa.bool_(), nullable=False)
KEY_FIELD = pa.field(KEY, pa.binary())
VALUE_FIELD = pa.field(VALUE, pa.binary())

TYPED_SYSTEM_FIELDS = (OFFSET_FIELD, TIMESTAMP_FIELD, HEADERS_FIELD, TOMBSTONE_FIELD)
RAW_SYSTEM_FIELDS = (OFFSET_FIELD, TIMESTAMP_FIELD, HEADERS_FIELD, KEY_FIELD, VALUE_FIELD)

_CONSTANT_CACHE_LIMIT = 64


def wall_clock_ms() -> int:
    """Milliseconds since the epoch, the default record timestamp."""
    return time.time_ns() // 1_000_000


def null_headers(n: int) -> pa.Array:
    """A ``__headers`` column of ``n`` nulls, as small as Arrow allows (validity and offsets only).

    ``pa.nulls`` would give the struct child buffers sized for ``n`` entries, which IPC writes out:
    three times the bytes for nothing.
    """
    empty = pa.array([], type=HEADERS_TYPE.value_type)
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)), empty,
                                    mask=pa.array(np.ones(n, dtype=bool)))


_HEADERS_POSITION = 2
_NULL_HEADERS_BASE: list[pa.Array] = []
_NULL_HEADERS_BY_LENGTH: dict[int, pa.Array] = {}


def null_headers_of(n: int) -> pa.Array:
    """``null_headers(n)`` as a zero-copy slice of one cached array (grown as needed), memoised by length."""
    array = _NULL_HEADERS_BY_LENGTH.get(n)
    if array is None:
        if not _NULL_HEADERS_BASE or len(_NULL_HEADERS_BASE[0]) < n:
            size = max(n, 2 * len(_NULL_HEADERS_BASE[0]) if _NULL_HEADERS_BASE else 65536)
            _NULL_HEADERS_BASE[:] = [null_headers(size)]
            _NULL_HEADERS_BY_LENGTH.clear()
        if len(_NULL_HEADERS_BY_LENGTH) >= _CONSTANT_CACHE_LIMIT:
            _NULL_HEADERS_BY_LENGTH.clear()
        array = _NULL_HEADERS_BY_LENGTH[n] = _NULL_HEADERS_BASE[0].slice(0, n)
    return array


def headerless(schema: pa.Schema) -> pa.Schema:
    """``schema`` with ``__headers`` stored as Arrow's null type (no buffers at all).

    Segments whose records carry no headers use this variant: an all-null list column would still
    cost 4 bytes and a bit per record on disk. Readers get the list type back (:func:`with_headers`).
    """
    return schema.set(_HEADERS_POSITION, pa.field(HEADERS, pa.null()))


def is_headerless(schema: pa.Schema) -> bool:
    """True when ``schema`` stores ``__headers`` as the null type."""
    return len(schema) > _HEADERS_POSITION and pa.types.is_null(schema.field(_HEADERS_POSITION).type)


def with_headers(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch of a headerless segment with ``__headers`` as the documented list type (all null)."""
    return batch.set_column(_HEADERS_POSITION, HEADERS_FIELD, null_headers_of(batch.num_rows))


@dataclass(frozen=True, slots=True)
class StoredLayout:
    """The schemas a partition appends with for one stored schema, built once and reused.

    Reusing the same schema objects for every append keeps pyarrow's schema comparisons cheap (their
    fingerprints are computed once) and lets the partition recognise a batch's layout by identity.

    Attributes:
        stored: the stored schema, ``__headers`` as the list type.
        headerless: the same with ``__headers`` as the null type (:func:`headerless`).
        columns / headerless_columns: the two without ``__offset``: what :class:`AppendPreparer` builds.
    """

    stored: pa.Schema
    headerless: pa.Schema
    columns: pa.Schema
    headerless_columns: pa.Schema

    @classmethod
    def of(cls, stored: pa.Schema) -> StoredLayout:
        """The layout of ``stored`` (a full stored schema, ``__offset`` first)."""
        bare = headerless(stored)
        return cls(stored, bare, pa.schema(list(stored)[1:], metadata=stored.metadata),
                   pa.schema(list(bare)[1:], metadata=stored.metadata))


def is_key_field(field: pa.Field) -> bool:
    """True for a user column declared as part of the key (field metadata ``headwater.key = "true"``)."""
    return bool(field.metadata) and field.metadata.get(KEY_FIELD_METADATA) == b"true"


def key_column_names(schema: pa.Schema) -> list[str]:
    """Names of the key columns of a typed schema, in schema order."""
    return [f.name for f in schema if is_key_field(f)]


def validate_user_schema(schema: pa.Schema) -> pa.Schema:
    """Check a typed topic's user schema: unique names, no system names, no dictionary columns.

    Dictionary columns are refused because a segment holds one schema and dictionary batches would make
    segment files depend on state outside each batch; decode them before appending.
    """
    if not isinstance(schema, pa.Schema):
        raise RecordBatchError(f"A typed topic's schema must be a pyarrow.Schema, got {type(schema).__name__}")
    seen: set[str] = set()
    for field in schema:
        if field.name in SYSTEM_COLUMNS or field.name.startswith("__"):
            raise RecordBatchError(f"Column name {field.name!r} is reserved: names starting with '__' are system columns")
        if field.name in seen:
            raise RecordBatchError(f"Column {field.name!r} appears twice in the schema")
        if pa.types.is_dictionary(field.type):
            raise RecordBatchError(f"Column {field.name!r} is dictionary encoded; store its value type instead")
        seen.add(field.name)
    return schema


def typed_stored_schema(user_schema: pa.Schema) -> pa.Schema:
    """The stored schema of a typed topic: system columns, then the user columns (with their metadata)."""
    validate_user_schema(user_schema)
    return pa.schema([*TYPED_SYSTEM_FIELDS, *user_schema], metadata=user_schema.metadata)


def raw_stored_schema() -> pa.Schema:
    """The stored schema of a raw topic: system columns with key and value bytes."""
    return pa.schema(list(RAW_SYSTEM_FIELDS))


def user_schema_of(stored: pa.Schema) -> pa.Schema:
    """The user columns of a stored schema (what a typed topic declared)."""
    return pa.schema([f for f in stored if f.name not in SYSTEM_COLUMNS], metadata=stored.metadata)


_TAKE, _FILL_TIMESTAMP, _NULL_HEADERS, _FALSE_TOMBSTONE, _NULLS = range(5)
_HEADERLESS_FIELD = pa.field(HEADERS, pa.null())


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to build a stored batch (without ``__offset``) from batches of one input schema.

    The batch is built with pyarrow's batch operations, which never wrap columns in Python objects
    unless a column needs work: ``take`` selects the input columns that are kept, in stored order;
    then each of ``ops`` (in increasing position) either inserts a constant column or replaces a taken
    one with its stored field (a cast, filled nulls, or just the stored nullability). Each op is
    ``(position, kind, stored field, cast target or None)``; ``_TAKE`` marks a replaced column.

    The result has the stored columns' names, types and nullability; field metadata (key markers)
    comes from the input where columns are taken as they are, which does not matter: a batch message
    carries no schema, and the segment's schema is the topic's.
    """

    take: tuple[int, ...]
    keep_all: bool
    ops: tuple[tuple[int, int, pa.Field, pa.DataType | None], ...]
    headerless: bool


class AppendPreparer:
    """Turns a caller's batch into a stored batch minus ``__offset`` (the partition assigns offsets).

    Checks run once per distinct input schema and the plan is cached; a batch with the same schema
    as the previous one skips even the cache lookup.
    """

    def __init__(self, stored_schema: pa.Schema, *, raw: bool) -> None:
        self.stored_schema = stored_schema
        self.raw = raw
        self.layout = StoredLayout.of(stored_schema)
        self.output_schema = self.layout.columns
        self.headerless_output_schema = self.layout.headerless_columns
        self._plans: dict[pa.Schema, _Plan] = {}
        self._last_schema: pa.Schema | None = None
        self._last_plan: _Plan | None = None
        self._null_headers: dict[int, pa.Array] = {}
        self._false_tombstones: dict[int, pa.Array] = {}

    def _plan_for(self, schema: pa.Schema) -> _Plan:
        if self._last_plan is not None and schema.equals(self._last_schema, check_metadata=False):
            return self._last_plan
        plan = self._plans.get(schema)
        if plan is None:
            plan = self._plan(schema)
            if len(self._plans) < _CONSTANT_CACHE_LIMIT:
                self._plans[schema] = plan
        self._last_schema, self._last_plan = schema, plan
        return plan

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Return the stored batch without ``__offset``: validated, reordered, defaults filled."""
        return self.prepare_stored(batch)[0]

    def prepare_stored(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, bool, int | None]:
        """:meth:`prepare`; whether the batch's ``__headers`` is of the null type (no headers given);
        and, when the batch had no ``__timestamp`` and every record got the same wall-clock time, that
        time (so the partition needs no pass over the column for its bounds), else None."""
        if not isinstance(batch, pa.RecordBatch):
            raise RecordBatchError(f"Expected a pyarrow.RecordBatch, got {type(batch).__name__}")
        plan = self._plan_for(batch.schema)
        n = batch.num_rows
        filled: int | None = None
        out = batch if plan.keep_all else batch.select(plan.take)
        for position, kind, field, target in plan.ops:
            if kind == _TAKE:
                column = out.column(position)
                if target is not None:
                    column = column.cast(target)
                if column.null_count and field.name in (TIMESTAMP, TOMBSTONE):
                    column = column.fill_null(wall_clock_ms() if field.name == TIMESTAMP else False)
                out = out.set_column(position, field, column)
                continue
            if kind == _NULL_HEADERS:
                array = self._constant(self._null_headers, n, pa.nulls)
            elif kind == _FALSE_TOMBSTONE:
                array = self._constant(self._false_tombstones, n, lambda k: pa.array(np.zeros(k, dtype=bool)))
            elif kind == _FILL_TIMESTAMP:
                filled = wall_clock_ms()
                array = pa.array(np.full(n, filled, dtype=np.int64))
            else:
                array = pa.nulls(n, field.type)
            out = out.add_column(position, field, array)
        return out, plan.headerless, filled

    @staticmethod
    def _constant(cache: dict[int, pa.Array], n: int, make: Any) -> pa.Array:
        """A cached constant column of length ``n`` (appends of one size reuse one array)."""
        array = cache.get(n)
        if array is None:
            array = make(n)
            if len(cache) >= _CONSTANT_CACHE_LIMIT:
                cache.clear()
            cache[n] = array
        return array

    def _plan(self, schema: pa.Schema) -> _Plan:
        """Match input columns to stored columns by name and check types; raise naming the column."""
        names = schema.names
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise RecordBatchError(f"Batch has duplicate columns: {', '.join(dupes)}")
        expected = {f.name for f in self.output_schema} | {OFFSET}
        extra = [n for n in names if n not in expected]
        if extra:
            allowed = ", ".join(f.name for f in self.output_schema if f.name not in SYSTEM_COLUMNS) or "(none)"
            raise RecordBatchError(
                f"Batch has column(s) the topic does not declare: {', '.join(extra)}; topic columns: {allowed}"
            )
        take: list[int] = []
        ops: list[tuple[int, int, pa.Field, pa.DataType | None]] = []
        headerless_batch = False
        for position, field in enumerate(self.output_schema):
            if field.name not in names:
                if field.name not in SYSTEM_COLUMNS and not field.nullable:
                    raise RecordBatchError(f"Batch lacks column {field.name!r} ({field.type}), which is not nullable")
                kind = {TIMESTAMP: _FILL_TIMESTAMP, HEADERS: _NULL_HEADERS, TOMBSTONE: _FALSE_TOMBSTONE}.get(
                    field.name, _NULLS)
                if kind == _NULL_HEADERS:
                    field, headerless_batch = _HEADERLESS_FIELD, True
                ops.append((position, kind, field, None))
                continue
            index = names.index(field.name)
            take.append(index)
            given = schema.field(index)
            target = self._cast_for(field, given.type)
            if target is not None or field.name in (TIMESTAMP, TOMBSTONE) or given.nullable != field.nullable:
                ops.append((position, _TAKE, field, target))
        keep_all = take == list(range(len(names)))
        return _Plan(tuple(take), keep_all, tuple(ops), headerless_batch)

    def _cast_for(self, field: pa.Field, actual: pa.DataType) -> pa.DataType | None:
        """None when the column's type is the stored one, the target for an accepted cast, else raise."""
        if actual.equals(field.type):
            return None
        name = field.name
        if name == TIMESTAMP and (pa.types.is_integer(actual) or pa.types.is_timestamp(actual)):
            if pa.types.is_timestamp(actual) and actual.unit != "ms":
                raise RecordBatchError(f"Column {name!r} is {actual}; give milliseconds (timestamp[ms] or int64)")
            return pa.int64()
        if name in (KEY, VALUE) and (
            pa.types.is_string(actual) or pa.types.is_large_binary(actual) or pa.types.is_large_string(actual)
        ):
            return pa.binary()
        if name in (KEY, VALUE) and pa.types.is_null(actual):
            return pa.binary()
        if pa.types.is_null(actual) and field.nullable:
            return field.type
        raise RecordBatchError(f"Column {name!r} has type {actual}, but the topic declares {field.type}")


def _headers_value(value: Any) -> list[dict[str, Any]] | None:
    """Headers given as a mapping or as (key, value) pairs, as the stored list of structs."""
    if value is None:
        return None
    pairs: Iterable[tuple[Any, Any]] = value.items() if isinstance(value, Mapping) else value
    out = []
    for key, raw in pairs:
        out.append({"key": key, "value": raw.encode() if isinstance(raw, str) else raw})
    return out


_CONVERTED_SYSTEM_COLUMNS = frozenset({HEADERS, KEY, VALUE})
"""Columns whose row values :func:`rows_to_batch` converts before Arrow sees them (headers given as a dict
or pairs; keys and values given as text)."""


def rows_to_batch(rows: Sequence[Mapping[str, Any]], stored_schema: pa.Schema) -> pa.RecordBatch:
    """Build a batch from a list of dicts keyed by column name (a convenience, not the fast path).

    Rows may hold the user columns and the optional system columns ``__timestamp``, ``__headers``
    (a dict or a list of (key, value) pairs), ``__tombstone``, ``__key`` and ``__value``. This walks the
    rows in Python once per column, which is fine for the small inserts it is meant for.
    """
    if isinstance(rows, Mapping):
        raise RecordBatchError("append_rows takes a list of dicts, not one dict")
    known = {f.name for f in stored_schema} - {OFFSET}
    present: set[str] = set()
    for i, row in enumerate(rows):
        if type(row) is not dict and not isinstance(row, Mapping):
            raise RecordBatchError(f"Row {i} is a {type(row).__name__}, not a dict")
        present.update(row.keys())
    if not present <= known:  # only now find the first row at fault, for the message
        for i, row in enumerate(rows):
            unknown = [name for name in row if name not in known]
            if unknown:
                raise RecordBatchError(f"Row {i} has column {unknown[0]!r}, which the topic does not declare")
    fields = [field for field in stored_schema if field.name in present]
    # The plain columns in one call: pyarrow gathers them from the dicts in compiled code, several
    # times faster than a comprehension per column here. A value it cannot convert sends the column
    # through the per-column path below, whose message names the column.
    plain = pa.schema([f for f in fields if f.name not in _CONVERTED_SYSTEM_COLUMNS])
    converted: dict[str, pa.Array] = {}
    if len(plain):
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            gathered = pa.RecordBatch.from_pylist(list(rows), schema=plain)
            converted = dict(zip(plain.names, gathered.columns))
    arrays = []
    for field in fields:
        if field.name in converted:
            arrays.append(converted[field.name])
            continue
        values = [row.get(field.name) for row in rows]
        if field.name == HEADERS:
            values = [_headers_value(v) for v in values]
        elif field.name in (KEY, VALUE):
            values = [v.encode() if isinstance(v, str) else v for v in values]
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
            raise RecordBatchError(f"Column {field.name!r} ({field.type}): {exc}") from None
    if not fields:
        return pa.RecordBatch.from_arrays(
            [pa.nulls(len(rows), pa.int64())], schema=pa.schema([pa.field(TIMESTAMP, pa.int64())])
        )
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
