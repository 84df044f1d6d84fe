"""A shell on a data directory whose command topic holds a damaged record: it refuses to start with the
engine's message (which record, what to do), and starts with every other statement replayed when the
config file sets headwater.command.topic.skip.corrupt, saying what it skipped. Real processes, real damage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from headwater.engine.commands import COMMAND_TOPIC, SKIP_CORRUPT_PROPERTY
from headwater.storage import EventLog


def _damage_command_topic(headwater: Any, data_dir: Path) -> None:
    created = headwater(
        "-e", "CREATE STREAM A (V INT) WITH (KAFKA_TOPIC='a', PARTITIONS=1, VALUE_FORMAT='JSON');"
    )
    assert created.status == 0, created.err
    with EventLog.open(data_dir / "log") as log:
        record = {"STATEMENT": pa.array(["GARBAGE((("], pa.string()), "CONFIG": pa.array(["{}"], pa.string())}
        log.topic(COMMAND_TOPIC).append(pa.record_batch(record), partition=0)


def test_the_shell_refuses_a_damaged_command_topic_and_says_what_to_do(
    headwater: Any, data_dir: Path
) -> None:
    _damage_command_topic(headwater, data_dir)
    run = headwater("-e", "SHOW STREAMS;")
    assert run.status != 0
    assert "damaged at offset 1" in run.err and SKIP_CORRUPT_PROPERTY in run.err
    assert "Traceback" not in run.err


def test_the_config_file_lets_the_shell_skip_the_damaged_record(
    headwater: Any, data_dir: Path, tmp_path: Path
) -> None:
    _damage_command_topic(headwater, data_dir)
    config = tmp_path / "shell.properties"
    config.write_text(f"{SKIP_CORRUPT_PROPERTY}=true\n")
    run = headwater("--config-file", str(config), "-e", "SHOW STREAMS;")
    assert run.status == 0, run.err
    assert "Warning: Skipped command 1" in run.err
    assert " A " in run.out
