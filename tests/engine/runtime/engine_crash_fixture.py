"""A whole engine over a raw JSON topic, for the crash tests: statements, input, and the sink's rows.

The query decodes JSON values (some records are malformed and go to the processing log), filters,
projects with functions, and re-keys with PARTITION BY into a two-partition sink, so a crash can land in
decoding, evaluation, serialising the new key, appending or committing. Run as a script it opens the
engine on an existing data directory and drives the query in small random steps forever (the crash
test kills it).
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
    "CREATE STREAM S (ID BIGINT KEY, NAME STRING, V BIGINT) "
    "WITH (KAFKA_TOPIC='in', PARTITIONS=2, VALUE_FORMAT='JSON');",
    "CREATE STREAM OUT WITH (PARTITIONS=2) AS SELECT V % 7 AS K, ID, UCASE(NAME) AS NAME, V * 3 AS TRIPLE, "
    "ROWPARTITION AS SRC_P, ROWOFFSET AS SRC_O FROM S WHERE V % 4 <> 0 PARTITION BY V % 7;",
)
CONFIG = {"auto.offset.reset": "earliest", "commit.interval.ms": "20"}
"""A short commit interval: several steps run between two commits, so kills land between commits too."""


def open_engine(data_dir: Path) -> Engine:
    """The engine on ``data_dir`` with CONFIG's commit interval applied to its queries."""
    engine = Engine(data_dir, config=CONFIG, background=False)
    for query in engine.persistent_queries():
        query.commit_interval_ms = int(CONFIG["commit.interval.ms"])
    return engine


def setup(data_dir: Path, records: int, seed: int = 7) -> None:
    """Create the stream and the query, and produce ``records`` raw JSON records (every 50th one is
    not valid JSON) into both partitions of the source topic."""
    engine = Engine(data_dir, config=CONFIG, background=False)
    engine.execute("\n".join(STATEMENTS))
    rng = random.Random(seed)
    for partition in (0, 1):
        keys, values = [], []
        for i in range(partition, records, 2):
            keys.append(int(rng.randrange(1000)).to_bytes(8, "big", signed=True))
            if i % 50 == 49:
                values.append(b'{"NAME": "broken", "V": ')
            else:
                values.append(orjson.dumps({"NAME": f"n{i}", "V": i}))
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(keys, pa.binary()),
                pa.array(values, pa.binary()),
                pa.array([1000 + i for i in range(len(keys))], pa.int64()),
            ],
            names=["__key", "__value", "__timestamp"],
        )
        engine.log.topic("in").append(batch, partition=partition)
    engine.close()


def sink_rows(engine: Engine) -> dict[int, list[tuple[Any, ...]]]:
    """Each sink partition's rows in offset order: (K, ID, NAME, TRIPLE, SRC_P, SRC_O, timestamp)."""
    topic = engine.log.topic("OUT")
    rows: dict[int, list[tuple[Any, ...]]] = {}
    for partition in range(len(topic.end_offsets())):
        part = topic.partition(partition)
        out: list[tuple[Any, ...]] = []
        for batch in part.read(part.start_offset).batches:
            columns = [batch.column(n).to_pylist() for n in ("K", "ID", "NAME", "TRIPLE", "SRC_P", "SRC_O")]
            columns.append(batch.column("__timestamp").to_pylist())
            out.extend(zip(*columns))
        rows[partition] = out
    return rows


def drain(data_dir: Path) -> dict[int, list[tuple[Any, ...]]]:
    """Open the engine (recovery included), drain the query, and return the sink's rows."""
    engine = open_engine(data_dir)
    try:
        for query in engine.persistent_queries():
            query.process_available()
        return sink_rows(engine)
    finally:
        engine.close()


if __name__ == "__main__":  # the process the crash test kills
    directory = Path(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    running = open_engine(directory)
    (query,) = running.persistent_queries()
    while True:
        for partition in (0, 1):
            query.process("in", partition, max_records=rng.randint(1, 9))
