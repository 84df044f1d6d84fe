"""Checkpoint slots: a commit overwrites the slot not holding the latest checkpoint, so a commit cut
short at any byte leaves the previous checkpoint in force; an old single-file checkpoint still loads and
is superseded by the next commit; separate stores of one writer (the retired writer opens a new one each
time) continue each other's sequence."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import orjson
import pytest

from headwater.engine.runtime.checkpoint import Checkpoint, CheckpointStore
from headwater.errors import ExecutionError


def _checkpoint(epoch: int) -> Checkpoint:
    return Checkpoint(epoch=epoch, sources={("in", 0): epoch * 10}, sinks={("out", 0): epoch}, state={"agg-0": b"s" * epoch})


def _format_one(checkpoint: Checkpoint) -> bytes:
    """A checkpoint document as written before the binary format: one JSON object, base64 snapshots."""
    return orjson.dumps(
        {
            "version": 1,
            "epoch": checkpoint.epoch,
            "sources": [[t, p, o] for (t, p), o in sorted(checkpoint.sources.items())],
            "sinks": [[t, p, o] for (t, p), o in sorted(checkpoint.sinks.items())],
            "state": {k: base64.b64encode(v).decode("ascii") for k, v in sorted(checkpoint.state.items())},
        }
    )


def _format_one_slot(checkpoint: Checkpoint, sequence: int) -> bytes:
    """A slot file of the JSON format: the document and its trailer (sequence, CRC-32)."""
    document = _format_one(checkpoint)
    return document + b"\n#%d %08x\n" % (sequence, zlib.crc32(b"%d" % sequence, zlib.crc32(document)))


def test_commits_alternate_between_the_two_slots(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    for epoch in range(1, 6):
        store.commit(_checkpoint(epoch))
        assert store.load() == _checkpoint(epoch)
        assert CheckpointStore(tmp_path).load() == _checkpoint(epoch)  # a fresh store reads the same
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.1.json", "checkpoint.json"]


@pytest.mark.parametrize("epochs", [1, 2])
def test_a_commit_cut_short_at_any_byte_leaves_the_previous_checkpoint(tmp_path: Path, epochs: int) -> None:
    store = CheckpointStore(tmp_path)
    for epoch in range(1, epochs + 1):
        store.commit(_checkpoint(epoch))
    # the next commit writes the other slot: every prefix of it must leave `epochs` in force
    probe = tmp_path / "probe"
    probe_store = CheckpointStore(probe)
    for epoch in range(1, epochs + 2):
        probe_store.commit(_checkpoint(epoch))
    slot = "checkpoint.json" if epochs % 2 == 0 else "checkpoint.1.json"
    complete = (probe / slot).read_bytes()
    assert CheckpointStore(probe).load() == _checkpoint(epochs + 1)
    for cut in range(0, len(complete), 7):
        (tmp_path / slot).write_bytes(complete[:cut])
        assert CheckpointStore(tmp_path).load() == _checkpoint(epochs), f"cut at byte {cut}"
    flipped = bytearray(complete)
    flipped[len(flipped) // 2] ^= 0x01  # damaged in the middle: the checksum catches it
    (tmp_path / slot).write_bytes(bytes(flipped))
    assert CheckpointStore(tmp_path).load() == _checkpoint(epochs)
    (tmp_path / slot).write_bytes(complete)
    assert CheckpointStore(tmp_path).load() == _checkpoint(epochs + 1)


def test_an_old_single_file_checkpoint_loads_and_the_next_commit_supersedes_it(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.json").write_bytes(_format_one(_checkpoint(7)))  # written before the slots
    store = CheckpointStore(tmp_path)
    assert store.load() == _checkpoint(7)
    store.commit(_checkpoint(8))
    assert CheckpointStore(tmp_path).load() == _checkpoint(8)
    assert (tmp_path / "checkpoint.json").read_bytes() == _format_one(_checkpoint(7))  # the older slot stays
    CheckpointStore(tmp_path).commit(_checkpoint(9))  # a new store continues the sequence
    assert CheckpointStore(tmp_path).load() == _checkpoint(9)


def test_no_readable_slot_is_a_clear_error_and_delete_removes_both(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.json").write_bytes(b'{"version": 1, "epo')
    with pytest.raises(ExecutionError, match="Corrupt"):
        CheckpointStore(tmp_path).load()
    store = CheckpointStore(tmp_path / "w")
    store.commit(_checkpoint(1))
    store.commit(_checkpoint(2))
    store.delete()
    assert store.load() is None and not (tmp_path / "w").exists()
    store.commit(_checkpoint(3))
    assert CheckpointStore(tmp_path / "w").load() == _checkpoint(3)


def test_json_format_slots_load_and_the_next_commit_writes_the_binary_format(tmp_path: Path) -> None:
    """A data directory written before the binary format: both JSON slots, the newer one wins, and the
    next commit goes to the other slot in the binary format, continuing the sequence."""
    (tmp_path / "checkpoint.json").write_bytes(_format_one_slot(_checkpoint(4), 6))
    (tmp_path / "checkpoint.1.json").write_bytes(_format_one_slot(_checkpoint(5), 7))
    store = CheckpointStore(tmp_path)
    assert store.load() == _checkpoint(5)
    store.commit(_checkpoint(6))
    written = (tmp_path / "checkpoint.json").read_bytes()
    document = written[: written.rindex(b"\n#")]
    assert written.startswith(b"HWCKPT2\n")
    assert written.endswith(b"\n#8 %08x\n" % zlib.crc32(b"8", zlib.crc32(document)))
    assert CheckpointStore(tmp_path).load() == _checkpoint(6)


def test_snapshots_are_stored_as_raw_bytes_not_base64(tmp_path: Path) -> None:
    state = {"aggregate-0": bytes(range(256)) * 40, "join-0": b"", "limit-0": b"\n#1 00000000\n"}
    checkpoint = Checkpoint(epoch=2, sources={("in", 0): 3}, sinks={("out", 1): 9}, state=state)
    store = CheckpointStore(tmp_path)
    store.commit(checkpoint)
    data = (tmp_path / "checkpoint.json").read_bytes()
    assert bytes(range(256)) * 40 in data and base64.b64encode(bytes(range(256))) not in data
    assert len(data) < sum(len(v) for v in state.values()) + 400
    assert CheckpointStore(tmp_path).load() == checkpoint


def test_a_binary_document_without_its_trailer_is_a_torn_commit(tmp_path: Path) -> None:
    """Format 2 is always sealed: a document without its trailer is a commit cut short. As the only
    file (the writer's first commit, cut short, or still being written) it is no checkpoint at all;
    next to a valid slot, that slot is in force."""
    document = _checkpoint(3).to_bytes()
    for cut in (0, 3, len(document) // 2, len(document)):
        (tmp_path / "checkpoint.json").write_bytes(document[:cut])
        assert CheckpointStore(tmp_path).load() is None, f"cut at byte {cut}"
    store = CheckpointStore(tmp_path)
    store.commit(_checkpoint(4))  # the first commit, over the torn one
    assert CheckpointStore(tmp_path).load() == _checkpoint(4)
    store.commit(_checkpoint(5))  # slot 1
    (tmp_path / "checkpoint.json").write_bytes(document)  # slot 0 torn beside a valid slot 1
    assert CheckpointStore(tmp_path).load() == _checkpoint(5)
    (tmp_path / "checkpoint.1.json").write_bytes(b"\x00garbage")  # both unreadable: a clear error
    with pytest.raises(ExecutionError, match="Corrupt"):
        CheckpointStore(tmp_path).load()


def test_a_slot_is_overwritten_in_place_and_cut_to_length(tmp_path: Path) -> None:
    """A commit writes over the older slot and then cuts it to the new length; cut short before that
    (new bytes over the start of a longer old document), the old trailer fails its checksum and the
    other slot stays in force."""
    big = Checkpoint(epoch=1, sources={("in", 0): 1}, state={"aggregate-0": b"x" * 5000})
    small = Checkpoint(epoch=3, sources={("in", 0): 3})
    store = CheckpointStore(tmp_path)
    store.commit(big)  # slot 0, sequence 0
    store.commit(Checkpoint(epoch=2, sources={("in", 0): 2}))  # slot 1, sequence 1
    old_slot = (tmp_path / "checkpoint.json").read_bytes()
    store.commit(small)  # slot 0 again, sequence 2
    written = (tmp_path / "checkpoint.json").read_bytes()
    assert len(written) < 500 and CheckpointStore(tmp_path).load() == small
    # the same commit cut short after its bytes were written, before the cut to length
    (tmp_path / "checkpoint.json").write_bytes(written + old_slot[len(written) :])
    assert CheckpointStore(tmp_path).load() == Checkpoint(epoch=2, sources={("in", 0): 2})
