"""Two stateful persistent queries in one engine, for the stateful crash test.

* ``AGG``: a windowed aggregation (TUMBLING 10 s with a 5 s grace, COUNT and SUM per key and window)
  over the raw JSON stream ``S``, some of whose records arrive late;
* ``JOINED``: a stream-table LEFT JOIN of ``S`` with the table ``T`` (raw JSON, updates and
  tombstones).

Both run with ``cache.max.bytes.buffering=0`` (every update is emitted, whatever the step sizes). The
join's result depends on how records of ``S`` and ``T`` interleave, so every driver follows one global
order of the input records (written to ``order.json`` at setup) and only varies how many records of a
run of one topic a step takes. Run as a script, the module opens the engine on an existing data
directory and drives both queries in random steps until it is killed.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from headwater.engine import Engine

STATEMENTS = (
    "CREATE STREAM S (ID BIGINT KEY, V BIGINT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');",
    "CREATE TABLE T (ID BIGINT PRIMARY KEY, LABEL STRING) "
    "WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');",
    "CREATE TABLE AGG AS SELECT ID, COUNT(*) AS N, SUM(V) AS TOTAL FROM S "
    "WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY ID;",
    "CREATE STREAM JOINED AS SELECT S.ID AS ID, S.V AS V, T.LABEL AS LABEL FROM S LEFT JOIN T ON S.ID = T.ID;",
)
CONFIG = {"auto.offset.reset": "earliest", "cache.max.bytes.buffering": "0", "commit.interval.ms": "20"}
"""A short commit interval: several steps run between two commits, so kills land between commits too."""
AGG_QUERY, JOIN_QUERY = "CTAS_AGG_0", "CSAS_JOINED_1"
SINKS = ("AGG", "JOINED")


def _key(value: int) -> bytes:
    return value.to_bytes(8, "big", signed=True)


def open_engine(data_dir: Path) -> Engine:
    """The engine on ``data_dir`` with CONFIG's commit interval applied to its queries."""
    engine = Engine(data_dir, config=CONFIG, background=False)
    for query in engine.persistent_queries():
        query.commit_interval_ms = int(CONFIG["commit.interval.ms"])
    return engine


def setup(data_dir: Path, records: int, seed: int = 11) -> None:
    """Create the sources and queries and produce ``records`` stream records interleaved with table
    changes (about one per four stream records); the global order goes to ``order.json``."""
    engine = Engine(data_dir, config=CONFIG, background=False)
    engine.execute("\n".join(STATEMENTS))
    rng = random.Random(seed)
    stream: list[tuple[bytes, bytes | None, int]] = []
    table: list[tuple[bytes, bytes | None, int]] = []
    order: list[str] = []
    now = 0
    for i in range(records):
        now += rng.randint(0, 700)
        late = rng.random() < 0.08
        timestamp = max(0, now - rng.randint(6_000, 20_000)) if late else now
        stream.append((_key(rng.randrange(30)), orjson.dumps({"V": i}), timestamp))
        order.append("s")
        if rng.random() < 0.25:
            key = rng.randrange(20)
            value = None if rng.random() < 0.15 else orjson.dumps({"LABEL": f"l{i}"})
            table.append((_key(key), value, now))
            order.append("t")
    for name, rows in (("s", stream), ("t", table)):
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array([k for k, _, _ in rows], pa.binary()),
                pa.array([v for _, v, _ in rows], pa.binary()),
                pa.array([ts for _, _, ts in rows], pa.int64()),
            ],
            names=["__key", "__value", "__timestamp"],
        )
        engine.log.topic(name).append(batch, partition=0)
    (data_dir / "order.json").write_bytes(orjson.dumps(order))
    engine.close()


def step(engine: Engine, order: list[str], rng: random.Random | None) -> int:
    """One step of each query: the aggregation takes a few records of ``S``; the join takes a prefix
    of the run of same-topic records that comes next in the global order (the whole run without
    ``rng``). Returns the records consumed."""
    queries = {q.query_id: q for q in engine.persistent_queries()}
    consumed = queries[AGG_QUERY].process("s", 0, max_records=rng.randint(1, 9) if rng else None)
    join = queries[JOIN_QUERY]
    position = sum(join.committed_offsets().values())
    if position < len(order):
        topic = order[position]
        run = 1
        while position + run < len(order) and order[position + run] == topic:
            run += 1
        consumed += join.process(topic, 0, max_records=rng.randint(1, run) if rng else run)
    return consumed


def sink_records(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every record of both sinks in offset order, every stored column (and the tombstone flag)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name in SINKS:
        topic = engine.log.topic(name)
        records: list[tuple[Any, ...]] = []
        for partition in range(len(topic.end_offsets())):
            part = topic.partition(partition)
            for batch in part.read(part.start_offset).batches:
                names = [n for n in batch.schema.names if n != "__offset"]
                columns = [batch.column(n).to_pylist() for n in names]
                records.extend(zip(*columns))
        out[name] = records
    return out


def drain(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Open the engine (recovery included), run both queries to the end, return the sinks."""
    engine = open_engine(data_dir)
    order = orjson.loads((data_dir / "order.json").read_bytes())
    try:
        while step(engine, order, None):
            pass
        return sink_records(engine)
    finally:
        engine.close()


if __name__ == "__main__":  # the process the crash test kills
    directory = Path(sys.argv[1])
    generator = random.Random(int(sys.argv[2]))
    global_order = orjson.loads((directory / "order.json").read_bytes())
    running = open_engine(directory)
    while True:
        if not step(running, global_order, generator):
            generator.random()
