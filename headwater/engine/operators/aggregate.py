"""GROUP BY aggregation into a table: a stream or a table changelog in, a table changelog out.

For each batch the operator evaluates the GROUP BY expressions and the aggregate arguments (compiled
expressions, vectorized), maps rows to group slots, lets every accumulator apply the batch per group
(:mod:`headwater.engine.aggregates`), and emits **one row per touched group**, in order of each group's
first row in the batch. With one record per batch that is ksqlDB's one output per input; with larger
batches it is the same changelog with the intermediate updates of a group collapsed.

* Rows whose value is null (``__null_value``) are skipped, as Kafka Streams skips them; rows with a NULL
  in any GROUP BY expression are excluded, as ksqlDB excludes them (an expression that fails for a row
  is NULL there and was reported by the expression compiler).
* Table input arrives as a changelog with retractions (:mod:`headwater.engine.state.changelog`): a
  retraction row's contribution is undone (ksqlDB's ``undo``); an update of a table row is a retraction
  of the old row and an upsert of the new, so a group key change updates the old group first.
* Output rows: the group key columns, one column per aggregate call (the aggregate's result), ROWTIME
  (the largest timestamp applied to the group, as Kafka Streams stamps aggregates), ROWPARTITION and
  ROWOFFSET of the group's last row in the batch, its headers, and ``__null_value``.
* HAVING is evaluated on the output rows: a group that passes emits its row; one that fails emits a
  tombstone if its last output was a row, and nothing otherwise.

Example:
    >>> import pyarrow as pa
    >>> from headwater.engine.aggregates import build_aggregates
    >>> from headwater.parser import types as t
    >>> class Col:
    ...     def __init__(self, name): self.name = name
    ...     def evaluate(self, batch): return batch.column(self.name)
    >>> count = build_aggregates()["COUNT"].resolve((t.BIGINT,))
    >>> op = AggregateOperator([GroupKey("K", Col("K"), t.STRING)], [AggregateCall("N", count, (Col("ROWTIME"),))])
    >>> batch = pa.record_batch({"K": ["a", "b", "a"], "ROWTIME": pa.array([1, 2, 3], pa.int64())})
    >>> out = op.process(batch)[0]
    >>> out.column("K").to_pylist(), out.column("N").to_pylist(), out.column("ROWTIME").to_pylist()
    (['a', 'b'], [2, 1], [3, 2])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.aggregates.contract import Accumulator, ResolvedAggregate
from headwater.engine.aggregates.grouping import Grouping, last_in_group
from headwater.engine.aggregates.store import AggregationStore
from headwater.engine.operators.base import HEADERS_ARROW_TYPE, HEADERS_COLUMN, Evaluator, Operator, as_array
from headwater.engine.schema import ROWOFFSET, ROWPARTITION, ROWTIME
from headwater.engine.state.changelog import TOMBSTONE_COLUMN, retractions, tombstones
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = [
    "AggregateCall",
    "AggregateOperator",
    "GroupKey",
    "GroupedRows",
    "build_accumulators",
    "changelog_batch",
    "evaluate_keys",
    "first_appearance",
]


@dataclass(frozen=True, slots=True)
class GroupKey:
    """One GROUP BY expression: the output column it becomes, its compiled expression and SQL type."""

    name: str
    expression: Evaluator
    type: t.SqlType


@dataclass(frozen=True, slots=True)
class AggregateCall:
    """One aggregate call: the output column, the resolved aggregate, the compiled expressions of its
    column arguments (in ``resolved.column_positions`` order) and the values of its literal arguments (in
    ``resolved.literal_positions`` order)."""

    name: str
    resolved: ResolvedAggregate
    arguments: tuple[Evaluator, ...]
    literals: tuple[Any, ...] = field(default=())


def build_accumulators(calls: Sequence[AggregateCall], config: Mapping[str, Any] | None) -> list[Accumulator]:
    """A fresh accumulator per call."""
    return [call.resolved.create(call.literals, config) for call in calls]


def evaluate_keys(keys: Sequence[GroupKey], batch: pa.RecordBatch) -> tuple[list[pa.Array], np.ndarray]:
    """The GROUP BY columns of ``batch`` (cast to their SQL types) and the mask of rows where none is
    NULL."""
    columns = []
    usable = np.ones(batch.num_rows, dtype=bool)
    for key in keys:
        values = as_array(key.expression.evaluate(batch), batch.num_rows)
        wanted = to_arrow(key.type)
        if values.type != wanted:
            values = values.cast(wanted)
        if values.null_count:
            usable &= np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        columns.append(values)
    return columns, usable


def evaluate_arguments(call: AggregateCall, batch: pa.RecordBatch) -> list[pa.Array]:
    """The column arguments of ``call`` over ``batch``, cast to the resolved parameter types."""
    arrays = []
    for position, expression in zip(call.resolved.column_positions, call.arguments):
        values = as_array(expression.evaluate(batch), batch.num_rows)
        wanted = to_arrow(call.resolved.param_types[position])
        if values.type != wanted:
            values = values.cast(wanted)
        arrays.append(values)
    return arrays


def first_appearance(grouping: Grouping) -> np.ndarray:
    """Group indexes ordered by each group's first row in the batch."""
    firsts = grouping.order[grouping.starts]
    return np.argsort(firsts, kind="stable")


