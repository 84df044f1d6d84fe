"""Limit: pass the first n rows through, then nothing (push queries with LIMIT)."""

from __future__ import annotations

import pyarrow as pa

from headwater.engine.operators.base import Operator, without_null_values

__all__ = ["LimitOperator"]


class LimitOperator(Operator):
    """LIMIT n: slices the batch that crosses the limit; :attr:`done` tells the driver to stop.

    Example:
        >>> op = LimitOperator(3)
        >>> [b.num_rows for b in op.process(pa.record_batch({"X": [1, 2]}))], op.done
        ([2], False)
        >>> [b.num_rows for b in op.process(pa.record_batch({"X": [3, 4]}))], op.done
        ([1], True)
    """

    kind = "limit"

    def __init__(self, limit: int, *, count_null_values: bool = True) -> None:
        """``count_null_values`` False (a stream's rows): records without a value are no result rows,
        so they are dropped here instead of using up the limit; a table's deletes count (they are
        tombstone rows of the result)."""
        if limit < 0:
            raise ValueError("LIMIT must not be negative")
        self.limit = limit
        self.count_null_values = count_null_values
        self.emitted = 0

    @property
    def done(self) -> bool:
        return self.emitted >= self.limit

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        remaining = self.limit - self.emitted
        if not self.count_null_values:
            batch = without_null_values(batch)
        if remaining <= 0 or batch.num_rows == 0:
            return []
        out = batch if batch.num_rows <= remaining else batch.slice(0, remaining)
        self.emitted += out.num_rows
        return [out]

    def snapshot(self) -> bytes | None:
        return str(self.emitted).encode()

    def restore(self, state: bytes) -> None:
        self.emitted = int(state.decode())
