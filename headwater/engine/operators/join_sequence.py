"""A table-table join fed a whole step of both sides' changes at once, in their merged order.

A query joining two tables consumes its sources in event-time order
(:mod:`headwater.engine.runtime.merge`): a step is a sequence of *pieces*, each a run of one side's
changes. When the two changelogs interleave record by record a piece holds one or two records, and
processing the pieces one by one costs a fixed amount of Arrow work per piece. This module gives a join
the same output, row for row and in the same order, with a handful of batch calls per step.

**Why it is exact.** A change of one side produces output from (a) its own side's state for its key
and (b) the other side's state for the *keys it depends on* (its *footprint*). Two changes of opposite
sides interact only when one writes what the other reads, which for the joins here means their
footprints meet: the key slot for a primary-key join; for a foreign-key join, the right key for a right
change, and the foreign keys a left change points at before and after it. So the pieces are cut into
*groups* of consecutive pieces in which no left footprint meets a right footprint. Within a group,
every change sees the other side's state exactly as at the start of the group (nothing it reads is
written by the other side in the group), so the group's left changes can be joined as one batch and its
right changes as another (each join already applies one side's changes of a batch in order), and their
output rows put back in the pieces' order (a stable sort on each output row's piece). A group ends where
the next piece would meet the other side's footprint, so a record-by-record interleaving of unrelated
keys (the usual case) is a single group.

Example:
    >>> import numpy as np
    >>> cut_groups([True, False, True, False], [[1, -1], [2], [3, 1], [1]])
    [(0, 3), (3, 4)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

__all__ = ["Piece", "PieceRuns", "SideRows", "concat_batches", "cut_groups", "join_in_order"]

Piece = tuple[bool, pa.RecordBatch]
"""One run of a join's input: (is it the left side, its changes in order)."""

SideRows = Callable[[bool, pa.RecordBatch], tuple["pa.RecordBatch | None", np.ndarray]]
"""Joins one side's batch of changes: (output rows or None, the input row of each output row)."""


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
    them on this way instead of as thousands of one-row slices that :func:`join_in_order` would only
    concatenate again. Indexing gives the same pieces as slices, for any other use.

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


