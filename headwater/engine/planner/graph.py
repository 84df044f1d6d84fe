"""The physical shape of a query: its operators wired as a tree from each source to the one output.

A stateless query is a chain (scan, filter, project, sink). A join has two inputs, so its query is a
tree: one chain per source topic that ends in one of the join's input ports, then the part after the
join, shared by both. :class:`OperatorGraph` holds that tree as :class:`Stage` s, each an operator and
the stage its output goes to; the runtime pushes a batch read from a topic into the stages fed by that
topic (:meth:`OperatorGraph.push`) and gets back what leaves the last stage (the rows of a transient
query; nothing for a persistent one, whose sink appends).

The join object itself is no stage: its ports are. It holds the state, so it is listed in
:attr:`OperatorGraph.operators` (what checkpoints snapshot and ``close`` releases) in the order the plan's
nodes are walked, sources first, which gives every stateful operator a stable checkpoint id.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.operators.base import Operator
    >>> class AddOne(Operator):
    ...     kind = "add_one"
    ...     def process(self, batch):
    ...         return [pa.record_batch({"X": [v + 1 for v in batch.column("X").to_pylist()]})]
    >>> first, second = AddOne(), AddOne()
    >>> graph = OperatorGraph([("t", Stage(first, Stage(second, None)))], [first, second])
    >>> graph.push("t", pa.record_batch({"X": [1]}))[0].column("X").to_pylist()
    [3]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from headwater.engine.operators.base import Operator

__all__ = ["OperatorGraph", "Stage"]


@dataclass
class Stage:
    """One operator of the tree and the stage its output flows into (None: the query's output)."""

    operator: Operator
    downstream: Stage | None


class OperatorGraph:
    """A query's operators (see the module docstring).

    Args:
        entries: (source topic, first stage) per source of the plan; a topic read by two sources of
            one query appears twice.
        operators: every operator that runs, in plan order (sources first); join objects, not their
            ports.
    """

    def __init__(
        self, entries: Sequence[tuple[str, Stage]], operators: Sequence[Operator], *, record_at_a_time: bool = False
    ) -> None:
        self.entries = list(entries)
        self.operators = list(operators)
        self.record_at_a_time = record_at_a_time

    @property
    def keeps_state(self) -> bool:
        """Whether an operator of the query keeps state between batches (it snapshots into the query's
        checkpoints): an aggregation, a join, a table source..."""
        return any(type(op).snapshot is not Operator.snapshot for op in self.operators)

    @property
    def source_topics(self) -> list[str]:
        """The topics the query reads, each once, in plan order."""
        return list(dict.fromkeys(topic for topic, _ in self.entries))

    def push(self, topic: str, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Run a batch read from ``topic`` through every stage it feeds; returns the query's output.

        With ``record_at_a_time`` (a stateful query configured with ``cache.max.bytes.buffering=0``)
        the records go through one at a time, so an aggregation emits every intermediate update, as
        ksqlDB does when its record cache is off; otherwise a batch's updates of a key collapse into
        one (the same table, fewer changes).
        """
        out: list[pa.RecordBatch] = []
        pieces = [batch.slice(i, 1) for i in range(batch.num_rows)] if self.record_at_a_time else [batch]
        for piece in pieces:
            for entry_topic, stage in self.entries:
                if entry_topic == topic:
                    out.extend(run_stages(stage, [piece]))
        return out

    def checkpoint_ids(self) -> list[tuple[str, Operator]]:
        """(id, operator) for every operator: the id names its snapshot in a checkpoint. It is the
        operator's kind and its rank among the operators of that kind (``aggregate-0``), so that a
        query replaced by CREATE OR REPLACE with a WHERE or a projection added or removed finds its
        aggregation's state again (ksqlDB names state stores by their place in the query, not by
        position among every step)."""
        seen: dict[str, int] = {}
        ids = []
        for operator in self.operators:
            rank = seen.get(operator.kind, 0)
            seen[operator.kind] = rank + 1
            ids.append((f"{operator.kind}-{rank}", operator))
        return ids

    def legacy_checkpoint_ids(self) -> list[str]:
        """The ids checkpoints written before :meth:`checkpoint_ids` changed used (``{position}-{kind}``),
        in the same order, to restore such a checkpoint."""
        return [f"{index}-{operator.kind}" for index, operator in enumerate(self.operators)]

    def find(self, kind: type[Operator]) -> Operator | None:
        """The first operator of class ``kind`` (a push query's LIMIT)."""
        return next((op for op in self.operators if isinstance(op, kind)), None)

    def __iter__(self) -> Iterator[Operator]:
        return iter(self.operators)

    def __len__(self) -> int:
        return len(self.operators)


def run_stages(stage: Stage | None, batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """Push ``batches`` through ``stage`` and everything downstream of it; returns the output."""
    while stage is not None and batches:
        produced: list[pa.RecordBatch] = []
        for item in batches:
            produced.extend(stage.operator.process(item))
        batches = produced
        stage = stage.downstream
    return batches if stage is None else []
