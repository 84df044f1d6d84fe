"""A table-table join's whole step at once: each change sees the other side *as of* its position.

A query joining two tables consumes a step of both changelogs in their merged (event-time) order
(:mod:`headwater.engine.runtime.merge`). Processed one run of one side after another, each run would
cost a fixed set of Arrow calls, and a step can hold thousands of runs. Yet what a change outputs depends
only on (a) its own side's earlier rows of its key, which the side's batch already gives in order
(:func:`~headwater.engine.operators.table_source.table_changes`), and (b) the other side's rows *as of
its position*: the latest change of the other side's key before it within the step, or, when there is
none, the row stored before the step. That is an as-of lookup, which :func:`latest_before` answers for
a whole step with one sort of the changes and a few vectorized passes over the queries. The joins build
their output for each side's changes from those lookups in a constant number of vectorized passes, and
put the two sides' output rows back in the order of the changes that produced them
(:func:`in_step_order` for built batches, :func:`in_merged_order` for rows still to be gathered).

:class:`StepChanges` numbers every change of the step by its merged position, from a
:class:`~headwater.engine.operators.join_sequence.PieceRuns` (one batch per side cut by row counts) or a
list of pieces (one batch per run, concatenated per side).

Example:
    >>> import numpy as np
    >>> # right changes of slots 4, 7, 4 at positions 1, 2, 5; which one does a left change see?
    >>> latest_before(np.array([4, 7, 4]), np.array([1, 2, 5]), np.array([4, 4, 4, 7, 9]),
    ...               np.array([0, 3, 6, 3, 3])).tolist()
    [-1, 0, 2, 1, -1]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from headwater.engine.operators.join_output import JoinSide
from headwater.engine.operators.join_sequence import Piece, PieceRuns, concat_batches
from headwater.engine.operators.table_source import TableChanges, keyed_rows, table_changes
from headwater.engine.schema import ROWTIME
from headwater.engine.state.row_store import RowStore

__all__ = [
    "LatestChange", "SideStep", "StepChanges", "gather", "in_merged_order", "in_step_order", "latest_before", "pair_blocks",
    "pairs_by_target", "take_rows",
]


@dataclass(frozen=True)
class StepChanges:
    """Each side's changes of one step and their positions in the merged order.

    Attributes:
        batches: per side (True: left), its changes in order (absent when the side has none).
        positions: per side, the merged position of each row of its batch (increasing).
    """

    batches: dict[bool, pa.RecordBatch]
    positions: dict[bool, np.ndarray]

    @classmethod
    def of(cls, pieces: Sequence[Piece]) -> StepChanges | None:
        """The step held by ``pieces``; None when a side's pieces do not share a schema (they cannot be
        one batch: the caller takes them one at a time)."""
        if isinstance(pieces, PieceRuns):
            sides, rows, first_rows = pieces.sides, pieces.rows, pieces.first_rows
            whole = {side: batch for side, batch in pieces.whole.items() if batch.num_rows}
        else:
            nonempty = [(side, batch) for side, batch in pieces if batch.num_rows]
            sides = np.fromiter((side for side, _ in nonempty), dtype=bool, count=len(nonempty))
            rows = np.fromiter((batch.num_rows for _, batch in nonempty), dtype=np.int64, count=len(nonempty))
            first_rows = np.zeros(len(rows), dtype=np.int64)
            whole = {}
            for is_left in (True, False):
                own = np.flatnonzero(sides == is_left)
                if own.size == 0:
                    continue
                try:
                    whole[is_left] = concat_batches([nonempty[i][1] for i in own.tolist()])
                except pa.ArrowInvalid:
                    return None
                first_rows[own] = np.cumsum(rows[own]) - rows[own]
        piece_start = np.cumsum(rows) - rows  # each piece's first merged position
        positions: dict[bool, np.ndarray] = {}
        for is_left in whole:
            own = np.flatnonzero(sides == is_left)
            piece_of_row = np.repeat(own, rows[own])
            within = np.arange(len(piece_of_row), dtype=np.int64) - first_rows[piece_of_row]
            positions[is_left] = piece_start[piece_of_row] + within
        return cls(whole, positions)


def latest_before(
    change_slots: np.ndarray, change_positions: np.ndarray, query_slots: np.ndarray, query_positions: np.ndarray
) -> np.ndarray:
    """For each query (slot, position), the index of the latest change of that slot at an earlier
    position, or -1 when there is none (and for a query slot of -1). See :class:`LatestChange`."""
    return LatestChange(change_slots, change_positions).of(query_slots, query_positions)


class LatestChange:
    """As-of lookups into one side's changes of a step, sorted once for any number of query batches.

    The changes are sorted by (slot, position); a slot's changes then sit together, and a query starts at
    its slot's last change and steps back while the change is not before it. A slot holds few changes in
    a step, so a few vectorized steps answer nearly every query; the rest (a key changed many times after
    the query) take a binary search over all the changes. The queries go in blocks of
    :data:`_QUERY_BLOCK` (a handful of blocks for the largest step, a loop per block and not per change):
    a block's temporaries are reused memory, where arrays of millions of rows would be mapped afresh,
    whose page faults cost more than the lookups.

    Args:
        change_slots: each change's slot (non-negative).
        change_positions: each change's merged position.
    """

    def __init__(self, change_slots: np.ndarray, change_positions: np.ndarray) -> None:
        self.empty = len(change_slots) == 0
        if self.empty:
            return
        self.span = int(change_positions.max()) + 2
        packed = change_slots.astype(np.int64) * self.span + change_positions
        self.order = np.argsort(packed)  # distinct values: any sort is stable
        self.counts = np.bincount(change_slots)
        self.ends = np.cumsum(self.counts)
        self.sorted_positions = change_positions[self.order]
        self.sorted_packed = packed[self.order]

    def of(self, query_slots: np.ndarray, query_positions: np.ndarray) -> np.ndarray:
        """For each query (slot, position), the index of the latest change of that slot at an earlier
        position, or -1 when there is none (and for a query slot of -1)."""
        found = np.full(len(query_slots), -1, dtype=np.int64)
        if self.empty or len(query_slots) == 0:
            return found
        for start in range(0, len(query_slots), _QUERY_BLOCK):
            block = slice(start, start + _QUERY_BLOCK)
            found[block] = self._block(query_slots[block], query_positions[block])
        return found

    def _block(self, query_slots: np.ndarray, query_positions: np.ndarray) -> np.ndarray:
        found = np.full(len(query_slots), -1, dtype=np.int64)
        # a query slot beyond every changed slot, or -1, has no change
        wanted = np.where((query_slots >= 0) & (query_slots < len(self.counts)), query_slots, 0)
        changes_of_slot = self.counts[wanted]
        changes_of_slot[(query_slots < 0) | (query_slots >= len(self.counts))] = 0
        live = np.flatnonzero(changes_of_slot)  # the queries whose slot changed in the step
        at = self.ends[wanted[live]] - 1  # the slot's last change in (slot, position) order
        first = at + 1 - changes_of_slot[live]
        positions = np.minimum(query_positions[live], self.span - 1)
        for _ in range(3):
            hit = self.sorted_positions[at] < positions
            found[live[hit]] = self.order[at[hit]]
            more = ~hit & (at > first)
            live, at, first, positions = live[more], at[more] - 1, first[more], positions[more]
            if len(live) == 0:
                return found
        at = np.searchsorted(self.sorted_packed, query_slots[live] * self.span + positions, side="left") - 1
        hit = at >= first  # the search stays within the slot's changes, else there is none before
        found[live[hit]] = self.order[at[hit]]
        return found


_QUERY_BLOCK = 1 << 17


def pairs_by_target(targets: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (query, entry) pair with ``targets[entry] == queries[query]``: (query index, entry index),
    grouped by query in query order, entries in their order within a query."""
    blocks = list(pair_blocks(targets, queries))
    if not blocks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate([q for q, _ in blocks]), np.concatenate([e for _, e in blocks])


