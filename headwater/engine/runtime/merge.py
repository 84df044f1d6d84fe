"""Event-time order across a query's source partitions, as Kafka Streams consumes them.

A query reading several partitions (several topics, or a topic with several partitions) sees its
records in the order Kafka Streams would give them: it repeatedly takes the next record of the
partition whose head record has the smallest timestamp (ties go to the partition listed first), each
partition staying in offset order. For a join this is what makes a table row that existed *before* a
stream record (in event time) visible to it, whichever topic was produced first.

:func:`merge_by_time` computes that order for chunks read from each partition, as runs of consecutive
records of one partition, vectorized per run (one ``searchsorted``-like scan per run, not per record).
A partition whose chunk may continue (the read returned as many records as asked) bounds the merge:
once its chunk is used up the merge stops, since its next records could be earlier than what remains
of the others.

**Consuming the runs.** Pushing each run through the whole operator graph costs a fixed amount of Arrow
work per run, and two table changelogs that interleave record by record give runs of one or two
records. For the usual shape of a two-table join (each source's chain of row-wise operators ending in
one side of a table-table or foreign-key join, then row-wise, batch-invariant operators to the sink),
:func:`push_in_order` gives the same output with a few batch calls per step: each source's chain runs
once over all of the step's records of that source (row-wise operators give the same rows whichever way
a batch is cut), its output is cut back into the runs by each row's offset, the join takes the runs in
order through its ``process_sequence`` (exact, see :mod:`headwater.engine.operators.join_sequence`),
and the operators after the join run once over its output in order.

Example:
    >>> import numpy as np
    >>> runs = merge_by_time({("a", 0): np.array([1, 5, 6]), ("b", 0): np.array([2, 3, 9])}, set())
    >>> [(tp[0], start, stop) for tp, start, stop in runs]
    [('a', 0, 1), ('b', 0, 2), ('a', 1, 3), ('b', 2, 3)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.operators.base import SHADOW_PREFIX, Operator
from headwater.engine.operators.join_sequence import Piece, PieceRuns, concat_batches
from headwater.engine.operators.source_scan import PARTITION_COLUMN
from headwater.engine.planner.graph import OperatorGraph, Stage, run_stages
from headwater.engine.schema import ROWOFFSET

__all__ = ["JoinShape", "Runs", "join_shape", "merge_by_time", "push_in_order", "time_order_runs"]

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Runs:
    """Runs of consecutive records of one partition, in event-time order, as arrays: a step of two
    table changelogs that interleave record by record has tens of thousands of runs, and a Python tuple
    per run cost more than the join that consumes them.

    Attributes:
        partitions: the partitions, in priority order; ``owner`` indexes them.
        owner: per run, its partition's index in ``partitions``.
        starts: per run, its first row in its partition's chunk.
        stops: per run, one past its last row.
    """

    partitions: list[TopicPartition]
    owner: np.ndarray
    starts: np.ndarray
    stops: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    def as_tuples(self) -> list[tuple[TopicPartition, int, int]]:
        """``(partition, start, stop)`` per run."""
        return [
            (self.partitions[o], a, b)
            for o, a, b in zip(self.owner.tolist(), self.starts.tolist(), self.stops.tolist())
        ]

    def of(self, partition_index: int) -> np.ndarray:
        """The indexes of the runs of one partition, in order."""
        return np.flatnonzero(self.owner == partition_index)

    def last_stops(self) -> dict[TopicPartition, int]:
        """Per partition with runs, how many rows of its chunk the runs use (they use a prefix)."""
        used = np.zeros(len(self.partitions), dtype=np.int64)
        np.maximum.at(used, self.owner, self.stops)
        present = np.zeros(len(self.partitions), dtype=bool)
        present[self.owner] = True
        return {self.partitions[i]: int(used[i]) for i in np.flatnonzero(present).tolist()}


def merge_by_time(
    timestamps: Mapping[TopicPartition, np.ndarray], open_ended: set[TopicPartition]
) -> list[tuple[TopicPartition, int, int]]:
    """Runs ``(partition, start, stop)`` of the chunks' rows in event-time order: :func:`time_order_runs`
    as tuples."""
    return time_order_runs(timestamps, open_ended).as_tuples()


def time_order_runs(timestamps: Mapping[TopicPartition, np.ndarray], open_ended: set[TopicPartition]) -> Runs:
    """The runs of the chunks' rows in event-time order (see the module docstring). ``timestamps``
    holds each partition's chunk timestamps in offset order, the keys in priority order; ``open_ended``
    names the partitions whose chunk may continue.

    Taking the partition with the smallest head again and again is a stable sort on each record's
    running maximum timestamp within its partition (ties: the partition listed first, then offset
    order): a record behind a larger one in its partition cannot leave before it, and once that one has
    left, nothing of the others is smaller. The chunks are concatenated in (partition, offset) order, so
    a *stable* sort on the running maximum alone breaks ties that way: one ``argsort`` (a merge of
    already sorted runs), cut where an open-ended partition's chunk is used up."""
    order = list(timestamps)
    empty = np.zeros(0, dtype=np.int64)
    if any(tp in open_ended and len(timestamps[tp]) == 0 for tp in order):
        return Runs(order, empty, empty, empty)
    sizes = [len(timestamps[tp]) for tp in order]
    if sum(sizes) == 0:
        return Runs(order, empty, empty, empty)
    running = np.concatenate(
        [np.maximum.accumulate(np.asarray(timestamps[tp], dtype=np.int64)) for tp, n in zip(order, sizes) if n]
    )
    partition = np.repeat(np.arange(len(order), dtype=np.int64), sizes)
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    merged = np.argsort(running, kind="stable")
    ends = [int(firsts[i] + sizes[i] - 1) for i, tp in enumerate(order) if tp in open_ended]
    if ends:
        rank = np.empty_like(merged)
        rank[merged] = np.arange(len(merged))
        merged = merged[: int(rank[ends].min()) + 1]
    owner = partition[merged]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(owner)) + 1])
    stops = np.concatenate([starts[1:], [len(merged)]])
    at = merged - firsts[owner]  # each merged row's position in its partition's chunk
    return Runs(order, owner[starts], at[starts], at[stops - 1] + 1)


