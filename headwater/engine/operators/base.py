"""The operator interface and the layout of the batches that flow between operators.

An operator has one required method, :meth:`Operator.process`: take a batch, return the batches it emits
(zero or more). Optional hooks default to doing nothing: :meth:`~Operator.on_watermark` (event time moved
on: windows may close), :meth:`~Operator.snapshot` / :meth:`~Operator.restore` (operator state for
exactly-once checkpoints) and :meth:`~Operator.close`. Stateless operators implement only ``process``; the
stateful operators that follow (aggregations, windows, joins) use the rest. The pure batch function is
kept apart from the loop that drives it (:mod:`headwater.engine.runtime`).

**Row batches.** Between operators a batch is a ``pyarrow.RecordBatch`` whose columns are named by the
logical columns they hold (exact case), plus the pseudo-columns ``ROWTIME`` (int64, the record's event
time), ``ROWPARTITION`` (int32) and ``ROWOFFSET`` (int64), the hidden :data:`HEADERS_COLUMN` (the
record's Kafka headers, carried so a sink copies them to its output as Kafka Streams does) and the hidden
:data:`NULL_VALUE_COLUMN`. User columns can never collide with these names: the statement layer refuses
them as reserved.

**Null values.** A stream record whose value is null (a tombstone on the topic) is not dropped: ksqlDB
carries it through a query as a row without a value. Its key columns and pseudo-columns are real, its
value columns null, and :data:`NULL_VALUE_COLUMN` is true. A filter drops it (ksqlDB's predicate never
sees a null row), a table function produces nothing for it, a projection computes its key columns
(PARTITION BY expressions see the key) and leaves its value null, and a sink writes it with a null value.

Example:
    >>> import pyarrow as pa, pyarrow.compute as pc
    >>> class Double(Operator):
    ...     def process(self, batch):
    ...         return [batch.set_column(0, "X", pc.multiply(batch.column(0), 2))]
    >>> Double().process(pa.record_batch({"X": [1, 2]}))[0].column(0).to_pylist()
    [2, 4]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART

__all__ = [
    "ABSENT_KEY_COLUMN",
    "ABSENT_KEY_METADATA",
    "HEADERS_ARROW_TYPE",
    "HEADERS_COLUMN",
    "NULL_VALUE_COLUMN",
    "RETRACT_COLUMN",
    "SHADOW_PREFIX",
    "SYSTEM_ROW_COLUMNS",
    "ErrorReporter",
    "Evaluator",
    "Operator",
    "absent_key_mask",
    "as_array",
    "empty_like",
    "null_value_mask",
    "system_column",
    "without_null_values",
]

HEADERS_COLUMN = "__headers"
"""The record's headers as stored in the log: list<struct<key: string, value: binary>>."""

HEADERS_ARROW_TYPE = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())]))

NULL_VALUE_COLUMN = "__null_value"
"""True for a row whose record had a null value (see the module docstring); absent means all false."""

RETRACT_COLUMN = "__retract"
"""True for a table changelog's retraction row (see :mod:`headwater.engine.state.changelog`)."""

ABSENT_KEY_COLUMN = "__absent_key"
"""True for a row whose record had no key at all (null key bytes) although its source has several key
columns: the key columns are all NULL, but the record is written back with a null key, as ksqlDB
writes it, not as a key of NULLs. Absent means all false; only rows whose key passes through unchanged
carry it (a PARTITION BY, a join or an aggregation makes new keys)."""

ABSENT_KEY_METADATA = "headwater.absent_key"
"""Field metadata (value ``"true"``) marking the hidden column of a typed sink topic that stores
:data:`ABSENT_KEY_COLUMN` (see :func:`headwater.engine.operators.sink.stored_schema`)."""

