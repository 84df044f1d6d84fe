"""WHERE on a table changelog: rows leaving the filter become tombstones, rows never in it stay silent.

A filter over a stream drops rows (:mod:`headwater.engine.operators.filter`). Over a table, ksqlDB's
``KTable.filter`` (with old values available) must also *remove* a key whose new row fails the
predicate if its previous row passed: that change is a tombstone. A key whose previous row did not pass
(or had none) produces nothing, and a delete is forwarded only for a key whose row had passed. The
operator remembers which keys currently pass.

Example:
    >>> import pyarrow as pa, pyarrow.compute as pc
    >>> class Positive:
    ...     def evaluate(self, batch): return pc.greater(batch.column("V"), 0)
    >>> op = TableFilterOperator(Positive(), ["K"])
    >>> def change(v): return pa.record_batch({"K": ["a"], "V": pa.array([v], pa.int64())})
    >>> op.process(change(-1)), len(op.process(change(1))), op.process(change(-2))[0].column("__null_value").to_pylist()
    ([], 1, [True])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.aggregates.grouping import Grouping
from headwater.engine.operators.base import Evaluator, Operator, as_array
from headwater.engine.operators.table_source import EVENT_COLUMNS
from headwater.engine.state.changelog import TOMBSTONE_COLUMN, tombstones
from headwater.engine.state.integer_key_index import IntegerKeyIndex
from headwater.engine.state.ipc import pack, unpack
from headwater.engine.state.key_index import KeyIndex
from headwater.engine.state.slot_column import SlotColumn

__all__ = ["TableFilterOperator"]


class TableFilterOperator(Operator):
    """A table changelog's WHERE (see the module docstring).

    Args:
        predicate: the compiled WHERE expression.
        key_columns: the table's key columns.
        predicate_sql: the WHERE clause's text. A checkpoint taken under another predicate (the query
            was replaced by CREATE OR REPLACE with a new WHERE) is not restored: which keys pass is
            the old predicate's answer. ksqlDB decides a key's delete by the new predicate applied to
            the key's previous row; without those rows here, no key counts as passing, which is the
            same answer when the new predicate refuses the previous rows.
    """

    kind = "table_filter"

    def __init__(self, predicate: Evaluator, key_columns: Sequence[str], *, predicate_sql: str = "") -> None:
        self.predicate = predicate
        self.predicate_sql = predicate_sql
        self.key_columns = list(key_columns)
        self.index: KeyIndex | IntegerKeyIndex | None = None
        self.passing = SlotColumn(pa.bool_())

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0:
            return []
        keys = [batch.column(name) for name in self.key_columns]
        if self.index is None:
            fields = [batch.schema.field(name) for name in self.key_columns]
            self.index = IntegerKeyIndex(fields) if IntegerKeyIndex.supports(fields) else KeyIndex(fields)
        found = self.index.lookup(keys)
        slots = found.row_slots
        self.passing.resize(self.index.size)
        deleted = tombstones(batch)
        verdict = as_array(self.predicate.evaluate(batch), batch.num_rows)
        passes = np.asarray(pc.fill_null(verdict, False).to_numpy(zero_copy_only=False), dtype=bool) & ~deleted
        # whether each row's key passed before it: the previous row of the key in this batch, or the state
        grouping = Grouping.from_batch(found.inverse, found.slots)
        before = self.passing.data[slots] & self.passing.valid[slots]
        repeated = np.flatnonzero(grouping.group_of_sorted[1:] == grouping.group_of_sorted[:-1]) + 1
        before[grouping.order[repeated]] = passes[grouping.order[repeated - 1]]
        last = grouping.order[grouping.starts + grouping.counts - 1]
        self.passing.scatter_numpy(grouping.group_slots, passes[last], True)
        emit = passes | before
        if not emit.any():
            return []
        removed = ~passes & before
        out = batch
        if not emit.all():  # keep the emitted rows first: the value columns are nulled on those alone
            rows = pa.array(np.flatnonzero(emit), pa.int64())
            out = batch.take(rows)
            deleted, removed = deleted[emit], removed[emit]
        if removed.any():
            mask = pa.array(removed)
            arrays = []
            names = list(out.schema.names)
            for name, column in zip(names, out.columns):
                if name not in EVENT_COLUMNS and name not in self.key_columns:
                    column = pc.if_else(mask, pa.nulls(len(column), column.type), column)
                arrays.append(column)
            if TOMBSTONE_COLUMN in names:
                arrays[names.index(TOMBSTONE_COLUMN)] = pa.array(deleted | removed)
            else:
                arrays.append(pa.array(removed))
                names.append(TOMBSTONE_COLUMN)
            out = pa.RecordBatch.from_arrays(arrays, names=names)
        return [out]

    def snapshot(self) -> bytes | None:
        if self.index is None:
            return pack({})
        passing = pa.table({"passing": self.passing.to_arrow()})
        passing = passing.replace_schema_metadata({"predicate": self.predicate_sql})
        return pack({"keys": self.index.to_arrow(), "passing": passing})

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        metadata = (sections["passing"].schema.metadata or {}) if sections else {}
        written_under = metadata.get(b"predicate")
        if written_under is not None and written_under.decode() != self.predicate_sql:
            sections = {}  # another WHERE's verdicts
        if not sections:
            self.index = None
            self.passing = SlotColumn(pa.bool_())
            return
        keys = sections["keys"]
        fields = [field for field in keys.schema if field.name != "__live"]
        self.index = IntegerKeyIndex.from_arrow(keys) if IntegerKeyIndex.supports(fields) else KeyIndex.from_arrow(keys)
        self.passing = SlotColumn.from_arrow(sections["passing"].column("passing"))