_BEFORE_JOIN = frozenset(("scan", "partition_by", "filter"))
"""Operators that may feed a join side in :func:`push_in_order`: row-wise, order-preserving, stateless,
and keeping each row's source offset (ROWOFFSET, or its shadow after a PARTITION BY ROWOFFSET)."""

_AFTER_JOIN = frozenset(("project", "filter", "table_filter", "repartition", "sink"))
"""Operators that may follow the join: their output for a batch is the concatenation of their output
for its parts (a table filter applies a batch's changes of a key in order)."""


@dataclass(frozen=True)
class JoinShape:
    """A query graph :func:`push_in_order` can drive (see the module docstring).

    Attributes:
        join: the join operator (it has ``process_sequence``).
        sides: per source topic, the operators before the join and whether they feed its left side.
        after: the first stage after the join (shared by both sides).
    """

    join: Any
    sides: dict[str, tuple[tuple[Operator, ...], bool]]
    after: Stage | None


def join_shape(graph: OperatorGraph) -> JoinShape | None:
    """The graph as a :class:`JoinShape`, or None when it has another shape (then each run is pushed
    through the graph as it is)."""
    if graph.record_at_a_time or len(graph.entries) != 2:
        return None
    join: Any = None
    after: Stage | None = None
    sides: dict[str, tuple[tuple[Operator, ...], bool]] = {}
    for topic, first in graph.entries:
        if topic in sides:
            return None  # a topic feeding both sides: its records reach them one batch at a time
        before: list[Operator] = []
        stage: Stage | None = first
        while stage is not None and stage.operator.kind in _BEFORE_JOIN:
            before.append(stage.operator)
            stage = stage.downstream
        if stage is None:
            return None
        port = stage.operator
        owner = getattr(port, "join", None)
        if port.kind != "join_input" or not hasattr(owner, "process_sequence"):
            return None
        if join is None:
            join, after = owner, stage.downstream
        elif owner is not join or stage.downstream is not after:
            return None
        sides[topic] = (tuple(before), bool(getattr(port, "left", False)))
    if len({is_left for _, is_left in sides.values()}) != 2:
        return None
    stage = after
    while stage is not None:
        if stage.operator.kind not in _AFTER_JOIN:
            return None
        stage = stage.downstream
    return JoinShape(join, sides, after)