SYSTEM_ROW_COLUMNS = (
    ROWTIME,
    ROWPARTITION,
    ROWOFFSET,
    WINDOWSTART,
    WINDOWEND,
    HEADERS_COLUMN,
    NULL_VALUE_COLUMN,
    RETRACT_COLUMN,
    ABSENT_KEY_COLUMN,
)

SHADOW_PREFIX = "__system_"
"""A pseudo-column displaced by a user column of the same name (``PARTITION BY ROWTIME`` makes a key
called ROWTIME) travels on as ``__system_ROWTIME``; :func:`system_column` finds it."""
"""Columns a row batch carries besides the logical ones (WINDOWSTART / WINDOWEND: rows of windowed
sources and windowed aggregations)."""

ErrorReporter = Callable[[int, str], None]
"""Called with (row index in the batch, message) for each row an operator had to drop or null."""


class Evaluator(Protocol):
    """A compiled expression: evaluates over a whole batch (see :mod:`headwater.engine.expressions`)."""

    def evaluate(self, batch: pa.RecordBatch) -> pa.Array | pa.ChunkedArray | pa.Scalar: ...


class Operator:
    """Base of every physical operator. Subclasses override :meth:`process`; the hooks are optional."""

    #: The registry kind of the operator (see :mod:`headwater.engine.planner.physical`).
    kind: str = ""

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Consume one batch and return the batches it produces (possibly none)."""
        raise NotImplementedError

    def on_watermark(self, stream_time_ms: int) -> list[pa.RecordBatch]:
        """Event time has reached ``stream_time_ms``; return anything that became final."""
        return []

    def snapshot(self) -> bytes | None:
        """The operator's state for a checkpoint, or None for a stateless operator."""
        return None

    def restore(self, state: bytes) -> None:
        """Reload state written by :meth:`snapshot`."""

    def close(self) -> None:
        """Release resources; called once when the query stops."""


def empty_like(schema: pa.Schema) -> pa.RecordBatch:
    """An empty batch of ``schema``."""
    return pa.RecordBatch.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)


def as_array(value: pa.Array | pa.ChunkedArray | pa.Scalar, length: int) -> pa.Array:
    """An expression result as a plain array of ``length`` rows (scalars are broadcast, chunks joined)."""
    if isinstance(value, pa.Scalar):
        return pa.repeat(value, length)
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    return value


def _true_count(flags: pa.Array | pa.ChunkedArray) -> int:
    """How many rows of a boolean flag column are true (nulls are not): the bitmap's own popcount, which
    every operator asks of every batch, so it must not cost a compute-function call."""
    if isinstance(flags, pa.BooleanArray):
        return int(flags.true_count)
    return int(pc.sum(pc.cast(pc.fill_null(flags, False), pa.int64())).as_py() or 0)


def null_value_mask(batch: pa.RecordBatch) -> np.ndarray | None:
    """The rows of ``batch`` whose value is null, or None when there are none."""
    index = batch.schema.get_field_index(NULL_VALUE_COLUMN)
    if index < 0:
        return None
    column = batch.column(index)
    if _true_count(column) == 0:
        return None
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=bool)


def absent_key_mask(batch: pa.RecordBatch) -> np.ndarray | None:
    """The rows of ``batch`` whose record had no key (:data:`ABSENT_KEY_COLUMN`), or None when none."""
    index = batch.schema.get_field_index(ABSENT_KEY_COLUMN)
    if index < 0:
        return None
    column = batch.column(index)
    if _true_count(column) == 0:
        return None
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=bool)


def without_null_values(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` without its null-value rows (what a filter or a table function sees)."""
    mask = null_value_mask(batch)
    if mask is None:
        return batch
    return batch.filter(pa.array(~mask))


def system_column(batch: pa.RecordBatch, name: str) -> pa.Array:
    """The record's own ROWTIME / ROWPARTITION / ROWOFFSET, even where a user column took the name."""
    index = batch.schema.get_field_index(SHADOW_PREFIX + name)
    return batch.column(index if index >= 0 else batch.schema.get_field_index(name))
