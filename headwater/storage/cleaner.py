"""Retention (delete whole expired segments) and compaction (keep the latest record per key).

Both follow Kafka's log cleaner and both leave the newest (active) segment alone.

Retention, over the closed segments from the oldest on:

* ``retention.ms``: a segment whose largest timestamp is older than ``now - retention.ms`` is deleted;
  deletion stops at the first segment that is not expired, so the log stays a contiguous suffix.
  Segments with no records count as expired.
* ``retention.bytes``: while the partition would still hold at least ``retention.bytes`` without the
  oldest segment, that segment is deleted.

Compaction, over the closed segments:

* the key of a record is the ``__key`` bytes (raw topics) or the tuple of key columns (typed topics,
  fields with ``headwater.key = "true"``); records whose key is null, and all records of a typed topic
  without key columns, are kept, since nothing identifies what they would supersede;
* of the records sharing a key, only the one with the largest offset is kept;
* a kept record that is a tombstone (``__tombstone`` true, or a null ``__value`` in a raw topic) is
  dropped too once its segment's largest timestamp is older than ``now - delete.retention.ms``, so
  consumers have had that long to see the delete;
* kept records keep their offsets; a segment is rewritten only when it loses records.

The latest offset per key comes from one vectorized ``group_by(...).aggregate(max)`` over the key
columns of all closed segments, and each batch is filtered with ``is_in`` against that set. Key types
Arrow cannot group (e.g. nested types) fall back to a Python dict over the rows: a measured exception,
only for such keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from headwater.storage.columns import KEY, OFFSET, TOMBSTONE, VALUE
from headwater.storage.config import TopicConfig
from headwater.storage.segment import Segment

__all__ = ["CompactionPlan", "SegmentRewrite", "expired_segment_count", "plan_compaction"]


def expired_segment_count(segments: Sequence[Segment], config: TopicConfig, now_ms: int) -> int:
    """How many of the oldest segments retention deletes (never the newest one)."""
    candidates = list(segments[:-1])
    count = 0
    if config.retention_ms >= 0:
        horizon = now_ms - config.retention_ms
        while count < len(candidates):
            segment = candidates[count]
            if segment.max_timestamp is not None and segment.max_timestamp >= horizon:
                break
            count += 1
    if config.retention_bytes >= 0:
        remaining = sum(s.size_bytes for s in segments) - sum(s.size_bytes for s in candidates[:count])
        while count < len(candidates) and remaining - candidates[count].size_bytes >= config.retention_bytes:
            remaining -= candidates[count].size_bytes
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class SegmentRewrite:
    """The batches a compacted segment keeps (``index`` into the segment list)."""

    index: int
    batches: list[pa.RecordBatch]


@dataclass(frozen=True, slots=True)
class CompactionPlan:
    """What a compaction pass will write, and how much it removes."""

    rewrites: list[SegmentRewrite]
    records_removed: int
    tombstones_removed: int


def _key_columns(batch: pa.RecordBatch, key_names: list[str], key_types: dict[str, pa.DataType]) -> list[pa.Array]:
    """The key columns of a batch; a key column its segment predates is all null (of the key's type)."""
    columns = []
    for name in key_names:
        index = batch.schema.get_field_index(name)
        columns.append(batch.column(index) if index >= 0 else pa.nulls(batch.num_rows, key_types.get(name, pa.null())))
    return columns


def _key_types(segments: Sequence[Segment], key_names: list[str]) -> dict[str, pa.DataType]:
    """Each key column's type in the newest segment that has it."""
    types: dict[str, pa.DataType] = {}
    for segment in reversed(segments):
        for name in key_names:
            index = segment.schema.get_field_index(name)
            if name not in types and index >= 0:
                types[name] = segment.schema.field(index).type
    return types


def _has_key(columns: list[pa.Array]) -> pa.Array:
    """True where at least one key column is non-null."""
    mask = pc.is_valid(columns[0])
    for column in columns[1:]:
        mask = pc.or_(mask, pc.is_valid(column))
    return mask


def _tombstones(batch: pa.RecordBatch, raw: bool) -> pa.Array:
    if raw:
        return pc.is_null(batch.column(batch.schema.get_field_index(VALUE)))
    return pc.fill_null(batch.column(batch.schema.get_field_index(TOMBSTONE)), False)


def _latest_offsets(segments: Sequence[Segment], key_names: list[str], key_types: dict[str, pa.DataType]) -> pa.Array:
    """The largest offset of every non-null key across ``segments``."""
    parts = []
    for segment in segments:
        for batch in segment.iter_batches():
            columns = _key_columns(batch, key_names, key_types)
            keyed = _has_key(columns)
            names = [f"k{i}" for i in range(len(columns))]
            part = pa.record_batch([*columns, batch.column(0)], names=[*names, OFFSET])
            parts.append(part.filter(keyed))
    if not parts:
        return pa.array([], pa.int64())
    names = [f"k{i}" for i in range(len(key_names))]
    table = pa.Table.from_batches(parts)
    try:
        grouped = table.group_by(names, use_threads=False).aggregate([(OFFSET, "max")])
        return grouped.column(f"{OFFSET}_max").combine_chunks()
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return _latest_offsets_rowwise(table, names)


def _latest_offsets_rowwise(table: pa.Table, names: list[str]) -> pa.Array:
    """Per-row fallback for key types Arrow cannot group (nested keys); see the module docstring."""
    latest: dict[str, int] = {}
    keys = zip(*(table.column(n).to_pylist() for n in names))
    for key, offset in zip(keys, table.column(OFFSET).to_pylist()):
        latest[repr(key)] = max(offset, latest.get(repr(key), offset))
    return pa.array(sorted(latest.values()), pa.int64())


def plan_compaction(segments: Sequence[Segment], key_names: list[str], *, raw: bool, now_ms: int,
                    delete_retention_ms: int) -> CompactionPlan:
    """Decide what each closed segment keeps; see the module docstring for the rules."""
    key_names = [KEY] if raw else key_names
    if not key_names or not segments:
        return CompactionPlan([], 0, 0)
    key_types = _key_types(segments, key_names)
    latest = _latest_offsets(segments, key_names, key_types)
    horizon = now_ms - delete_retention_ms
    rewrites = []
    removed = tombstones_removed = 0
    for index, segment in enumerate(segments):
        if not segment.record_count:
            continue
        drop_tombstones = segment.max_timestamp is not None and segment.max_timestamp < horizon
        kept: list[pa.RecordBatch] = []
        segment_removed = 0
        for batch in segment.iter_batches():
            keyed = _has_key(_key_columns(batch, key_names, key_types))
            keep = pc.or_(pc.invert(keyed), pc.is_in(batch.column(0), value_set=latest))
            if drop_tombstones:
                tombstones = _tombstones(batch, raw)
                dropped_tombstones = pc.and_(keep, tombstones)
                tombstones_removed += int(pc.sum(dropped_tombstones).as_py() or 0)
                keep = pc.and_(keep, pc.invert(tombstones))
            kept_count = int(pc.sum(keep).as_py() or 0)
            segment_removed += batch.num_rows - kept_count
            if kept_count == batch.num_rows:
                kept.append(batch)
            elif kept_count:
                kept.append(batch.filter(keep))
        if segment_removed:
            removed += segment_removed
            rewrites.append(SegmentRewrite(index, kept))
    return CompactionPlan(rewrites, removed, tombstones_removed)

