"""Table-table join on a foreign key (INNER, LEFT): each left row joins the right row its key column
(or expression, computed into a column by the planner) points at.

Kafka Streams' foreign-key join, whose output is keyed by the left table's key:

* a left upsert emits the left row joined with the right row of its foreign key; when there is no such
  right row (or the foreign key is NULL) a LEFT join emits the left row with NULLs, and an INNER join
  emits a tombstone if the left key had a row before (otherwise nothing);
* a left delete emits a tombstone (a delete of a key without a row changes nothing);
* a right change emits, for every left row currently pointing at that key (in left-key order), the left
  row joined with the new right row; a right delete gives tombstones in an INNER join and left rows with
  NULLs in a LEFT join.

Rows are stamped with the triggering record's time and carry its headers. The left rows pointing at
each right key are found from the right slot each left key points at (a numpy array, rebuilt from the
left table on restore).

Example:
    >>> import pyarrow as pa
    >>> left = JoinSide(("ID",), (("FK", "FK"),), pa.schema([("ID", pa.int64()), ("FK", pa.int64())]))
    >>> right = JoinSide(("RID",), (("NAME", "NAME"),), pa.schema([("RID", pa.int64()), ("NAME", pa.string())]))
    >>> join = ForeignKeyJoinOperator(left, right, ("FK",), ("ID",), JoinType.LEFT)
    >>> out = join.left_input.process(pa.record_batch({"ID": [1, 2], "FK": [10, 10], "ROWTIME": pa.array([0, 1], pa.int64())}))
    >>> [(r["ID"], r["NAME"]) for r in out[0].to_pylist()]
    [(1, None), (2, None)]
    >>> out = join.right_input.process(pa.record_batch({"RID": [10], "NAME": ["x"], "ROWTIME": pa.array([5], pa.int64())}))
    >>> [(r["ID"], r["NAME"], r["ROWTIME"]) for r in out[0].to_pylist()]
    [(1, 'x', 5), (2, 'x', 5)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.operators.base import Operator
from headwater.engine.operators.join_output import JoinSide, JoinType, event_columns, join_batch, nulls_for
from headwater.engine.operators.join_sequence import Piece
from headwater.engine.operators.join_step import (
    SideStep,
    StepChanges,
    in_step_order,
    latest_before,
    pairs_by_target,
    take_rows,
)
from headwater.engine.operators.table_source import apply_changes, keyed_rows, table_changes
from headwater.engine.schema import ROWTIME
from headwater.engine.state.ipc import pack, unpack
from headwater.engine.state.row_store import RowStore, last_per_slot

__all__ = ["ForeignKeyJoinOperator"]

_FOREIGN_SLOT = "__foreign_slot"


class _Port(Operator):
    kind = "join_input"

    def __init__(self, join: ForeignKeyJoinOperator, left: bool) -> None:
        self.join = join
        self.left = left

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        return self.join.process_left(batch) if self.left else self.join.process_right(batch)


class ForeignKeyJoinOperator(Operator):
    """A foreign-key join of two tables (see the module docstring).

    Args:
        left: the left table (its key columns are the output key).
        right: the right table (its key columns are what the foreign key refers to).
        foreign_key: the left input's columns holding the foreign key (types as the right key's).
        key_names: output names of the left key columns.
        join_type: :attr:`JoinType.INNER` or :attr:`JoinType.LEFT`.
    """

    kind = "foreign_key_join"

    def __init__(
        self, left: JoinSide, right: JoinSide, foreign_key: Sequence[str], key_names: Sequence[str], join_type: str
    ) -> None:
        if join_type not in (JoinType.INNER, JoinType.LEFT):
            raise ValueError(f"a foreign-key join is INNER or LEFT, not {join_type}")
        self.left, self.right = left, right
        self.foreign_key = list(foreign_key)
        self.key_names = list(key_names)
        self.join_type = join_type
        self.left_rows = RowStore(left.key_fields, self._left_schema())
        self.right_rows = RowStore(right.key_fields, right.value_schema)
        self.foreign_of = np.zeros(0, dtype=np.int64)  # per left slot: the right slot it points at, or -1
        self.left_input: Operator = _Port(self, True)
        self.right_input: Operator = _Port(self, False)

    def _left_schema(self) -> pa.Schema:
        return self.left.value_schema.append(pa.field(_FOREIGN_SLOT, pa.int64()))

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        raise TypeError("a join has two inputs: feed left_input and right_input")

    # -- a step of both sides ----------------------------------------------------------------------------
    def process_sequence(self, pieces: Sequence[Piece]) -> list[pa.RecordBatch]:
        """The output of ``pieces`` (both sides' changes, in the order they are consumed) processed one
        after another, computed for the whole step at once (:mod:`~headwater.engine.operators.join_step`).

        A left change reads the right row of its foreign key as of its position (the right side's latest
        change of that key before it in the step, else the stored row). A right change reaches every left
        key whose foreign key, as of its position, is the right key: the candidates are the left keys
        stored pointing at it and the step's left changes pointing at it; each candidate's foreign key as
        of the right change is its latest left change before it (else the stored one), which also gives
        the left row it joins. Exact for any interleaving, a key changing its foreign key several times
        in the step included."""
        step = StepChanges.of(pieces)
        if step is None:  # a side's pieces differ in schema: one piece at a time
            return [out for is_left, batch in pieces for out in self._one_piece(is_left, batch)]
        left = SideStep.resolve(step, True, self.left, self.left_rows)
        right = SideStep.resolve(step, False, self.right, self.right_rows)
        foreign = None if left is None else self._foreign_slots(left.changes.batch, left.deleted)
        parts = []
        if left is not None and foreign is not None:
            parts.append(self._left_step_rows(left, foreign, right))
        if right is not None:
            parts.append(self._right_step_rows(right, left, foreign))
        if left is not None and foreign is not None:
            self._subscribe(left.slots, foreign)
            stored = left.values.append_column(_FOREIGN_SLOT, pa.array(foreign, pa.int64()))
            apply_changes(self.left_rows, left.slots, stored, left.deleted)
        if right is not None:
            apply_changes(self.right_rows, right.slots, right.values, right.deleted)
        return in_step_order([part for part in parts if part is not None])

    def _one_piece(self, is_left: bool, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        return self.process_left(batch) if is_left else self.process_right(batch)

    def _left_step_rows(
        self, left: SideStep, foreign: np.ndarray, right: SideStep | None
    ) -> tuple[np.ndarray, pa.RecordBatch] | None:
        """The output of a step's left changes, each joined with its foreign key's right row as of its
        position: (each output row's change position, the rows). Nothing is applied."""
        deleted, present = left.deleted, left.changes.present
        if right is None:
            seen = np.full(len(foreign), -1, dtype=np.int64)
        else:
            seen = latest_before(right.slots, right.positions, foreign, left.positions)
        in_step = seen >= 0
        matched = self.right_rows.present(foreign)
        if right is not None and in_step.any():
            matched[in_step] = ~right.deleted[seen[in_step]]
        joined = ~deleted & matched
        emit_row = ~deleted if self.join_type == JoinType.LEFT else joined
        tombstone = (deleted & present) | (~deleted & ~emit_row & present)
        rows = np.flatnonzero(emit_row | tombstone)
        if len(rows) == 0:
            return None
        from_step, valid = in_step[rows], joined[rows]
        right_values = self.right_rows.rows(np.where(valid & ~from_step, foreign[rows], -1))
        if right is not None and (from_step & valid).any():
            right_values = take_rows(right_values, right.values, from_step, seen[rows], valid)
        batch = left.changes.batch
        take = pa.array(rows, pa.int64())
        partition, offset, headers = event_columns(batch, rows)
        keys = [batch.column(name).take(take) for name in self.left.key_columns]
        output = join_batch(
            self.key_names, keys, left.values.take(take), self.left, right_values, self.right,
            left.rowtime[rows], partition, offset, headers, tombstone[rows],
        )
        return left.positions[rows], output

    def _right_step_rows(
        self, right: SideStep, left: SideStep | None, foreign: np.ndarray | None
    ) -> tuple[np.ndarray, pa.RecordBatch] | None:
        """The output of a step's right changes, each joined with the left rows pointing at its key as of
        its position, in left-key order: (each output row's change position, the rows)."""
        effective = np.flatnonzero(right.changes.effective)
        targets = right.slots[effective]
        if len(targets) == 0:
            return None
        stored_foreign = self._foreign_of(np.arange(self.left_rows.index.size, dtype=np.int64))
        stored = np.flatnonzero(np.isin(stored_foreign, targets))
        candidates, pointing = stored, stored_foreign[stored]
        if left is not None and foreign is not None:
            moved = np.flatnonzero(np.isin(foreign, targets))  # -1 (deletes, NULL foreign keys) is no target
            if len(moved):
                width = int(max(foreign.max(), stored_foreign.max(initial=-1))) + 2
                pairs = np.unique(np.concatenate([stored * width + pointing, left.slots[moved] * width + foreign[moved]]))
                candidates, pointing = pairs // width, pairs % width
        change_of_pair, entry = pairs_by_target(pointing, targets)
        lefts, changes = candidates[entry], effective[change_of_pair]
        seen = np.full(len(lefts), -1, dtype=np.int64)
        if left is not None and foreign is not None and len(lefts):
            seen = latest_before(left.slots, left.positions, lefts, right.positions[changes])
            in_step = seen >= 0
            now = self.foreign_of[lefts]
            now[in_step] = foreign[seen[in_step]]
            still = now == right.slots[changes]
            lefts, changes, seen = lefts[still], changes[still], seen[still]
        if len(lefts) == 0:
            return None
        order = np.lexsort((self._key_rank(lefts), changes))  # per right change, left keys in key order
        lefts, changes, seen = lefts[order], changes[order], seen[order]
        from_step = seen >= 0
        left_values = self.left_rows.rows(np.where(from_step, -1, lefts)).drop_columns([_FOREIGN_SLOT])
        if left is not None and from_step.any():
            left_values = take_rows(left_values, left.values, from_step, seen, np.ones(len(lefts), dtype=bool))
        removed = right.deleted[changes]
        right_values = right.values.take(pa.array(changes, pa.int64(), mask=removed if removed.any() else None))
        tombstone = removed if self.join_type == JoinType.INNER else np.zeros(len(changes), dtype=bool)
        partition, offset, headers = event_columns(right.changes.batch, changes)
        output = join_batch(
            self.key_names, self.left_rows.index.keys(lefts), left_values, self.left, right_values, self.right,
            right.rowtime[changes], partition, offset, headers, tombstone,
        )
        return right.positions[changes], output

    def _key_rank(self, slots: np.ndarray) -> np.ndarray:
        """Each left slot's rank in the order of its key's values (Kafka scans subscriptions in key
        order); equal slots, equal ranks."""
        distinct, inverse = np.unique(slots, return_inverse=True)
        keys = self.left_rows.index.keys(distinct)
        table = pa.table({f"k{i}": k for i, k in enumerate(keys)})
        order = np.asarray(
            pc.sort_indices(table, sort_keys=[(f"k{i}", "ascending") for i in range(len(keys))]), dtype=np.int64
        )
        rank = np.empty(len(distinct), dtype=np.int64)
        rank[order] = np.arange(len(distinct), dtype=np.int64)
        return rank[np.asarray(inverse).reshape(-1)]

    def _foreign_slots(self, batch: pa.RecordBatch, deleted: np.ndarray) -> np.ndarray:
        """The right slot each left row's foreign key points at (-1 for a delete or a NULL foreign key)."""
        foreign = [batch.column(name) for name in self.foreign_key]
        has_foreign = ~deleted
        for column in foreign:
            if column.null_count:
                has_foreign &= np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        foreign_slots = np.full(batch.num_rows, -1, dtype=np.int64)
        if has_foreign.all():
            foreign_slots[:] = self.right_rows.index.slots_for(foreign)
        elif has_foreign.any():
            mask = pa.array(has_foreign)
            foreign_slots[has_foreign] = self.right_rows.index.slots_for([c.filter(mask) for c in foreign])
        return foreign_slots

    # -- left changes -------------------------------------------------------------------------------------
    def process_left(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        out, _ = self._left_rows(batch)
        return [] if out is None else [out]

    def _left_rows(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch | None, np.ndarray]:
        """The output of a batch of left changes and the input row of each output row."""
        none = np.zeros(0, dtype=np.int64)
        kept = keyed_rows(batch, self.left.key_columns)
        changes = table_changes(batch, self.left.key_columns, self.left_rows)
        if changes is None:
            return None, none
        batch, slots, deleted = changes.batch, changes.slots, changes.deleted
        foreign_slots = self._foreign_slots(batch, deleted)
        matched = self.right_rows.present(foreign_slots)
        joined = ~deleted & matched
        if self.join_type == JoinType.LEFT:
            emit_row = ~deleted
        else:
            emit_row = joined
        tombstone = (deleted & changes.present) | (~deleted & ~emit_row & changes.present)
        emit = emit_row | tombstone
        out_rows = np.flatnonzero(emit)
        values = self.left.values(batch)
        self._subscribe(slots, foreign_slots)
        stored = values.append_column(_FOREIGN_SLOT, pa.array(foreign_slots, pa.int64()))
        apply_changes(self.left_rows, slots, stored, deleted)
        if len(out_rows) == 0:
            return None, none
        take = pa.array(out_rows, pa.int64())
        right_values = self.right_rows.rows(np.where(joined[out_rows], foreign_slots[out_rows], -1))
        rowtime = np.asarray(batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)[out_rows]
        partition, offset, headers = event_columns(batch, out_rows)
        keys = [batch.column(name).take(take) for name in self.left.key_columns]
        output = join_batch(
            self.key_names, keys, values.take(take), self.left, right_values, self.right,
            rowtime, partition, offset, headers, tombstone[out_rows],
        )
        return output, (out_rows if kept is None else kept[out_rows])

    def _foreign_of(self, slots: np.ndarray) -> np.ndarray:
        """The right slot each left slot currently points at (-1: no row, or a NULL foreign key)."""
        size = self.left_rows.index.size
        if len(self.foreign_of) < size:
            self.foreign_of = np.concatenate([self.foreign_of, np.full(size - len(self.foreign_of), -1, np.int64)])
        return self.foreign_of[slots]

    def _subscribe(self, slots: np.ndarray, foreign_slots: np.ndarray) -> None:
        """Point each changed left key at its last change's foreign key (-1 for a delete or a NULL one):
        the subscriptions a right change looks up."""
        self._foreign_of(slots)
        last = last_per_slot(slots)
        self.foreign_of[slots[last]] = foreign_slots[last]

    def _subscribers(self, right_slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each right slot in turn, the left slots pointing at it in left-key order (Kafka scans
        subscriptions in key order): (index into ``right_slots`` of each pair, left slot)."""
        none = np.zeros(0, dtype=np.int64)
        pointing = np.flatnonzero(np.isin(self._foreign_of(np.arange(self.left_rows.index.size)), right_slots))
        if len(pointing) == 0:
            return none, none
        if len(pointing) > 1:
            keys = self.left_rows.index.keys(pointing)
            table = pa.table({f"k{i}": k for i, k in enumerate(keys)}).append_column("__slot", pa.array(pointing))
            table = table.sort_by([(f"k{i}", "ascending") for i in range(len(keys))])
            pointing = np.asarray(table.column("__slot").to_numpy(), dtype=np.int64)
        targets = self.foreign_of[pointing]
        by_target = np.argsort(targets, kind="stable")  # grouped by right slot, key order within
        pointing, targets = pointing[by_target], targets[by_target]
        low = np.searchsorted(targets, right_slots, side="left")
        counts = np.searchsorted(targets, right_slots, side="right") - low
        total = int(counts.sum())
        pairs = np.repeat(np.arange(len(right_slots), dtype=np.int64), counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        return pairs, pointing[np.repeat(low, counts) + within]

    # -- right changes ------------------------------------------------------------------------------------
    def process_right(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        out, _ = self._right_rows(batch)
        return [] if out is None else [out]

    def _right_rows(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch | None, np.ndarray]:
        """The output of a batch of right changes and the input row of each output row."""
        none = np.zeros(0, dtype=np.int64)
        kept = keyed_rows(batch, self.right.key_columns)
        changes = table_changes(batch, self.right.key_columns, self.right_rows)
        if changes is None:
            return None, none
        batch, slots, deleted = changes.batch, changes.slots, changes.deleted
        values = self.right.values(batch)
        effective = np.flatnonzero(changes.effective)
        pairs, lefts = self._subscribers(slots[effective])
        apply_changes(self.right_rows, slots, values, deleted)
        if len(lefts) == 0:
            return None, none
        rows = effective[pairs]
        removed = deleted[rows]
        tombstone = removed if self.join_type == JoinType.INNER else np.zeros(len(rows), dtype=bool)
        right_values = values.take(pa.array(rows, pa.int64()))
        if removed.any():
            nulls = nulls_for(right_values.schema, len(rows))
            mask = pa.array(removed)
            right_values = pa.table(
                [pc.if_else(mask, nulls.column(i), right_values.column(i)) for i in range(right_values.num_columns)],
                schema=right_values.schema,
            )
        left_values = self.left_rows.rows(lefts).drop_columns([_FOREIGN_SLOT])
        rowtime = np.asarray(batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)[rows]
        partition, offset, headers = event_columns(batch, rows)
        keys = self.left_rows.index.keys(lefts)
        output = join_batch(
            self.key_names, keys, left_values, self.left, right_values, self.right,
            rowtime, partition, offset, headers, tombstone,
        )
        return output, (rows if kept is None else kept[rows])

    # -- state --------------------------------------------------------------------------------------------
    def snapshot(self) -> bytes | None:
        left_keys, left_rows = self.left_rows.to_arrow()
        right_keys, right_rows = self.right_rows.to_arrow()
        return pack({"left_keys": left_keys, "left": left_rows, "right_keys": right_keys, "right": right_rows})

    def restore(self, state: bytes) -> None:
        sections = unpack(state)
        self.left_rows = RowStore.from_arrow(sections["left_keys"], sections["left"], self._left_schema())
        self.right_rows = RowStore.from_arrow(sections["right_keys"], sections["right"], self.right.value_schema)
        self.foreign_of = np.full(self.left_rows.index.size, -1, dtype=np.int64)
        live = self.left_rows.live_slots()
        foreign = self.left_rows.rows(live).column(_FOREIGN_SLOT).fill_null(-1)
        self.foreign_of[live] = np.asarray(foreign.to_numpy(zero_copy_only=False), dtype=np.int64)
