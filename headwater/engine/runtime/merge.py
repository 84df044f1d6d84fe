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

Example:
    >>> import numpy as np
    >>> runs = merge_by_time({("a", 0): np.array([1, 5, 6]), ("b", 0): np.array([2, 3, 9])}, set())
    >>> [(tp[0], start, stop) for tp, start, stop in runs]
    [('a', 0, 1), ('b', 0, 2), ('a', 1, 3), ('b', 2, 3)]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["merge_by_time"]

TopicPartition = tuple[str, int]


def merge_by_time(
    timestamps: Mapping[TopicPartition, np.ndarray], open_ended: set[TopicPartition]
) -> list[tuple[TopicPartition, int, int]]:
    """Runs ``(partition, start, stop)`` of the chunks' rows in event-time order (see the module
    docstring). ``timestamps`` holds each partition's chunk timestamps in offset order, the keys in
    priority order; ``open_ended`` names the partitions whose chunk may continue."""
    order = list(timestamps)
    position = {tp: 0 for tp in order}
    runs: list[tuple[TopicPartition, int, int]] = []
    while True:
        live = [tp for tp in order if position[tp] < len(timestamps[tp])]
        if not live:
            return runs
        if any(tp in open_ended and position[tp] >= len(timestamps[tp]) for tp in order):
            return runs
        heads = {tp: int(timestamps[tp][position[tp]]) for tp in live}
        chosen = min(live, key=lambda tp: (heads[tp], order.index(tp)))
        others = [tp for tp in live if tp != chosen]
        values = timestamps[chosen]
        start = position[chosen]
        if not others:
            stop = len(values)
        else:
            bound = min(heads[tp] for tp in others)
            first_other = min((tp for tp in others if heads[tp] == bound), key=order.index)
            keep_ties = order.index(chosen) < order.index(first_other)
            rest = values[start:]
            stays = rest <= bound if keep_ties else rest < bound
            stop = start + (int(np.argmin(stays)) if not stays.all() else len(rest))
            stop = max(stop, start + 1)
        runs.append((chosen, start, stop))
        position[chosen] = stop
