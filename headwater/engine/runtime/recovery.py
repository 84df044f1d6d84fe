"""Recovery of sinks after a crash: cut every sink partition back to its committed end.

Every writer of a sink topic (persistent queries, and the INSERT VALUES / terminated-query record kept
as the ``_retired`` writer) commits the sink's end offsets with its source offsets, under the topic's
writer lock. So the largest committed end offset of a partition covers everything any writer committed,
and whatever lies beyond it is the output of a step that never committed: its inputs are still
uncommitted and will be processed again. Truncating to that offset makes the replay produce the tail
exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from headwater.engine.runtime.checkpoint import CheckpointStore

__all__ = ["committed_sink_ends", "recover_sinks"]


def committed_sink_ends(stores: Iterable[CheckpointStore]) -> dict[tuple[str, int], int]:
    """The largest committed end offset per sink topic-partition over ``stores``."""
    committed: dict[tuple[str, int], int] = {}
    for store in stores:
        checkpoint = store.load()
        if checkpoint is None:
            continue
        for tp, end in checkpoint.sinks.items():
            committed[tp] = max(end, committed.get(tp, 0))
    return committed


def recover_sinks(log: Any, stores: Iterable[CheckpointStore]) -> dict[tuple[str, int], int]:
    """Truncate sinks to their committed ends; returns how many records were dropped per partition."""
    dropped: dict[tuple[str, int], int] = {}
    for (topic_name, partition), end in committed_sink_ends(stores).items():
        if not log.has_topic(topic_name):
            continue
        part = log.topic(topic_name).partition(partition)
        current = int(part.end_offset)
        if current > end:
            part.truncate_to(end)
            dropped[(topic_name, partition)] = current - end
    return dropped