def cut_groups(sides: Sequence[bool], footprints: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Groups ``[start, stop)`` of consecutive pieces in which no left piece's footprint meets a right
    piece's (negative entries of a footprint mean nothing). A per-piece Python loop over sets: its
    cost is per piece and per footprint entry, far below the batch work per piece it saves."""
    groups: list[tuple[int, int]] = []
    seen: dict[bool, set[int]] = {True: set(), False: set()}
    start = 0
    for position, (is_left, footprint) in enumerate(zip(sides, footprints)):
        touched = {value for value in footprint if value >= 0}
        if not touched.isdisjoint(seen[not is_left]):
            groups.append((start, position))
            start = position
            seen = {True: set(), False: set()}
        seen[is_left] |= touched
    if len(sides) > start:
        groups.append((start, len(sides)))
    return groups


def join_in_order(
    pieces: Sequence[Piece],
    footprint: Callable[[bool, pa.RecordBatch], np.ndarray],
    side_rows: SideRows,
    one_piece: Callable[[bool, pa.RecordBatch], list[pa.RecordBatch]],
) -> list[pa.RecordBatch]:
    """The output of ``pieces`` joined one after another (see the module docstring), computed a group
    at a time.

    Args:
        pieces: the step's changes of both sides, in the order they are consumed; a
            :class:`PieceRuns` is used as it stands, other pieces are concatenated per side first.
        footprint: per row of a side's batch, the keys it reads or writes that the other side's
            changes could touch (a 2-d int array, -1 for none); computed before the batch is applied.
        side_rows: joins a batch of one side's changes and applies them, giving each output row's input row.
        one_piece: the join's plain entry point for one piece (used when a side's pieces do not share
            a schema, where batching them is not possible; nothing has been applied by then).
    """
    whole: dict[bool, pa.RecordBatch] = {}
    piece_of_row: dict[bool, np.ndarray] = {}
    if isinstance(pieces, PieceRuns):
        nonempty = pieces.rows > 0
        is_left_piece = pieces.sides[nonempty]
        piece_rows = pieces.rows[nonempty]
        first_of_piece = pieces.first_rows[nonempty]
        whole = {side: batch for side, batch in pieces.whole.items() if batch.num_rows}
        spans: list[tuple[bool, int]] = list(zip(is_left_piece.tolist(), piece_rows.tolist()))
        if not spans:
            return []
        for is_left in whole:
            own = np.flatnonzero(is_left_piece == is_left)
            piece_of_row[is_left] = np.repeat(own.astype(np.int64), piece_rows[own])
    else:
        batches = [(is_left, batch) for is_left, batch in pieces if batch.num_rows]
        if not batches:
            return []
        is_left_piece = np.fromiter((side for side, _ in batches), dtype=bool, count=len(batches))
        piece_rows = np.fromiter((batch.num_rows for _, batch in batches), dtype=np.int64, count=len(batches))
        for is_left in (True, False):
            own = np.flatnonzero(is_left_piece == is_left)
            if own.size:
                try:
                    whole[is_left] = concat_batches([batches[i][1] for i in own.tolist()])
                except pa.ArrowInvalid:  # the pieces' schemas differ: no batching, one piece at a time
                    return [out for side, batch in batches for out in one_piece(side, batch)]
                piece_of_row[is_left] = np.repeat(own.astype(np.int64), piece_rows[own])
        # each piece's first row within its side's concatenation: a running sum of the side's row counts
        first_of_piece = np.zeros(len(batches), dtype=np.int64)
        for is_left in (True, False):
            own_mask = is_left_piece == is_left
            counts = piece_rows[own_mask]
            first_of_piece[own_mask] = np.cumsum(counts) - counts
        spans = [(side, batch.num_rows) for side, batch in batches]
    first_row = first_of_piece.tolist()
    # footprints against the state at the start of the step; a change's footprint only involves keys
    # whose state the other side could write, which is what the cut checks
    prints = {side: footprint(side, batch) for side, batch in whole.items()}
    width = {side: values.shape[1] for side, values in prints.items()}
    flat = {side: values.ravel().tolist() for side, values in prints.items()}
    footprints = [
        flat[is_left][first_row[i] * width[is_left] : (first_row[i] + count) * width[is_left]]
        for i, (is_left, count) in enumerate(spans)
    ]
    outputs: list[pa.RecordBatch] = []
    for start, stop in cut_groups([side for side, _ in spans], footprints):
        results: list[tuple[pa.RecordBatch, np.ndarray]] = []
        for is_left in (True, False):
            members = [i for i in range(start, stop) if spans[i][0] == is_left]
            if not members:
                continue
            lo = first_row[members[0]]
            hi = first_row[members[-1]] + spans[members[-1]][1]
            out, rows = side_rows(is_left, whole[is_left].slice(lo, hi - lo))
            if out is not None and out.num_rows:
                results.append((out, piece_of_row[is_left][lo + rows]))
        outputs.extend(_in_piece_order(results))
    return outputs


def _in_piece_order(results: list[tuple[pa.RecordBatch, np.ndarray]]) -> list[pa.RecordBatch]:
    """The output rows of a group's two sides interleaved by the piece that produced them (stable: a
    piece's rows keep their order)."""
    if len(results) < 2:
        return [out for out, _ in results]
    (first, first_pieces), (second, second_pieces) = results
    positions = np.concatenate([first_pieces, second_pieces])
    order = np.argsort(positions, kind="stable")
    if first.schema.equals(second.schema):
        table = pa.Table.from_batches([first, second]).combine_chunks()
        return [concat_batches(table.take(pa.array(order, pa.int64())).combine_chunks().to_batches())]
    # different schemas (types inferred differently per side): runs of one side, in order
    from_first = order < first.num_rows
    cuts = np.flatnonzero(np.diff(from_first.astype(np.int8))) + 1
    outputs = []
    for run in np.split(order, cuts):
        if run[0] < first.num_rows:
            outputs.append(first.take(pa.array(run, pa.int64())))
        else:
            outputs.append(second.take(pa.array(run - first.num_rows, pa.int64())))
    return outputs
