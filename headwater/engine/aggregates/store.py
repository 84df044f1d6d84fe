"""The state of a GROUP BY: groups to slots, one accumulator per aggregate call, per-group timestamps.

An :class:`AggregationStore` is what the aggregate operators (plain, windowed, session) keep between
batches:

* an index from the group key (or a session id for sessions) to a slot: an
  :class:`~headwater.engine.state.integer_key_index.IntegerKeyIndex` for keys of one or two integer-like
  columns (ids, window starts), a :class:`~headwater.engine.state.key_index.KeyIndex` for the others;
  time windows use a
  :class:`~headwater.engine.state.window_keys.WindowKeyIndex` (the group key plus the window start),
  which merges each batch's new windows without copying the whole index;
* the :class:`~headwater.engine.aggregates.contract.Accumulator` of every aggregate call;
* per slot, the aggregate's timestamp (the largest ROWTIME applied to it, which is what Kafka Streams
  stamps on an aggregate's output) and whether its last output was a row (so a HAVING that starts
  failing emits one tombstone, and a group that never passed emits nothing).

:meth:`snapshot` / :meth:`restore` write and read all of it as Arrow sections (no pickling), so a
restored store continues exactly where the saved one was.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> from headwater.engine.aggregates import build_aggregates
    >>> from headwater.engine.aggregates.grouping import Grouping
    >>> from headwater.parser import types as t
    >>> count = build_aggregates()["COUNT"].resolve((t.BIGINT,)).create()
    >>> store = AggregationStore([pa.field("K", pa.string())], [count])
    >>> slots = store.slots_for([pa.array(["a", "b", "a"])])
    >>> count.update(Grouping(slots), [pa.array([1, 2, 3])], None)
    >>> count.result(np.array([0, 1])).to_pylist()
    [2, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.contract import Accumulator
from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.state.integer_key_index import IntegerKeyIndex
from headwater.engine.state.ipc import pack, unpack
from headwater.engine.state.key_index import KeyIndex
from headwater.engine.state.slot_column import SlotColumn
from headwater.engine.state.window_keys import WindowKeyIndex

__all__ = ["AggregationStore"]


class AggregationStore:
    """Slots, accumulators and per-slot timestamps of one aggregation (see the module docstring)."""

    def __init__(
        self, key_fields: Sequence[pa.Field], accumulators: Sequence[Accumulator], *, windowed: bool = False
    ) -> None:
        """``windowed``: the last key field is a time window's start (see the module docstring)."""
        self.index: KeyIndex | IntegerKeyIndex | WindowKeyIndex
        if windowed:
            self.index = WindowKeyIndex(key_fields)
        elif IntegerKeyIndex.supports(key_fields):
            self.index = IntegerKeyIndex(key_fields)
        else:
            self.index = KeyIndex(key_fields)
        self.accumulators = list(accumulators)
        self.timestamps = SlotColumn(pa.int64())
        self.emitted = SlotColumn(pa.bool_())

    @property
    def size(self) -> int:
        return self.index.size

    def grow(self) -> None:
        """Give every accumulator and per-slot column room for the slots the index handed out (after
        looking keys up in :attr:`index` directly)."""
        self._resize()

    def _resize(self) -> None:
        size = self.index.size
        if len(self.timestamps) < size:
            for accumulator in self.accumulators:
                accumulator.resize(size)
            self.timestamps.resize(size)
            self.emitted.resize(size)

    def grouping(self, key_columns: Sequence[pa.Array]) -> Grouping:
        """The rows of a batch grouped by their groups' slots (new groups get fresh slots), groups in
        order of first appearance."""
        found = self.index.lookup(key_columns)
        self._resize()
        return Grouping.from_batch(found.inverse, found.slots)

    def slots_for(self, key_columns: Sequence[pa.Array], *, insert: bool = True) -> np.ndarray:
        """The slot of each row's key (new groups get fresh, initialised slots)."""
        slots = self.index.slots_for(key_columns, insert=insert)
        self._resize()
        return slots

    def stamp(self, grouping: Grouping, timestamps: np.ndarray) -> None:
        """Raise each touched group's timestamp to the largest of its rows' ``timestamps``."""
        if grouping.group_count == 0:
            return
        latest = np.maximum.reduceat(timestamps[grouping.order], grouping.starts)
        slots = grouping.group_slots
        had = self.timestamps.valid[slots]
        current = self.timestamps.data[slots]
        self.timestamps.scatter_numpy(slots, np.where(had, np.maximum(current, latest), latest), True)

    def results(self, slots: np.ndarray) -> list[pa.Array]:
        """Every accumulator's result for ``slots``."""
        return [accumulator.result(slots) for accumulator in self.accumulators]

    def remove(self, slots: np.ndarray) -> None:
        """Forget the groups of ``slots`` (expired windows, merged sessions)."""
        if len(slots):
            self.index.remove(slots)

    def maybe_compact(self) -> np.ndarray | None:
        """Renumber slots densely when most are dead; call between batches only (slots change).
        Returns the old slot of each new slot when it compacted, for owners of slot references."""
        if not self.index.should_compact():
            return None
        kept = self.index.compact()
        for accumulator in self.accumulators:
            accumulator.take(kept)
        self.timestamps.take(kept)
        self.emitted.take(kept)
        return kept

    # -- snapshots ----------------------------------------------------------------------------------------
    def sections(self) -> dict[str, pa.Table]:
        """The store as named Arrow tables (for an operator's snapshot)."""
        sections = {
            "keys": self.index.to_arrow(),
            "slots": pa.table({"timestamp": self.timestamps.to_arrow(), "emitted": self.emitted.to_arrow()}),
        }
        for position, accumulator in enumerate(self.accumulators):
            sections[f"aggregate_{position}"] = accumulator.state()
        return sections

    def load_sections(self, sections: dict[str, pa.Table]) -> None:
        """Restore :meth:`sections`."""
        self.index = type(self.index).from_arrow(sections["keys"])
        self.timestamps = SlotColumn.from_arrow(sections["slots"].column("timestamp"))
        self.emitted = SlotColumn.from_arrow(sections["slots"].column("emitted"))
        for position, accumulator in enumerate(self.accumulators):
            accumulator.load(sections[f"aggregate_{position}"])

    def snapshot(self) -> bytes:
        return pack(self.sections())

    def restore(self, data: bytes) -> None:
        self.load_sections(unpack(data))
