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
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.operators.base import Operator
from headwater.engine.operators.join_output import (
    JoinSide,
    JoinType,
    event_columns,
    event_table,
    join_batch,
    nulls_for,
)
from headwater.engine.operators.join_sequence import Piece
from headwater.engine.operators.join_step import (
    LatestChange,
    SideStep,
    StepChanges,
    gather,
    in_merged_order,
    latest_before,
    pair_blocks,
)
from headwater.engine.operators.table_source import apply_changes, keyed_rows, table_changes
from headwater.engine.schema import ROWTIME
from headwater.engine.state.ipc import pack, unpack
from headwater.engine.state.row_store import RowStore, last_per_slot

__all__ = ["ForeignKeyJoinOperator"]

_FOREIGN_SLOT = "__foreign_slot"


@dataclass(frozen=True)
class _Plan:
    """Where the output rows of one side's changes in a step come from, one entry per output row.

    Attributes:
        position: the merged position of the change behind the row.
        from_left: whether that change is a left one (its batch gives the row's ROWTIME, partition,
            offset and headers; else the right change's batch does).
        change: the change's row in its side's batch.
        tombstone: whether the row is a tombstone.
        left_from_step: whether the left values come from a left change of the step (else the store).
        left_row: the row of the step's left values, or of the left store's table.
        right_from_step / right_row: the same for the right values.
        right_valid: whether the row has right values (else NULLs).
        key_row: the left change's row for a left change, else the left key's slot.
    """

    position: np.ndarray
    from_left: np.ndarray
    change: np.ndarray
    tombstone: np.ndarray
    left_from_step: np.ndarray
    left_row: np.ndarray
    right_from_step: np.ndarray
    right_row: np.ndarray
    right_valid: np.ndarray
    key_row: np.ndarray


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
        foreign = np.zeros(0, dtype=np.int64) if left is None else self._foreign_slots(left.changes.batch, left.deleted)
        plans = []
        if left is not None:
            plans.append(self._left_plan(left, foreign, right))
        if right is not None:
            plans.append(self._right_plan(right, left, foreign))
        output = self._assemble([plan for plan in plans if plan is not None], left, right)
        if left is not None:
            self._subscribe(left.slots, foreign)
            stored = left.values.append_column(_FOREIGN_SLOT, pa.array(foreign, pa.int64()))
            apply_changes(self.left_rows, left.slots, stored, left.deleted)
        if right is not None:
            apply_changes(self.right_rows, right.slots, right.values, right.deleted)
        return [] if output is None else [output]

    def _one_piece(self, is_left: bool, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        return self.process_left(batch) if is_left else self.process_right(batch)

    def _left_plan(self, left: SideStep, foreign: np.ndarray, right: SideStep | None) -> _Plan | None:
        """Where the output rows of a step's left changes come from: each change joined with its foreign
        key's right row as of its position (the right side's latest change of it before, else stored)."""
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
        from_step = in_step[rows]
        right_rows = np.where(from_step, seen[rows], self.right_rows.locations(foreign[rows]))
        return _Plan(
            position=left.positions[rows], from_left=np.ones(len(rows), dtype=bool), change=rows, tombstone=tombstone[rows],
            left_from_step=np.ones(len(rows), dtype=bool), left_row=rows,
            right_from_step=from_step, right_row=right_rows, right_valid=joined[rows], key_row=rows,
        )

    def _right_plan(self, right: SideStep, left: SideStep | None, foreign: np.ndarray) -> _Plan | None:
        """Where the output rows of a step's right changes come from: each change joined with the left rows
        pointing at its key as of its position, in left-key order.

        The candidates are the left keys stored pointing at a changed right key and the step's left
        changes that move a key onto one; each candidate's foreign key as of a right change is its latest
        left change before it (else the stored one), which also gives the left row it joins."""
        effective = np.flatnonzero(right.changes.effective)
        targets = right.slots[effective]
        if len(targets) == 0:
            return None
        size = self.left_rows.index.size
        stored_foreign = self._foreign_of(np.arange(size, dtype=np.int64))
        candidates = np.flatnonzero(np.isin(stored_foreign, targets))
        pointing = stored_foreign[candidates]
        if left is not None:
            previous = left.changes.previous
            before = np.where(previous >= 0, foreign[np.maximum(previous, 0)], stored_foreign[left.slots])
            # a move onto a target the key was stored pointing at is that stored candidate again
            moves = np.flatnonzero((foreign != before) & (foreign != stored_foreign[left.slots]) & np.isin(foreign, targets))
            if len(moves):
                candidates = np.concatenate([candidates, left.slots[moves]])
                pointing = np.concatenate([pointing, foreign[moves]])
                if (np.bincount(left.slots[moves], minlength=size) > 1).any():
                    # a key moved more than once: it may come back to a key it pointed at before
                    width = int(max(pointing.max(), 0)) + 1
                    pairs = np.unique(candidates * width + pointing)
                    candidates, pointing = pairs // width, pairs % width
        by_key = self._key_order(candidates)  # candidates in left-key order: pairs keep it per right change
        candidates, pointing = candidates[by_key], pointing[by_key]
        # each candidate's foreign key as of the right change: its latest left change before it, else the
        # stored one (a key without changes in the step is a stored candidate: it always holds); in blocks
        # of pairs, so that only the pairs kept take full-size memory
        latest = None if left is None else LatestChange(left.slots, left.positions)
        kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for change_of_pair, entry in pair_blocks(pointing, targets):
            lefts, changes = candidates[entry], effective[change_of_pair]
            if latest is None or left is None:
                kept.append((lefts, changes, np.full(len(lefts), -1, dtype=np.int64)))
                continue
            seen = latest.of(lefts, right.positions[changes])
            now = np.where(seen >= 0, foreign[np.maximum(seen, 0)], stored_foreign[lefts])
            keep = now == right.slots[changes]
            kept.append((lefts[keep], changes[keep], seen[keep]) if not keep.all() else (lefts, changes, seen))
        if not kept:
            return None
        lefts, changes, seen = (np.concatenate([part[i] for part in kept]) for i in range(3))
        if len(lefts) == 0:
            return None
        from_step = seen >= 0
        removed = right.deleted[changes]
        tombstone = removed if self.join_type == JoinType.INNER else np.zeros(len(changes), dtype=bool)
        return _Plan(
            position=right.positions[changes], from_left=np.zeros(len(changes), dtype=bool), change=changes, tombstone=tombstone,
            left_from_step=from_step, left_row=np.where(from_step, seen, self.left_rows.locations(lefts)),
            right_from_step=np.ones(len(changes), dtype=bool), right_row=changes, right_valid=~removed,
            key_row=lefts,
        )

    def _key_order(self, slots: np.ndarray) -> np.ndarray:
        """The order of ``slots`` by their keys' values (Kafka scans subscriptions in key order)."""
        if len(slots) < 2:
            return np.arange(len(slots), dtype=np.int64)
        keys = self.left_rows.index.keys(slots)
        table = pa.table({f"k{i}": k for i, k in enumerate(keys)})
        sort_keys = [(f"k{i}", "ascending") for i in range(len(keys))]
        return np.asarray(pc.sort_indices(table, sort_keys=sort_keys), dtype=np.int64)

    def _assemble(self, plans: list[_Plan], left: SideStep | None, right: SideStep | None) -> pa.RecordBatch | None:
        """The step's output: both sides' planned rows in the order of the changes behind them (a right
        change's rows in their left-key order), each column gathered once from the step's batches and the
        stores (one ``take`` per column group, no intermediate batches)."""
        if not plans:
            return None
        destinations = in_merged_order([plan.position for plan in plans])
        total = sum(len(plan.position) for plan in plans)

        def merged(name: str) -> np.ndarray:
            parts = [getattr(plan, name) for plan in plans]
            if len(parts) == 1:
                return parts[0]
            out = np.empty(total, dtype=np.result_type(*parts))
            for part, destination in zip(parts, destinations):
                out[destination] = part
            return out

        from_left, change, tombstone = merged("from_left"), merged("change"), merged("tombstone")
        left_schema, right_schema = self.left.value_schema, self.right.value_schema
        left_step = left.values if left is not None else left_schema.empty_table()
        right_step = right.values if right is not None else right_schema.empty_table()
        left_values = gather(
            [left_step, self.left_rows.table().select(left_schema.names)],
            np.where(merged("left_from_step"), 0, 1), merged("left_row"), ~tombstone,
        )
        right_valid = merged("right_valid") & ~tombstone
        right_values = gather(
            [right_step, self.right_rows.table()], np.where(merged("right_from_step"), 0, 1), merged("right_row"),
            right_valid,
        )
        index_keys = self.left_rows.index.table()
        left_batch = left.changes.batch if left is not None else None
        step_keys = (
            index_keys.schema.empty_table() if left_batch is None
            else pa.table([left_batch.column(name) for name in self.left.key_columns], names=index_keys.schema.names)
        )
        keys = gather([step_keys, index_keys], np.where(from_left, 0, 1), merged("key_row"))
        sides = [side for side in (left, right) if side is not None]
        event_source = np.where(from_left, 0, 1) if len(sides) == 2 else np.zeros(total, dtype=np.int64)
        event = gather([event_table(side.changes.batch) for side in sides], event_source, change)
        first_rows = np.cumsum([0] + [len(side.rowtime) for side in sides[:-1]]).astype(np.int64)
        rowtime = np.concatenate([side.rowtime for side in sides])[first_rows[event_source] + change]
        return join_batch(
            self.key_names, [keys.column(i) for i in range(keys.num_columns)], left_values, self.left,
            right_values, self.right, rowtime, event.column(0).combine_chunks(), event.column(1).combine_chunks(),
            event.column(2).combine_chunks(), tombstone, nulled=True,
        )

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
