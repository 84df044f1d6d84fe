"""Checkpoints commit atomically and read back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.engine.runtime.checkpoint import Checkpoint, CheckpointStore
from headwater.errors import ExecutionError


def test_commit_and_load_round_trip(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "q")
    assert store.load() is None
    checkpoint = Checkpoint(
        epoch=3, sources={("in", 0): 7, ("in", 1): 2}, sinks={("out", 0): 5}, state={"2-limit": b"4"}
    )
    store.commit(checkpoint)
    assert store.load() == checkpoint
    store.commit(Checkpoint(epoch=4, sources={("in", 0): 9}))
    assert store.load() == Checkpoint(epoch=4, sources={("in", 0): 9})
    assert not (tmp_path / "q" / "checkpoint.json.tmp").exists()


def test_a_torn_temporary_file_does_not_replace_the_checkpoint(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.commit(Checkpoint(epoch=1, sources={("in", 0): 1}))
    (tmp_path / "checkpoint.json.tmp").write_bytes(b'{"version": 1, "epo')  # a crash mid-write
    assert store.load() == Checkpoint(epoch=1, sources={("in", 0): 1})


def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.json").write_bytes(b"not json")
    with pytest.raises(ExecutionError, match="Corrupt"):
        CheckpointStore(tmp_path).load()


def test_delete_forgets_the_writer(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "w")
    store.commit(Checkpoint(epoch=1))
    store.delete()
    assert store.load() is None and not (tmp_path / "w").exists()
