"""The engine end to end: statements, INSERT VALUES, a CSAS, a push query, a historical query, restart.

Needs the formats package (JSON/KAFKA serdes); skipped until it provides ``get_format``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from headwater.engine.entities import CommandStatusEntity, StatementApplied, StreamsList
from headwater.errors import PlanError

formats = pytest.importorskip("headwater.engine.formats")
if not hasattr(formats, "get_format"):
    pytest.skip("the formats package does not provide get_format yet", allow_module_level=True)

from headwater.engine import Engine  # noqa: E402

CREATE = (
    "CREATE STREAM ORDERS (ID INT KEY, ITEM STRING, QTY INT) "
    "WITH (KAFKA_TOPIC='orders', PARTITIONS=1, VALUE_FORMAT='JSON');"
)
CSAS = "CREATE STREAM BIG AS SELECT ID, UCASE(ITEM) AS ITEM, QTY * 10 AS TOTAL FROM ORDERS WHERE QTY > 1;"


def _sink(engine: Engine, topic: str) -> list[dict[str, object]]:
    part = engine.log.topic(topic).partition(0)
    rows: list[dict[str, object]] = []
    for batch in part.read(part.start_offset).batches:
        rows.extend(batch.select([n for n in batch.schema.names if not n.startswith("__")]).to_pylist())
    return rows


def test_create_insert_csas_and_restart(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=False, config={"auto.offset.reset": "earliest"})
    created = engine.execute(CREATE)
    assert isinstance(created[0], CommandStatusEntity)
    assert created[0].to_json()["commandStatus"]["message"] == "Stream created"
    inserted = engine.execute(
        "INSERT INTO ORDERS (ID, ITEM, QTY) VALUES (1, 'apple', 3);"
        "INSERT INTO ORDERS (ID, ITEM, QTY) VALUES (2, 'pear', 1);"
        "INSERT INTO ORDERS (ROWTIME, ID, ITEM, QTY) VALUES (1234, 3, 'plum', 5);"
    )
    assert all(isinstance(e, StatementApplied) for e in inserted)
    status = engine.execute(CSAS)[0]
    assert isinstance(status, CommandStatusEntity) and status.query_id == "CSAS_BIG_0"
    (query,) = engine.persistent_queries()
    assert query.source_topics == ["orders"] and query.sink_topic == "BIG"
    assert query.process("orders", 0, max_records=1) == 1
    assert query.process_available() == 2
    assert _sink(engine, "BIG") == [
        {"ID": 1, "ITEM": "APPLE", "TOTAL": 30},
        {"ID": 3, "ITEM": "PLUM", "TOTAL": 50},
    ]
    sink = engine.catalog.source("BIG")
    assert sink is not None and str(sink.schema) == "`ID` INTEGER KEY, `ITEM` STRING, `TOTAL` INTEGER"
    engine.close()

    again = Engine(tmp_path, background=False)
    streams = again.execute("SHOW STREAMS;")[0]
    assert isinstance(streams, StreamsList)
    assert sorted(s.name for s in streams.streams) == ["BIG", "ORDERS"]
    (resumed,) = again.persistent_queries()
    assert resumed.query_id == "CSAS_BIG_0"
    again.execute("INSERT INTO ORDERS (ID, ITEM, QTY) VALUES (4, 'fig', 2);")
    assert resumed.process_available() == 1
    assert _sink(again, "BIG")[-1] == {"ID": 4, "ITEM": "FIG", "TOTAL": 20}
    assert len(_sink(again, "BIG")) == 3
    with pytest.raises(PlanError, match="Cannot drop ORDERS"):
        again.execute("DROP STREAM ORDERS;")
    again.close()


def test_push_query_with_limit_returns_rows_as_they_arrive(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=True)
    engine.execute(CREATE)
    stream = engine.stream("SELECT ID, ITEM FROM ORDERS WHERE QTY > 1 EMIT CHANGES LIMIT 2;")
    assert stream.header.schema == "`ID` INTEGER, `ITEM` STRING"  # push query headers mark no KEY

    def produce() -> None:
        for i in range(5):
            engine.execute(f"INSERT INTO ORDERS (ID, ITEM, QTY) VALUES ({i}, 'x{i}', {i});")
            time.sleep(0.05)

    producer = threading.Thread(target=produce)
    producer.start()
    rows = [row.columns for row in stream]
    producer.join()
    assert rows == [(2, "x2"), (3, "x3")]
    assert stream.final_message is not None and stream.final_message.message == "Limit Reached"
    engine.close()


def test_historical_select_runs_in_duckdb(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=False)
    engine.execute(CREATE)
    for i in range(6):
        engine.execute(f"INSERT INTO ORDERS (ID, ITEM, QTY) VALUES ({i}, 'item{i}', {i});")
    stream = engine.stream("SELECT ID, QTY * 2 AS DOUBLED FROM ORDERS WHERE QTY >= 3 LIMIT 2;")
    assert sorted(row.columns for row in stream) == [(3, 6), (4, 8)]
    assert stream.final_message is not None and stream.final_message.message == "Limit Reached"
    engine.close()
