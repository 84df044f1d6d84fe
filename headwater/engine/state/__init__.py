"""Keyed operator state whose snapshots are Arrow data.

* :mod:`.key_index`: keys to dense slots, vectorized per batch (:class:`KeyIndex`).
* :mod:`.slot_column`: one value per slot with vectorized gather/scatter (:class:`SlotColumn`).
* :mod:`.row_store`: the latest row per key (:class:`RowStore`), the materialized table of table sources
  and table joins.
* :mod:`.changelog`: the batch convention for table changelogs (tombstones, retractions).
* :mod:`.ipc`: snapshots as Arrow IPC sections (:func:`pack` / :func:`unpack`).

State larger than memory is out of scope: stores live in memory and are checkpointed whole.
"""

from __future__ import annotations

from headwater.engine.state.changelog import RETRACT_COLUMN, TOMBSTONE_COLUMN, retractions, tombstones
from headwater.engine.state.ipc import pack, scalar, scalars, table_from_ipc, table_to_ipc, unpack
from headwater.engine.state.key_index import BatchKeys, KeyIndex, hashable, unique_rows
from headwater.engine.state.row_store import RowStore, last_per_slot
from headwater.engine.state.slot_column import SlotColumn, numpy_storage

__all__ = [
    "RETRACT_COLUMN",
    "TOMBSTONE_COLUMN",
    "BatchKeys",
    "KeyIndex",
    "RowStore",
    "SlotColumn",
    "hashable",
    "last_per_slot",
    "numpy_storage",
    "pack",
    "retractions",
    "scalar",
    "scalars",
    "table_from_ipc",
    "table_to_ipc",
    "tombstones",
    "unique_rows",
    "unpack",
]
