"""Starting an engine over damaged files: a damaged command-topic record stops the start with a message
naming its offset and the way out (or is skipped, reported, under headwater.command.topic.skip.corrupt);
a statement that no longer applies is skipped and reported; a persistent query whose source partition is
damaged stays defined, in the ERROR state, with its sink readable. Real data directories, real damage."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pytest

from headwater.engine import Engine
from headwater.engine.commands import COMMAND_TOPIC, SKIP_CORRUPT_PROPERTY, CommandLog, CorruptCommandError
from headwater.errors import StorageError
from headwater.storage import EventLog

CREATE_A = "CREATE STREAM A (V INT) WITH (KAFKA_TOPIC='a', PARTITIONS=1, VALUE_FORMAT='JSON');"
CREATE_B = "CREATE STREAM B (V INT) WITH (KAFKA_TOPIC='b', PARTITIONS=1, VALUE_FORMAT='JSON');"


def _stream_names(engine: Engine) -> list[str]:
    return sorted(s.name for s in engine.catalog.sources() if not s.name.startswith("KSQL_"))


def _damaged(data: Path, statement: str | None, config: str | None) -> None:
    """A data directory whose command topic holds CREATE_A, then the given raw record, then CREATE_B."""
    with Engine(data, background=False) as engine:
        engine.execute(CREATE_A)
    log = EventLog.open(data / "log")
    record = {"STATEMENT": pa.array([statement], pa.string()), "CONFIG": pa.array([config], pa.string())}
    log.topic(COMMAND_TOPIC).append(pa.record_batch(record), partition=0)
    log.close()
    with Engine(data, background=False, config={SKIP_CORRUPT_PROPERTY: "true"}) as engine:
        engine.execute(CREATE_B)


DAMAGE = [
    (None, None, r"its STATEMENT is null"),
    ("  ", "{}", r"its STATEMENT is empty"),
    (CREATE_B.replace(" B ", " C "), "[1", r"its CONFIG '\[1' is not JSON"),
    (CREATE_B.replace(" B ", " C "), "[1]", r"its CONFIG '\[1\]' is not a JSON object of properties"),
    ("GARBAGE (((", "{}", r"its STATEMENT 'GARBAGE \(\(\(' does not parse \(line 1:1"),
]


@pytest.mark.parametrize(("statement", "config", "problem"), DAMAGE)
def test_a_damaged_record_stops_the_start_naming_its_offset_and_the_way_out(
    tmp_path: Path, statement: str | None, config: str | None, problem: str
) -> None:
    data = tmp_path / "data"
    _damaged(data, statement, config)
    with pytest.raises(CorruptCommandError, match=rf"damaged at offset 1: {problem}") as raised:
        Engine(data, background=False)
    assert isinstance(raised.value, StorageError) and raised.value.offset == 1
    assert f"{SKIP_CORRUPT_PROPERTY}=true" in str(raised.value) and "backup" in str(raised.value)
    # the failed start released the log: the next one opens it (no lock left behind)
    with Engine(data, background=False, config={SKIP_CORRUPT_PROPERTY: "true"}) as engine:
        assert _stream_names(engine) == ["A", "B"]


@pytest.mark.parametrize(("statement", "config", "problem"), DAMAGE)
def test_skipping_replays_every_other_record_and_reports_the_skipped_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, statement: str | None, config: str | None, problem: str
) -> None:
    data = tmp_path / "data"
    _damaged(data, statement, config)
    with caplog.at_level(logging.WARNING, logger="headwater.engine"):
        engine = Engine(data, background=False, config={SKIP_CORRUPT_PROPERTY: "true"})
    with engine:
        assert _stream_names(engine) == ["A", "B"]
        assert len(engine.replay_warnings) == 1
        assert engine.replay_warnings[0].startswith("Skipped command 1: ")
        assert engine.replay_warnings[0] in caplog.text
        # the record itself is kept (nothing accepted is lost), and so is every later command
        commands = list(CommandLog(engine.log).read_all())
        assert len(commands) == 3 and commands[1].offset == 1
        assert isinstance(commands[1], CorruptCommandError) or commands[1].statement == statement


def test_records_read_back_with_their_offsets(tmp_path: Path) -> None:
    with Engine(tmp_path / "data", background=False) as engine:
        engine.execute(CREATE_A)
        engine.execute(CREATE_B)
        commands = list(engine.commands.read_all())
    assert [(c.offset, c.statement) for c in commands if not isinstance(c, CorruptCommandError)] == [
        (0, CREATE_A),
        (1, CREATE_B),
    ]


def test_a_statement_that_no_longer_applies_is_skipped_and_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Engine(data, background=False) as engine:
        engine.execute(CREATE_A)
    log = EventLog.open(data / "log")
    record = {"STATEMENT": pa.array(["DROP STREAM NOPE;"]), "CONFIG": pa.array(["{}"])}
    log.topic(COMMAND_TOPIC).append(pa.record_batch(record), partition=0)
    log.close()
    with Engine(data, background=False) as engine:
        assert _stream_names(engine) == ["A"]
        assert len(engine.replay_warnings) == 1
        assert engine.replay_warnings[0].startswith("Command 1 no longer applies and was skipped: ")
        assert "NOPE" in engine.replay_warnings[0]


def test_a_query_over_a_damaged_partition_stays_defined_in_the_error_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Engine(data, background=False, config={"auto.offset.reset": "earliest"}) as engine:
        engine.execute("CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
        engine.execute("CREATE TABLE C AS SELECT K, COUNT(*) AS N FROM S GROUP BY K;")
        engine.execute("INSERT INTO S (K, V) VALUES ('a', 1);")
        for query in engine.persistent_queries():
            query.process_available()
    (segment,) = (data / "log" / "topics" / "s" / "0").glob("*.arrow")
    segment.write_bytes(b"not an arrow segment" * 8)
    with Engine(data, background=False) as engine:
        (query,) = engine.persistent_queries()
        assert query.query_id == "CTAS_C_0" and query.state == "ERROR"
        assert "does not start with the Arrow IPC magic" in str(query.error)
        assert f"TERMINATE {query.query_id}" in str(query.error)
        assert any(w.startswith("Query CTAS_C_0 could not start: ") for w in engine.replay_warnings)
        listed = engine.execute("SHOW QUERIES;")[0]
        assert [(q.id, q.state) for q in listed.queries] == [("CTAS_C_0", "ERROR")]
        # the table it wrote is still defined and readable
        assert engine.catalog.source("C") is not None
        engine.execute("TERMINATE CTAS_C_0;")
        assert engine.persistent_queries() == []