@dataclass
class GroupedRows:
    """What a batch contributes to an aggregation, after keys, nulls and retractions are sorted out."""

    batch: pa.RecordBatch
    keys: list[pa.Array]
    signs: np.ndarray | None


def prepare(batch: pa.RecordBatch, keys: Sequence[GroupKey]) -> GroupedRows | None:
    """Drop null-value rows and rows with a NULL key; read the retraction flags."""
    if batch.num_rows == 0:
        return None
    nulls = tombstones(batch)
    if nulls.any():
        batch = batch.filter(pa.array(~nulls))
        if batch.num_rows == 0:
            return None
    key_columns, usable = evaluate_keys(keys, batch)
    if not usable.all():
        mask = pa.array(usable)
        batch = batch.filter(mask)
        key_columns = [column.filter(mask) for column in key_columns]
        if batch.num_rows == 0:
            return None
    undo = retractions(batch)
    signs = np.where(undo, -1, 1).astype(np.int64) if undo.any() else None
    return GroupedRows(batch, key_columns, signs)


def system_columns(batch: pa.RecordBatch, rows: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """ROWPARTITION, ROWOFFSET and headers of ``rows`` of ``batch`` (defaults when absent), gathered in
    one take."""
    names = batch.schema.names
    present = [name for name in (ROWPARTITION, ROWOFFSET, HEADERS_COLUMN) if name in names]
    taken = batch.select(present).take(pa.array(rows, pa.int64())) if present else None
    partition = taken.column(ROWPARTITION) if taken is not None and ROWPARTITION in present else None
    offset = taken.column(ROWOFFSET) if taken is not None and ROWOFFSET in present else None
    headers = taken.column(HEADERS_COLUMN) if taken is not None and HEADERS_COLUMN in present else None
    if partition is None:
        partition = pa.array(np.zeros(len(rows), np.int32))
    elif partition.type != pa.int32():
        partition = partition.cast(pa.int32())
    if offset is None:
        offset = pa.array(np.zeros(len(rows), np.int64))
    elif offset.type != pa.int64():
        offset = offset.cast(pa.int64())
    return partition, offset, headers if headers is not None else pa.nulls(len(rows), HEADERS_ARROW_TYPE)


def changelog_batch(
    key_names: Sequence[str],
    key_columns: Sequence[pa.Array],
    value_names: Sequence[str],
    value_columns: Sequence[pa.Array],
    rowtime: pa.Array,
    partition: pa.Array,
    offset: pa.Array,
    headers: pa.Array,
    deleted: np.ndarray,
) -> pa.RecordBatch:
    """An output changelog batch; value columns of deleted rows are nulled."""
    arrays: list[pa.Array] = list(key_columns)
    names: list[str] = list(key_names)
    flags = pa.array(deleted, pa.bool_())
    any_deleted = bool(deleted.any())
    for name, values in zip(value_names, value_columns):
        if any_deleted:
            values = pc.if_else(flags, pa.nulls(len(values), values.type), values)
        arrays.append(values)
        names.append(name)
    arrays += [rowtime if rowtime.type == pa.int64() else rowtime.cast(pa.int64()), partition, offset, headers, flags]
    names += [ROWTIME, ROWPARTITION, ROWOFFSET, HEADERS_COLUMN, TOMBSTONE_COLUMN]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def apply_having(
    store: AggregationStore,
    slots: np.ndarray,
    out: pa.RecordBatch,
    having: Evaluator | None,
    value_names: Sequence[str],
) -> pa.RecordBatch | None:
    """Keep passing rows, turn failing rows whose last output was a row into tombstones (their
    ``value_names`` columns nulled), drop the rest; record what each slot's last output was."""
    if having is None:
        store.emitted.scatter_numpy(slots, np.ones(len(slots), dtype=bool), True)
        return out
    verdict = as_array(having.evaluate(out), out.num_rows)
    passed = np.asarray(pc.fill_null(verdict, False).to_numpy(zero_copy_only=False), dtype=bool)
    was_row = store.emitted.data[slots] & store.emitted.valid[slots]
    keep = passed | was_row
    store.emitted.scatter_numpy(slots, passed, True)
    if not keep.any():
        return None
    deleted = ~passed
    if deleted.any():
        mask = pa.array(deleted)
        arrays = []
        for name, column in zip(out.schema.names, out.columns):
            if name == TOMBSTONE_COLUMN:
                column = mask
            elif name in value_names:
                column = pc.if_else(mask, pa.nulls(len(column), column.type), column)
            arrays.append(column)
        out = pa.RecordBatch.from_arrays(arrays, names=out.schema.names)
    return out.filter(pa.array(keep)) if not keep.all() else out


class AggregateOperator(Operator):
    """GROUP BY over a stream or a table changelog (see the module docstring).

    Args:
        keys: the GROUP BY expressions and their output columns.
        calls: the aggregate calls and their output columns.
        having: the HAVING predicate, compiled over the output row (keys and aggregate columns).
        config: the query configuration (aggregate limits such as ``ksql.functions.collect_list.limit``).
    """

    kind = "aggregate"

    def __init__(
        self,
        keys: Sequence[GroupKey],
        calls: Sequence[AggregateCall],
        *,
        having: Evaluator | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        if not keys:
            raise ValueError("an aggregation needs at least one GROUP BY expression")
        self.keys = list(keys)
        self.calls = list(calls)
        self.having = having
        self.config = dict(config or {})
        self.store = AggregationStore(
            [pa.field(key.name, to_arrow(key.type)) for key in self.keys], build_accumulators(self.calls, self.config)
        )

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        rows = prepare(batch, self.keys)
        if rows is None:
            return []
        store = self.store
        grouping = store.grouping(rows.keys)
        for call, accumulator in zip(self.calls, store.accumulators):
            accumulator.update(grouping, evaluate_arguments(call, rows.batch), rows.signs)
        rowtime = np.asarray(rows.batch.column(ROWTIME).to_numpy(zero_copy_only=False), dtype=np.int64)
        store.stamp(grouping, rowtime)
        order = first_appearance(grouping)
        out_slots = grouping.group_slots[order]
        last_rows = last_in_group(grouping)[order]
        out = self._output(out_slots, rows.batch, last_rows)
        result = apply_having(store, out_slots, out, self.having, [call.name for call in self.calls])
        store.maybe_compact()
        return [result] if result is not None and result.num_rows else []

    def _output(self, slots: np.ndarray, batch: pa.RecordBatch, last_rows: np.ndarray) -> pa.RecordBatch:
        store = self.store
        partition, offset, headers = system_columns(batch, last_rows)
        return changelog_batch(
            [key.name for key in self.keys],
            store.index.keys(slots),
            [call.name for call in self.calls],
            store.results(slots),
            store.timestamps.gather(slots),
            partition,
            offset,
            headers,
            np.zeros(len(slots), dtype=bool),
        )

    def snapshot(self) -> bytes | None:
        return self.store.snapshot()

    def restore(self, state: bytes) -> None:
        self.store.restore(state)
