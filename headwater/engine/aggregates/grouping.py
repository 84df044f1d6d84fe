"""Rows of a batch grouped by state slot, and the vectorized kernels accumulators share.

An aggregate operator maps every row of a batch to the slot of its group; :func:`group_rows` sorts the
rows by slot once (stable, so each group keeps batch order) and every accumulator reuses that
:class:`Grouping`. The sort is :func:`stable_order`: small non-negative integers (slots, batch-local key
numbers) are sorted by one or two 16-bit radix passes, linear in the rows, where a comparison sort of
int64 would cost ``n log n``. The kernels here compute per-group results over the sorted rows with numpy:

* :func:`group_sums` / :func:`group_counts`: integer sums with Java's wrap-around (modular, so exact).
* :func:`sequential_prefix`: a per-group running sum computed strictly left to right from a starting
  value per group, so DOUBLE sums are bit-for-bit what ksqlDB's one-row-at-a-time ``aggregate`` gives,
  whatever the batch size. It uses a padded 2-D ``cumsum`` (numpy's ``accumulate`` is sequential) when
  the groups are of similar sizes and a loop over row ranks (one vector step per rank) otherwise.
* :func:`first_in_group` / :func:`last_in_group`: positions of each group's first or last row.

Example:
    >>> import numpy as np
    >>> g = group_rows(np.array([5, 3, 5, 5]))
    >>> g.group_slots.tolist(), g.counts.tolist()
    ([3, 5], [1, 3])
    >>> sequential_prefix(np.array([0.0, 10.0]), np.array([1.0, 2.0, 3.0, 4.0])[g.order], g).tolist()
    [2.0, 11.0, 14.0, 18.0]
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Grouping",
    "first_in_group",
    "group_counts",
    "group_rows",
    "group_sums",
    "last_in_group",
    "sequential_prefix",
    "stable_order",
]

_DIGIT = 1 << 16


def stable_order(values: np.ndarray, bound: int | None = None) -> np.ndarray:
    """The stable argsort of integers; ``bound``, when given, promises they are in ``[0, bound)``.

    numpy sorts 16-bit integers with a radix sort and wider ones with timsort; values below 2**32 are
    sorted as two 16-bit digits, least significant first (a stable sort by the high digit of rows
    already stably sorted by the low digit sorts by the whole value), which keeps the sort linear.
    """
    values = np.asarray(values)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    if bound is None:
        if int(values.min()) < 0:
            return np.argsort(values, kind="stable")
        bound = int(values.max()) + 1
    if bound <= _DIGIT:
        return np.argsort(values.astype(np.uint16), kind="stable")
    if bound <= _DIGIT * _DIGIT:
        wide = values.astype(np.int64, copy=False)
        low = np.argsort((wide & (_DIGIT - 1)).astype(np.uint16), kind="stable")
        high = np.argsort((wide[low] >> 16).astype(np.uint16), kind="stable")
        return low[high]
    return np.argsort(values, kind="stable")


class Grouping:
    """A batch's rows grouped by slot.

    Attributes:
        slots: the slot of each row, in batch order.
        order: row indices grouped (stable: each group's rows stay in batch order).
        group_slots: the distinct slots, group ``g`` being ``group_slots[g]``: ascending when built from
            slots, in order of first appearance when built with :meth:`from_batch`.
        starts: for each group, the offset of its first row in :attr:`order`.
        counts: rows per group.
        group_of_sorted: the group of each position of :attr:`order`.
    """

    __slots__ = ("_rank", "_slots", "counts", "group_of_sorted", "group_slots", "order", "starts")

    def __init__(self, slots: np.ndarray) -> None:
        self._rank: np.ndarray | None = None
        self._slots: np.ndarray | None = np.asarray(slots, dtype=np.int64)
        self.order = stable_order(self._slots)
        ordered = self._slots[self.order]
        if len(ordered):
            boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
            self.starts = np.concatenate([np.zeros(1, dtype=np.int64), boundaries]).astype(np.int64)
        else:
            self.starts = np.zeros(0, dtype=np.int64)
        self.group_slots = ordered[self.starts] if len(ordered) else np.zeros(0, dtype=np.int64)
        self.counts = np.diff(np.append(self.starts, len(ordered))).astype(np.int64)
        self.group_of_sorted = np.repeat(np.arange(len(self.starts), dtype=np.int64), self.counts)

    @classmethod
    def from_batch(cls, inverse: np.ndarray, slots: np.ndarray) -> Grouping:
        """The grouping of a batch whose rows were numbered by distinct key (``inverse``, every number
        used, in order of first appearance) with ``slots[i]`` the slot of key ``i``. Groups then come in
        order of first appearance, and the sort is a radix sort on the small key numbers."""
        grouping = cls.__new__(cls)
        grouping._rank = None
        inverse = np.asarray(inverse, dtype=np.int64)
        distinct = len(slots)
        grouping.order = stable_order(inverse, max(distinct, 1))
        grouping.counts = np.bincount(inverse, minlength=distinct).astype(np.int64)
        grouping.starts = (np.cumsum(grouping.counts) - grouping.counts).astype(np.int64)
        grouping.group_slots = np.asarray(slots, dtype=np.int64)
        grouping._slots = grouping.group_slots[inverse]
        grouping.group_of_sorted = np.repeat(np.arange(distinct, dtype=np.int64), grouping.counts)
        return grouping

    @classmethod
    def from_sorted(cls, order: np.ndarray, starts: np.ndarray, group_slots: np.ndarray) -> Grouping:
        """The grouping of rows already put in group order: ``order`` lists the rows group by group
        (each group's rows in batch order), group ``g`` starting at ``starts[g]`` with slot
        ``group_slots[g]``. The slot of each row is worked out only if an accumulator asks for it."""
        grouping = cls.__new__(cls)
        grouping._rank = None
        grouping._slots = None
        grouping.order = order
        grouping.starts = np.asarray(starts, dtype=np.int64)
        grouping.counts = np.diff(np.append(grouping.starts, len(order))).astype(np.int64)
        grouping.group_slots = np.asarray(group_slots, dtype=np.int64)
        grouping.group_of_sorted = np.repeat(np.arange(len(grouping.starts), dtype=np.int64), grouping.counts)
        return grouping

    @property
    def slots(self) -> np.ndarray:
        """The slot of each row, in batch order."""
        if self._slots is None:
            slots = np.empty(len(self.order), dtype=np.int64)
            slots[self.order] = self.group_slots[self.group_of_sorted]
            self._slots = slots
        return self._slots

    @property
    def group_count(self) -> int:
        return len(self.starts)

    @property
    def row_count(self) -> int:
        return len(self.order)

    def rank_in_group(self) -> np.ndarray:
        """For each position of :attr:`order`, its 0-based position within its group."""
        if self._rank is None:
            self._rank = np.arange(self.row_count, dtype=np.int64) - np.repeat(self.starts, self.counts)
        return self._rank

    def subset(self, keep: np.ndarray) -> Grouping:
        """The grouping of the rows where ``keep`` (a mask over batch rows) is true; positions in the
        result refer to the kept rows renumbered in batch order (so keeping every row is this grouping)."""
        if keep.all():
            return self
        return Grouping(self.slots[keep])


def group_rows(slots: np.ndarray) -> Grouping:
    """Group the rows of a batch by their slots (see :class:`Grouping`)."""
    return Grouping(slots)


def group_sums(values_sorted: np.ndarray, grouping: Grouping) -> np.ndarray:
    """Per-group sums of values already in :attr:`Grouping.order`; integer sums wrap around as Java's."""
    if grouping.group_count == 0:
        return np.zeros(0, dtype=values_sorted.dtype)
    return np.add.reduceat(values_sorted, grouping.starts)


def group_counts(mask_sorted: np.ndarray, grouping: Grouping) -> np.ndarray:
    """Per-group counts of true values of a mask in :attr:`Grouping.order`."""
    return group_sums(mask_sorted.astype(np.int64), grouping)


def first_in_group(grouping: Grouping) -> np.ndarray:
    """For each group, the batch row of its first row."""
    return grouping.order[grouping.starts]


def last_in_group(grouping: Grouping) -> np.ndarray:
    """For each group, the batch row of its last row."""
    return grouping.order[grouping.starts + grouping.counts - 1]


def sequential_prefix(initial: np.ndarray, values_sorted: np.ndarray, grouping: Grouping) -> np.ndarray:
    """Running sums per group, left to right from ``initial[g]``: position ``i`` of the result (in
    :attr:`Grouping.order`) is ``((initial + v0) + v1) + ... + vi`` over its group's rows up to ``i``.

    Floating-point addition is not associative, so this is what makes a DOUBLE aggregate's result
    independent of how the input was split into batches.
    """
    rows = grouping.row_count
    out = np.empty(rows, dtype=np.result_type(initial, values_sorted))
    if rows == 0:
        return out
    groups = grouping.group_count
    longest = int(grouping.counts.max())
    if groups * (longest + 1) <= 4 * rows + 64:
        # one column per group, one row per rank: cumsum down the rows adds each group's values in order
        matrix = np.zeros((longest + 1, groups), dtype=out.dtype)
        matrix[0] = initial
        ranks = grouping.rank_in_group() + 1
        matrix[ranks, grouping.group_of_sorted] = values_sorted
        running = np.cumsum(matrix, axis=0)
        out[:] = running[ranks, grouping.group_of_sorted]
        return out
    running_1d = np.array(initial, dtype=out.dtype, copy=True)
    for rank in range(longest):
        active = np.flatnonzero(grouping.counts > rank)
        positions = grouping.starts[active] + rank
        running_1d[active] = running_1d[active] + values_sorted[positions]
        out[positions] = running_1d[active]
    return out
