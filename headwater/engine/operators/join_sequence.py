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

__all__ = ["Piece", "SideRows", "concat_batches", "cut_groups", "join_in_order"]

Piece = tuple[bool, pa.RecordBatch]
"""One run of a join's input: (is it the left side, its changes in order)."""

SideRows = Callable[[bool, pa.RecordBatch], tuple["pa.RecordBatch | None", np.ndarray]]
"""Joins one side's batch of changes: (output rows or None, the input row of each output row)."""


def concat_batches(batches: Sequence[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch holding ``batches`` in order (they share a schema)."""
    if len(batches) == 1:
        return batches[0]
    table = pa.Table.from_batches(list(batches)).combine_chunks()
    combined = table.to_batches()
    return combined[0] if combined else batches[0].slice(0, 0)


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
        pieces: the step's changes of both sides, in the order they are consumed.
        footprint: per row of a side's batch, the keys it reads or writes that the other side's
            changes could touch (a 2-d int array, -1 for none); computed before the batch is applied.
        side_rows: joins a batch of one side's changes and applies them, giving each output row's input row.
        one_piece: the join's plain entry point for one piece (used when a side's pieces do not share
            a schema, where batching them is not possible; nothing has been applied by then).
    """
    pieces = [(is_left, batch) for is_left, batch in pieces if batch.num_rows]
    if not pieces:
        return []
    whole: dict[bool, pa.RecordBatch] = {}
    piece_of_row: dict[bool, np.ndarray] = {}
    first_row: list[int] = []
    for is_left in (True, False):
        own = [(i, batch) for i, (side, batch) in enumerate(pieces) if side == is_left]
        if own:
            try:
                whole[is_left] = concat_batches([batch for _, batch in own])
            except pa.ArrowInvalid:  # the pieces' schemas differ: no batching, one piece at a time
                return [out for side, batch in pieces for out in one_piece(side, batch)]
            piece_of_row[is_left] = np.repeat(
                np.asarray([i for i, _ in own], dtype=np.int64), [batch.num_rows for _, batch in own]
            )
    starts = {True: 0, False: 0}
    for is_left, batch in pieces:
        first_row.append(starts[is_left])
        starts[is_left] += batch.num_rows
    # footprints against the state at the start of the step; a change's footprint only involves keys
    # whose state the other side could write, which is what the cut checks
    prints = {side: footprint(side, batch) for side, batch in whole.items()}
    width = {side: values.shape[1] for side, values in prints.items()}
    flat = {side: values.ravel().tolist() for side, values in prints.items()}
    footprints = [
        flat[is_left][first_row[i] * width[is_left] : (first_row[i] + batch.num_rows) * width[is_left]]
        for i, (is_left, batch) in enumerate(pieces)
    ]
    outputs: list[pa.RecordBatch] = []
    for start, stop in cut_groups([side for side, _ in pieces], footprints):
        results: list[tuple[pa.RecordBatch, np.ndarray]] = []
        for is_left in (True, False):
            members = [i for i in range(start, stop) if pieces[i][0] == is_left]
            if not members:
                continue
            lo = first_row[members[0]]
            hi = first_row[members[-1]] + pieces[members[-1]][1].num_rows
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
