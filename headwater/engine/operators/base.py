"""The operator interface and the layout of the batches that flow between operators.

An operator has one required method, :meth:`Operator.process`: take a batch, return the batches it emits
(zero or more). Optional hooks default to doing nothing: :meth:`~Operator.on_watermark` (event time moved
on: windows may close), :meth:`~Operator.snapshot` / :meth:`~Operator.restore` (operator state for
exactly-once checkpoints) and :meth:`~Operator.close`. Stateless operators implement only ``process``; the
stateful operators that follow (aggregations, windows, joins) use the rest. The pure batch function is
kept apart from the loop that drives it (:mod:`headwater.engine.runtime`).

**Row batches.** Between operators a batch is a ``pyarrow.RecordBatch`` whose columns are named by the
logical columns they hold (exact case), plus the pseudo-columns ``ROWTIME`` (int64, the record's event
time), ``ROWPARTITION`` (int32) and ``ROWOFFSET`` (int64) and the hidden :data:`HEADERS_COLUMN` (the
record's Kafka headers, carried so a sink copies them to its output as Kafka Streams does). User columns
can never collide with these names: the statement layer refuses them as reserved.

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

import pyarrow as pa

from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME

__all__ = [
    "HEADERS_ARROW_TYPE",
    "HEADERS_COLUMN",
    "SYSTEM_ROW_COLUMNS",
    "ErrorReporter",
    "Evaluator",
    "Operator",
    "as_array",
    "empty_like",
]

HEADERS_COLUMN = "__headers"
"""The record's headers as stored in the log: list<struct<key: string, value: binary>>."""

HEADERS_ARROW_TYPE = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())]))

SYSTEM_ROW_COLUMNS = (ROWTIME, ROWPARTITION, ROWOFFSET, HEADERS_COLUMN)
"""Columns every row batch carries besides the logical ones."""

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
