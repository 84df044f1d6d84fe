"""Materialized tables for pull queries: the latest row of each key of a table, kept up to date.

A pull query reads a table's current state. The state of a table a persistent query writes (a CTAS) or
that is declared as a source (CREATE SOURCE TABLE) is its changelog topic folded by key: each record
upserts its key's row, a tombstone deletes it. A :class:`TableMaterialization` holds that fold in a
:class:`~headwater.engine.state.row_store.RowStore` (keyed by the table's key columns, and for a windowed
table by its window bounds too) and remembers how far it has read each partition, so every pull query
catches up with only the records appended since the previous one, vectorized, and then answers key
lookups from the store's key index (a dictionary probe per distinct key) or scans the live rows.

The engine keeps one materialization per queryable table (``Engine.materialization``) and drops it when
the table is dropped or replaced.

Example::

    view = TableMaterialization(source, scan_operator)
    view.catch_up(log)
    batch = view.lookup([pa.array(["10"])])     # rows of key '10', as a row batch
    batch = view.scan()                          # every live row
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.catalog import DataSource
from headwater.engine.operators.base import HEADERS_ARROW_TYPE, HEADERS_COLUMN, NULL_VALUE_COLUMN, Operator
from headwater.engine.operators.source_scan import PARTITION_COLUMN
from headwater.engine.operators.table_source import apply_changes, table_changes
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME, WINDOW_COLUMNS
from headwater.engine.state.row_store import RowStore
from headwater.engine.types import to_arrow

__all__ = ["TableMaterialization"]

_READ_BATCH = 50_000


class TableMaterialization:
    """The latest row per key of one table (see the module docstring).

    Args:
        source: the table.
        scan: the source's scan operator (stored records -> row batches).
    """

    def __init__(self, source: DataSource, scan: Operator) -> None:
        self.source = source
        self.scan = scan
        self.key_columns = [c.name for c in source.schema.key_columns]
        if source.window is not None:
            self.key_columns += list(WINDOW_COLUMNS)
        key_types = {c.name: to_arrow(c.type) for c in source.schema.key_columns}
        key_types.update({name: pa.int64() for name in WINDOW_COLUMNS})
        key_fields = [pa.field(name, key_types[name]) for name in self.key_columns]
        values = [pa.field(c.name, to_arrow(c.type)) for c in source.schema if not c.is_key and not c.is_header]
        values += [pa.field(ROWTIME, pa.int64()), pa.field(ROWPARTITION, pa.int32()), pa.field(ROWOFFSET, pa.int64())]
        self.value_schema = pa.schema(values)
        self.store = RowStore(key_fields, self.value_schema)
        self.positions: dict[int, int] = {}
        self._lock = threading.Lock()

    def catch_up(self, log: Any) -> None:
        """Fold every record appended to the table's topic since the last call into the store."""
        with self._lock:
            if not log.has_topic(self.source.topic):
                return
            topic = log.topic(self.source.topic)
            ends = topic.end_offsets()
            for partition in range(len(ends)):
                position = self.positions.get(partition, int(topic.partition(partition).start_offset))
                end = int(ends[partition])
                while position < end:
                    result = topic.partition(partition).read(position, max_records=_READ_BATCH)
                    for batch in result.batches:
                        if batch.num_rows:
                            self._apply(batch, partition)
                    if int(result.next_offset) <= position:
                        break
                    position = int(result.next_offset)
                self.positions[partition] = position

    def _apply(self, stored: pa.RecordBatch, partition: int) -> None:
        stored = stored.append_column(
            PARTITION_COLUMN, pa.repeat(pa.scalar(partition, pa.int32()), stored.num_rows)
        )
        for rows in self.scan.process(stored):
            changes = table_changes(rows, self.key_columns, self.store)
            if changes is None:
                continue
            values = pa.Table.from_batches([changes.batch]).select(self.value_schema.names)
            apply_changes(self.store, changes.slots, values.cast(self.value_schema), changes.deleted)

    def lookup(self, keys: Sequence[pa.Array]) -> pa.RecordBatch:
        """The live rows whose key columns (the table's key, not its window) equal one of ``keys``'
        rows; for a windowed table every window of those keys."""
        with self._lock:
            live = self.store.live_slots()
            if not self.source.window:
                slots = self.store.index.slots_for(list(keys), insert=False)
                slots = np.unique(slots[self.store.present(slots)])
                return self._batch(slots)
            stored_keys = self.store.index.keys(live)
            wanted = pa.table({f"k{i}": k for i, k in enumerate(keys)})
            have = pa.table({f"k{i}": stored_keys[i] for i in range(len(keys))})
            have = have.append_column("__slot", pa.array(live, pa.int64()))
            joined = have.join(wanted, keys=[f"k{i}" for i in range(len(keys))], join_type="inner")
            slots = np.unique(np.asarray(joined.column("__slot").to_numpy(), dtype=np.int64))
            return self._batch(slots)

    def scan_all(self) -> pa.RecordBatch:
        """Every live row."""
        with self._lock:
            return self._batch(self.store.live_slots())

    def _batch(self, slots: np.ndarray) -> pa.RecordBatch:
        """Rows of ``slots`` as a row batch: key columns, value columns, window bounds, pseudo-columns."""
        keys = self.store.index.keys(slots)
        values = self.store.rows(slots)
        arrays: list[pa.Array] = []
        names: list[str] = []
        for name, column in zip(self.key_columns, keys):
            arrays.append(column)
            names.append(name)
        for name in self.value_schema.names:
            column = values.column(name)
            arrays.append(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
            names.append(name)
        count = len(slots)
        arrays += [pa.nulls(count, HEADERS_ARROW_TYPE), pa.array(np.zeros(count, dtype=bool))]
        names += [HEADERS_COLUMN, NULL_VALUE_COLUMN]
        return pa.RecordBatch.from_arrays(arrays, names=names)
