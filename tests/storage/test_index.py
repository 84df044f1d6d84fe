"""Offset and time index lookups against sorted-list oracles (Kafka's OffsetIndexTest approach)."""

from __future__ import annotations

import bisect
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.storage import EventLog, OffsetPosition, TimestampOffset, TopicConfig
from headwater.storage.index import OffsetIndex, TimeIndex

increasing_pairs = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=200).map(
    lambda pairs: (sorted({a for a, _ in pairs}), sorted({b for _, b in pairs}))
).map(lambda ab: list(zip(ab[0], ab[1])))


@pytest.mark.parametrize(
    ("index_class", "entry_class", "file_name"),
    [
        pytest.param(OffsetIndex, OffsetPosition, "x.index", id="offset"),
        pytest.param(TimeIndex, TimestampOffset, "x.timeindex", id="time"),
    ],
)
@settings(max_examples=150, deadline=None)
@given(increasing_pairs, st.lists(st.integers(-5, 10**6 + 5), min_size=1, max_size=50))
def test_index_lookup_matches_sorted_list(
    index_class: type[OffsetIndex] | type[TimeIndex],
    entry_class: type[OffsetPosition] | type[TimestampOffset],
    file_name: str,
    entries: list[tuple[int, int]],
    targets: list[int],
) -> None:
    """Both indexes map a key (offset, timestamp) to the last entry at or before it, live and reloaded."""
    with tempfile.TemporaryDirectory() as tmp:
        index = index_class(Path(tmp) / file_name)
        for key, value in entries:
            index.append(key, value)
        index.close()
        if not entries:
            index.write_file()
        reloaded = index_class.load(index.path)
        assert reloaded is not None
        keys = [key for key, _ in entries]
        for target in targets:
            i = bisect.bisect_right(keys, target) - 1
            expected = entry_class(*entries[i]) if i >= 0 else None
            assert index.lookup(target) == expected
            assert reloaded.lookup(target) == expected


def test_index_files_are_16_byte_little_endian_pairs(tmp_path: Path) -> None:
    index = OffsetIndex(tmp_path / "a.index")
    index.append(7, 4096)
    index.append(300, 1 << 40)
    index.close()
    raw = index.path.read_bytes()
    assert raw == (7).to_bytes(8, "little") + (4096).to_bytes(8, "little") + (300).to_bytes(8, "little") + (1 << 40).to_bytes(8, "little")


@pytest.mark.parametrize("content", [b"\x00" * 15, (5).to_bytes(8, "little") * 2 + (3).to_bytes(8, "little") * 2])
def test_invalid_index_files_are_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.index"
    path.write_bytes(content)
    assert OffsetIndex.load(path) is None
    assert OffsetIndex.load(tmp_path / "missing.index") is None


batch_plans = st.lists(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=30),  # timestamps of one batch
    min_size=1, max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch_plans, st.integers(0, 2), st.lists(st.integers(-10, 10_010), min_size=1, max_size=20),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 50)), min_size=1, max_size=10))
def test_partition_lookups_match_brute_force(plan: list[list[int]], interval_choice: int, ts_targets: list[int],
                                            reads: list[tuple[int, int]]) -> None:
    """offset_for_timestamp and read(from, max) over random batches, sparse indexes and segment rolls."""
    interval = [0, 200, 4096][interval_choice]
    with tempfile.TemporaryDirectory() as tmp:
        log = EventLog.open(Path(tmp))
        topic = log.create_topic("t", TopicConfig(segment_bytes=2048, index_interval_bytes=interval),
                                 schema=pa.schema([pa.field("v", pa.int64())]))
        all_ts: list[int] = []
        for timestamps in plan:
            n = len(timestamps)
            start = len(all_ts)
            topic.append(pa.record_batch({"v": pa.array(np.arange(start, start + n)),
                                          "__timestamp": pa.array(timestamps, pa.int64())}))
            all_ts.extend(timestamps)
        partition = topic.partition(0)
        assert len(topic.segments()) >= 1
        for target in ts_targets:
            expected = next((i for i, t in enumerate(all_ts) if t >= target), None)
            assert partition.offset_for_timestamp(target) == expected
        for start, limit in reads:
            if start > len(all_ts):
                continue
            result = partition.read(start, limit)
            got = [v for b in result.batches for v in b.column("v").to_pylist()]
            assert got == list(range(start, min(start + limit, len(all_ts))))
            assert result.next_offset == start + len(got)
        log.close()