def pair_blocks(
    targets: np.ndarray, queries: np.ndarray, block: int | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`pairs_by_target` in blocks of consecutive queries of about ``block`` pairs each (a query
    with more pairs is a block of its own), so that a step with millions of pairs works through reused
    memory: a loop per block, a handful per step. Blocks without pairs are left out."""
    size = _QUERY_BLOCK if block is None else block
    by_target = np.argsort(targets, kind="stable")
    ordered = targets[by_target]
    low = np.searchsorted(ordered, queries, side="left")
    counts = np.searchsorted(ordered, queries, side="right") - low
    before = np.cumsum(counts) - counts  # pairs of the queries before each
    block_of_query = before // size
    edges = np.concatenate([[0], np.flatnonzero(np.diff(block_of_query)) + 1, [len(queries)]]).astype(np.int64)
    for start, stop in zip(edges[:-1].tolist(), edges[1:].tolist()):
        own = counts[start:stop]
        total = int(own.sum())
        if total == 0:
            continue
        query_of_pair = np.repeat(np.arange(start, stop, dtype=np.int64), own)
        offsets = np.repeat(low[start:stop] - (np.cumsum(own) - own), own)  # each pair's entry, less its rank
        offsets += np.arange(total, dtype=np.int64)
        yield query_of_pair, by_target[offsets]


def take_rows(stored: pa.Table, step: pa.Table, from_step: np.ndarray, rows: np.ndarray, valid: np.ndarray) -> pa.Table:
    """Rows drawn from two tables of one schema: row ``rows[i]`` of ``step`` where ``from_step[i]``,
    else row ``i`` of ``stored`` (already one row per output row); NULL wherever ``valid`` is False.
    One concatenation and one ``take``."""
    count = len(rows)
    indices = np.where(from_step, stored.num_rows + rows, np.arange(count, dtype=np.int64))
    both = pa.concat_tables([stored, step.cast(stored.schema) if step.schema != stored.schema else step])
    mask = None if valid.all() else ~valid
    return both.take(pa.array(np.where(valid, indices, 0), pa.int64(), mask=mask)).combine_chunks()


def gather(sources: Sequence[pa.Table], source: np.ndarray, rows: np.ndarray, valid: np.ndarray | None = None) -> pa.Table:
    """Row ``i`` is row ``rows[i]`` of ``sources[source[i]]``, NULL where ``valid`` is False: the rows
    of several tables (cast to the first one's schema) in one concatenation and one ``take``."""
    schema = sources[0].schema
    tables = [table if table.schema == schema else table.select(schema.names).cast(schema) for table in sources]
    starts = np.cumsum([0] + [table.num_rows for table in tables[:-1]]).astype(np.int64)
    indices = starts[source] + rows
    mask = None
    if valid is not None and not valid.all():
        mask = ~valid
        indices = np.where(valid, indices, 0)
    return pa.concat_tables(tables).take(pa.array(indices, pa.int64(), mask=mask))


def in_merged_order(positions: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Where each entry of one or two position arrays lands when they are merged by position, the
    first array's entries before the second's on equal positions (a stable sort of their
    concatenation). Each array is in position order already (a side's output follows its changes),
    so two binary searches place every entry, without sorting the whole output."""
    if len(positions) == 1:
        return [np.arange(len(positions[0]), dtype=np.int64)]
    first, second = positions
    if (len(first) > 1 and bool((np.diff(first) < 0).any())) or (len(second) > 1 and bool((np.diff(second) < 0).any())):
        order = np.argsort(np.concatenate([first, second]), kind="stable")
        destination = np.empty(len(order), dtype=np.int64)
        destination[order] = np.arange(len(order), dtype=np.int64)
        return [destination[: len(first)], destination[len(first):]]
    return [
        np.arange(len(first), dtype=np.int64) + np.searchsorted(second, first, side="left"),
        np.arange(len(second), dtype=np.int64) + np.searchsorted(first, second, side="right"),
    ]


def in_step_order(parts: Sequence[tuple[np.ndarray, pa.RecordBatch]]) -> list[pa.RecordBatch]:
    """Output batches built per side, interleaved by the merged position of the change behind each row
    (stable: rows of one change keep their order). Batches of different schemas (types inferred
    differently per side) are returned as runs of one batch each, in order."""
    parts = [(positions, batch) for positions, batch in parts if batch.num_rows]
    if not parts:
        return []
    if len(parts) == 1:
        return [parts[0][1]]
    (first_positions, first), (second_positions, second) = parts
    order = np.argsort(np.concatenate([first_positions, second_positions]), kind="stable")
    if first.schema.equals(second.schema):
        table = pa.Table.from_batches([first, second])
        return [concat_batches(table.take(pa.array(order, pa.int64())).combine_chunks().to_batches())]
    from_first = order < first.num_rows
    cuts = np.flatnonzero(np.diff(from_first.astype(np.int8))) + 1
    outputs = []
    for run in np.split(order, cuts):
        if run[0] < first.num_rows:
            outputs.append(first.take(pa.array(run, pa.int64())))
        else:
            outputs.append(second.take(pa.array(run - first.num_rows, pa.int64())))
    return outputs


@dataclass(frozen=True)
class SideStep:
    """One side's changes of a step resolved against its store before the step.

    Attributes:
        changes: the changes with a non-NULL key, their slots, deletes and previous rows.
        positions: the merged position of each change.
        rowtime: each change's ROWTIME.
        values: each change's carried columns (input names).
    """

    changes: TableChanges
    positions: np.ndarray
    rowtime: np.ndarray
    values: pa.Table

    @property
    def slots(self) -> np.ndarray:
        return self.changes.slots

    @property
    def deleted(self) -> np.ndarray:
        return self.changes.deleted

    @classmethod
    def resolve(cls, step: StepChanges, is_left: bool, side: JoinSide, store: RowStore) -> SideStep | None:
        """The side's changes in ``step`` against ``store`` (not modified); None when it has none with
        a key."""
        batch = step.batches.get(is_left)
        if batch is None:
            return None
        changes = table_changes(batch, side.key_columns, store)
        if changes is None:
            return None
        kept = keyed_rows(batch, side.key_columns)
        positions = step.positions[is_left] if kept is None else step.positions[is_left][kept]
        rowtime = np.asarray(changes.batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)
        return cls(changes, positions, rowtime, side.values(changes.batch))
