"""PRINT over a raw topic: format detection and ksqlDB's line layout."""

from __future__ import annotations

import struct
from pathlib import Path

import pyarrow as pa

from headwater.engine import Engine
from headwater.engine.functions.registry import FunctionRegistry
from headwater.storage import TopicConfig


def test_print_from_beginning_with_limit(tmp_path: Path) -> None:
    engine = Engine(tmp_path, background=False, function_registry=FunctionRegistry())
    topic = engine.log.create_topic("raw_orders", TopicConfig(partitions=1), schema=None)
    topic.append(
        pa.record_batch(
            {
                "__key": pa.array([struct.pack(">i", 1), struct.pack(">i", 2), None], pa.binary()),
                "__value": pa.array([b'{"ITEM":"apple"}', b'{"ITEM":"pear"}', None], pa.binary()),
                "__timestamp": pa.array([0, 1_577_836_800_123, 5], pa.int64()),
            }
        ),
        partition=0,
    )
    stream = engine.stream("PRINT 'raw_orders' FROM BEGINNING LIMIT 2;")
    lines = [row.columns[0] for row in stream]
    assert lines == [
        "Key format: KAFKA_INT",
        "Value format: JSON",
        'rowtime: 1970/01/01 00:00:00.000 Z, key: 1, value: {"ITEM":"apple"}, partition: 0',
        'rowtime: 2020/01/01 00:00:00.123 Z, key: 2, value: {"ITEM":"pear"}, partition: 0',
    ]
    every_other = [
        row.columns[0] for row in engine.stream("PRINT RAW_ORDERS FROM BEGINNING INTERVAL 2 LIMIT 2;")
    ]
    assert every_other[2:] == [
        'rowtime: 1970/01/01 00:00:00.000 Z, key: 1, value: {"ITEM":"apple"}, partition: 0',
        "rowtime: 1970/01/01 00:00:00.005 Z, key: <null>, value: <null>, partition: 0",
    ]
    engine.close()
