"""EARLIEST_BY_OFFSET and LATEST_BY_OFFSET (streams only), with their N and ignoreNulls overloads.

``EARLIEST_BY_OFFSET(col [, ignoreNulls])`` keeps the first value a group sees (in processing order,
which is offset order within a partition); ``LATEST_BY_OFFSET`` the last. ``ignoreNulls`` defaults to
true: NULL values are skipped. With ``ignoreNulls`` false a NULL counts as a value, so an earliest NULL
sticks. The ``(col, n [, ignoreNulls])`` overloads return an ARRAY of the earliest / latest ``n`` values
(``n`` must be at least 1). Both ``n`` and ``ignoreNulls`` must be literals. Any column type is
accepted, nested types included.

Each stored value carries a sequence number (the order in which it was processed), which is how session
merges decide what is earliest or latest. ksqlDB's merge of LATEST_BY_OFFSET(col, n) keeps the *first*
``n`` values by sequence (its sort is ascending); that is reproduced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from headwater.engine.aggregates.contract import (
    AggregateFunction,
    AggregateSignature,
    ColumnarAccumulator,
    ResolvedAggregate,
)
from headwater.engine.aggregates.grouping import Grouping, first_in_group, last_in_group
from headwater.engine.aggregates.values import valid_mask
from headwater.engine.functions.registry import Generic, Param
from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = ["EARLIEST_BY_OFFSET", "LATEST_BY_OFFSET"]

_T = Generic("T")


class _Sequenced(ColumnarAccumulator):
    """Shared: a running sequence number so merges can order values by processing time."""

    def __init__(
        self,
        resolved: ResolvedAggregate,
        columns: dict[str, pa.DataType],
        ignore_nulls: bool,
        dense: Sequence[str] = (),
    ) -> None:
        super().__init__(resolved, columns, dense)
        self.ignore_nulls = ignore_nulls
        self.sequence = 0

    def _eligible(self, grouping: Grouping, values: pa.Array, signs: np.ndarray | None) -> tuple[Grouping, np.ndarray]:
        if signs is not None and (signs < 0).any():
            raise ValueError(f"{self.resolved.name} cannot undo a value (it cannot aggregate a table)")
        rows = len(values)
        self.sequence += rows
        keep = valid_mask(values) if self.ignore_nulls else np.ones(rows, dtype=bool)
        return (grouping if keep.all() else grouping.subset(keep)), np.flatnonzero(keep)

    def state(self) -> pa.Table:
        table = super().state()
        return table.replace_schema_metadata({b"headwater.sequence": str(self.sequence).encode()})

    def load(self, table: pa.Table) -> None:
        super().load(table)
        metadata = table.schema.metadata or {}
        self.sequence = int(metadata.get(b"headwater.sequence", b"0"))


class SingleByOffset(_Sequenced):
    """EARLIEST_BY_OFFSET(col [, ignoreNulls]) / LATEST_BY_OFFSET(col [, ignoreNulls])."""

    def __init__(self, resolved: ResolvedAggregate, earliest: bool, ignore_nulls: bool) -> None:
        # SEQ is never NULL (-1: no value yet), so a snapshot keeps "nothing seen" apart from a sequence
        super().__init__(
            resolved, {"SEQ": pa.int64(), "VAL": to_arrow(resolved.return_type)}, ignore_nulls, dense=("SEQ",)
        )
        self.earliest = earliest

    def resize(self, size: int) -> None:
        old = len(self.columns["SEQ"])
        super().resize(size)
        self.columns["SEQ"].data[old:] = -1

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        values = args[0].combine_chunks() if isinstance(args[0], pa.ChunkedArray) else args[0]
        sub, kept_rows = self._eligible(grouping, values, signs)
        if sub.group_count == 0:
            return
        base_sequence = self.sequence - len(values)
        seq = self.columns["SEQ"]
        slots = sub.group_slots
        if self.earliest:
            empty = seq.data[slots] < 0
            slots = slots[empty]
            chosen = kept_rows[first_in_group(sub)[empty]]
        else:
            chosen = kept_rows[last_in_group(sub)]
        if len(slots) == 0:
            return
        seq.scatter_numpy(slots, base_sequence + chosen, True)
        self.columns["VAL"].scatter(slots, values.take(pa.array(chosen, pa.int64())))

    def result(self, slots: np.ndarray) -> pa.Array:
        return self.columns["VAL"].gather(slots)

    def merge(self, target: int, sources: Sequence[int]) -> None:
        seq = self.columns["SEQ"]
        value = self.columns["VAL"]
        candidates = [s for s in sources if seq.data[s] >= 0]
        if self.ignore_nulls and not self.earliest:
            with_values = [s for s in candidates if value.valid[s]]
            candidates = with_values or candidates
        if not candidates:
            seq.data[target] = -1
            value.clear(np.array([target]))
            return
        pick = min(candidates, key=lambda s: seq.data[s]) if self.earliest else max(candidates, key=lambda s: seq.data[s])
        seq.data[target] = seq.data[pick]
        value.scatter_python(np.array([target]), value.gather_python(np.array([pick])))


class NByOffset(_Sequenced):
    """EARLIEST_BY_OFFSET(col, n [, ignoreNulls]) / LATEST_BY_OFFSET(col, n [, ignoreNulls])."""

    def __init__(self, resolved: ResolvedAggregate, earliest: bool, n: int, ignore_nulls: bool) -> None:
        element = resolved.param_types[0]
        entry = pa.struct([pa.field("SEQ", pa.int64()), pa.field("VAL", to_arrow(element))])
        super().__init__(resolved, {"ENTRIES": pa.list_(entry)}, ignore_nulls)
        self.earliest = earliest
        self.n = n

    def update(self, grouping: Grouping, args: Sequence[pa.Array], signs: np.ndarray | None) -> None:
        values = args[0].combine_chunks() if isinstance(args[0], pa.ChunkedArray) else args[0]
        sub, kept_rows = self._eligible(grouping, values, signs)
        if sub.group_count == 0:
            return
        base_sequence = self.sequence - len(values)
        python_values = values.take(pa.array(kept_rows[sub.order], pa.int64())).to_pylist()
        sequences = (base_sequence + kept_rows[sub.order]).tolist()
        column = self.columns["ENTRIES"]
        slots = sub.group_slots
        current = column.gather_python(slots)
        updated = []
        for group, entries in enumerate(current):
            entries = list(entries or [])
            start, count = int(sub.starts[group]), int(sub.counts[group])
            fresh = [{"SEQ": sequences[i], "VAL": python_values[i]} for i in range(start, start + count)]
            if self.earliest:
                entries.extend(fresh[: max(0, self.n - len(entries))])
            else:
                entries = (entries + fresh)[-self.n :]
            updated.append(entries)
        column.scatter_python(slots, updated)

    def result(self, slots: np.ndarray) -> pa.Array:
        entries = self.columns["ENTRIES"].gather_python(slots)
        element = to_arrow(self.resolved.param_types[0])
        return pa.array([[e["VAL"] for e in (row or [])] for row in entries], pa.list_(element))

    def merge(self, target: int, sources: Sequence[int]) -> None:
        column = self.columns["ENTRIES"]
        merged: list[dict[str, Any]] = []
        for entries in column.gather_python(np.asarray(sources, dtype=np.int64)):
            merged.extend(entries or [])
        merged.sort(key=lambda e: e["SEQ"])
        column.scatter_python(np.array([target]), [merged[: self.n]])


def _factory(earliest: bool, with_n: bool) -> Any:
    def factory(resolved: ResolvedAggregate, literals: tuple[Any, ...], config: Mapping[str, Any]) -> Any:
        name = "earliestN" if earliest else "latestN"
        if with_n:
            n = int(literals[1])
            if n <= 0:
                raise PlanError(f"{name} must be 1 or greater")
            ignore = bool(literals[2]) if len(literals) > 2 else True
            return NByOffset(resolved, earliest, n, ignore)
        ignore = bool(literals[1]) if len(literals) > 1 else True
        return SingleByOffset(resolved, earliest, ignore)

    return factory


def _function(name: str, earliest: bool) -> AggregateFunction:
    which = "earliest" if earliest else "latest"
    single = lambda types: t.Struct((("SEQ", t.BIGINT), ("VAL", types[0])))  # noqa: E731
    many = lambda types: t.Array(t.Struct((("SEQ", t.BIGINT), ("VAL", types[0]))))  # noqa: E731
    return AggregateFunction(
        name=name,
        description=f"This function returns the {'oldest' if earliest else 'latest'} value(s) for the "
        "column, computed by offset.",
        supports_undo=False,
        signatures=(
            AggregateSignature(
                params=(Param("val", _T),),
                returns=_T,
                factory=_factory(earliest, False),
                intermediate=single,
                description=f"return the {which} value of a column",
            ),
            AggregateSignature(
                params=(Param("val", _T), Param("ignoreNulls", t.BOOLEAN)),
                returns=_T,
                factory=_factory(earliest, False),
                intermediate=single,
                literals=(1,),
                description=f"return the {which} value of a column",
            ),
            AggregateSignature(
                params=(Param("val", _T), Param(f"{which}N", t.INT)),
                returns=t.Array(_T),
                factory=_factory(earliest, True),
                intermediate=many,
                literals=(1,),
                description=f"return the {which} N values of a column",
            ),
            AggregateSignature(
                params=(Param("val", _T), Param(f"{which}N", t.INT), Param("ignoreNulls", t.BOOLEAN)),
                returns=t.Array(_T),
                factory=_factory(earliest, True),
                intermediate=many,
                literals=(1, 2),
                description=f"return the {which} N values of a column",
            ),
        ),
    )


EARLIEST_BY_OFFSET = _function("EARLIEST_BY_OFFSET", True)
LATEST_BY_OFFSET = _function("LATEST_BY_OFFSET", False)
