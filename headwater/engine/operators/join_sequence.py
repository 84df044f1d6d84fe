"""The pieces of a table-table join's step: both sides' changes in their merged order.

A query joining two tables consumes its sources in event-time order
(:mod:`headwater.engine.runtime.merge`): a step is a sequence of *pieces*, each a run of one side's
changes. When the two changelogs interleave record by record a piece holds one or two records. The
driver hands the join a step as a :class:`PieceRuns` (each side's changes in one batch, cut by row
counts) or as a list of :data:`Piece` slices; the join computes the output of the whole step at once
(:mod:`headwater.engine.operators.join_step`), the same output, row for row and in the same order, as
taking the pieces one by one.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> left = pa.record_batch({"K": pa.array([1, 2, 3], pa.int64())})
    >>> runs = PieceRuns({True: left, False: left.slice(0, 0)}, np.array([True, False, True]), np.array([2, 0, 1]))
    >>> [(side, batch.column("K").to_pylist()) for side, batch in runs]
    [(True, [1, 2]), (False, []), (True, [3])]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["Piece", "PieceRuns", "concat_batches"]

Piece = tuple[bool, pa.RecordBatch]
"""One run of a join's input: (is it the left side, its changes in order)."""



def concat_batches(batches: Sequence[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch holding ``batches`` in order (they share a schema; ``pyarrow.ArrowInvalid`` otherwise).

    ``pa.concat_batches`` copies the columns once, without a Table of one chunk per piece in between:
    a step of a join can hold thousands of one-row pieces."""
    if len(batches) == 1:
        return batches[0]
    return pa.concat_batches(list(batches))


class PieceRuns(Sequence[Piece]):
    """A step's pieces held as each side's changes in one batch, cut by row counts.

    The pieces of each side, in sequence order, tile that side's batch from its first row to its last.
    A driver that already holds each side's changes in one batch (the runtime's event-time merge) hands
    them on this way instead of as thousands of one-row slices that the join would only concatenate
    again. Indexing gives the same pieces as slices, for any other use.

    Args:
        whole: per side (True: left), its changes in order.
        sides: per piece, whether it is the left side's.
        rows: per piece, its number of rows.
    """

    def __init__(self, whole: dict[bool, pa.RecordBatch], sides: np.ndarray, rows: np.ndarray) -> None:
        self.whole = whole
        self.sides = np.asarray(sides, dtype=bool)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.first_rows = np.zeros(len(self.rows), dtype=np.int64)
        for is_left in (True, False):
            own = self.sides == is_left
            counts = self.rows[own]
            if counts.size and int(counts.sum()) != whole[is_left].num_rows:
                raise ValueError("the pieces of a side must tile its batch")
            self.first_rows[own] = np.cumsum(counts) - counts

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Piece:  # type: ignore[override]
        is_left = bool(self.sides[index])
        return is_left, self.whole[is_left].slice(int(self.first_rows[index]), int(self.rows[index]))