def push_in_order(shape: JoinShape, chunks: Mapping[TopicPartition, pa.Table], runs: Runs) -> list[pa.RecordBatch]:
    """Push ``runs`` (from :func:`time_order_runs`, over ``chunks``) through a :class:`JoinShape` graph;
    returns what leaves its last stage. The same output as pushing each run through the graph in order.

    When each side reads one partition and its operators keep rows in offset order (always, for the
    operators allowed before a join), the join gets each side's changes as one batch cut by row counts
    (:class:`~headwater.engine.operators.join_sequence.PieceRuns`), not one slice per run."""
    outputs: dict[TopicPartition, list[pa.RecordBatch]] = {}
    bounds_of: dict[TopicPartition, tuple[np.ndarray, np.ndarray]] = {}
    used = runs.last_stops()
    for index, tp in enumerate(runs.partitions):
        if tp not in used:
            continue
        table = chunks[tp]
        mine = runs.of(index)
        offsets = np.asarray(table.column("__offset").to_numpy(), dtype=np.int64)
        bounds_of[tp] = (offsets[runs.starts[mine]], mine)
        before, _ = shape.sides[tp[0]]
        batches = [
            batch.append_column(PARTITION_COLUMN, pa.repeat(pa.scalar(tp[1], pa.int32()), batch.num_rows))
            for batch in table.slice(0, used[tp]).to_batches()
            if batch.num_rows
        ]
        for operator in before:
            batches = [out for batch in batches for out in operator.process(batch)]
        outputs[tp] = batches
    pieces: Sequence[Piece] | None = _as_piece_runs(shape, runs, outputs, bounds_of)
    if pieces is None:
        per_run: list[list[pa.RecordBatch]] = [[] for _ in range(len(runs))]
        for tp, batches in outputs.items():
            bounds, mine = bounds_of[tp]
            for batch in batches:
                _cut_into_runs(batch, bounds, mine, per_run)
        sliced: list[Piece] = []
        for owner, parts in zip(runs.owner.tolist(), per_run):
            is_left = shape.sides[runs.partitions[owner][0]][1]
            sliced.extend((is_left, part) for part in parts)
        pieces = sliced
    joined = shape.join.process_sequence(pieces)
    if len(joined) > 1 and len({batch.schema for batch in joined}) == 1:
        joined = [concat_batches(joined)]
    return run_stages(shape.after, joined) if shape.after is not None else joined


def _as_piece_runs(
    shape: JoinShape,
    runs: Runs,
    outputs: Mapping[TopicPartition, list[pa.RecordBatch]],
    bounds_of: Mapping[TopicPartition, tuple[np.ndarray, np.ndarray]],
) -> PieceRuns | None:
    """The step's pieces as :class:`PieceRuns`: one piece per run (empty where a side's operators
    dropped the run's rows), each side's rows in one batch. None when that does not hold (a side
    reading several partitions, rows out of offset order, outputs of differing schemas): then the
    runs are sliced one by one."""
    side_of_topic = {topic: is_left for topic, (_, is_left) in shape.sides.items()}
    if len({side_of_topic[tp[0]] for tp in outputs}) != len(outputs):
        return None
    whole: dict[bool, pa.RecordBatch] = {}
    rows = np.zeros(len(runs), dtype=np.int64)
    for tp, batches in outputs.items():
        bounds, mine = bounds_of[tp]
        is_left = side_of_topic[tp[0]]
        if not batches:
            continue
        try:
            batch = concat_batches(batches)
        except pa.ArrowInvalid:
            return None
        name = SHADOW_PREFIX + ROWOFFSET if SHADOW_PREFIX + ROWOFFSET in batch.schema.names else ROWOFFSET
        offsets = np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=np.int64)
        local = np.searchsorted(bounds, offsets, side="right") - 1
        if local.size and (local[0] < 0 or bool((np.diff(local) < 0).any())):
            return None
        rows[mine] = np.bincount(local, minlength=len(mine))
        whole[is_left] = batch
    side_of_partition = np.asarray([side_of_topic[tp[0]] for tp in runs.partitions], dtype=bool)
    sides = side_of_partition[runs.owner] if len(runs) else np.zeros(0, dtype=bool)
    for is_left in (True, False):
        if is_left not in whole:
            whole[is_left] = _EMPTY_BATCH
            rows[sides == is_left] = 0
    return PieceRuns(whole, sides, rows)


_EMPTY_BATCH = pa.record_batch({})
"""A side without rows in the step (its pieces are all empty and never read)."""


def _cut_into_runs(
    batch: pa.RecordBatch, bounds: np.ndarray, run_ids: np.ndarray, per_run: list[list[pa.RecordBatch]]
) -> None:
    """Append each row of ``batch`` (output of a side's operators) to the run its source offset falls
    in; ``bounds`` holds the first offset of each of the partition's runs ``run_ids``."""
    name = SHADOW_PREFIX + ROWOFFSET if SHADOW_PREFIX + ROWOFFSET in batch.schema.names else ROWOFFSET
    offsets = np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=np.int64)
    local = np.searchsorted(bounds, offsets, side="right") - 1
    if len(local) == 0:
        return
    if (local < 0).any():
        raise ValueError(f"a row's offset {int(offsets.min())} precedes the step's records")
    if bool((np.diff(local) >= 0).all()):  # rows in offset order (always, for the operators allowed)
        starts = np.concatenate([[0], np.flatnonzero(np.diff(local)) + 1]).tolist()
        stops = [*starts[1:], len(local)]
        runs = local[starts].tolist()
        for start, stop, run in zip(starts, stops, runs):
            per_run[run_ids[run]].append(batch.slice(start, stop - start))
        return
    order = np.argsort(local, kind="stable")
    ordered = local[order]
    for rows in np.split(order, np.flatnonzero(np.diff(ordered)) + 1):
        per_run[run_ids[int(local[rows[0]])]].append(batch.take(pa.array(rows, pa.int64())))
