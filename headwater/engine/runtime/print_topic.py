"""PRINT: a topic's records as text, the way ksqlDB's PRINT shows them.

ksqlDB does not know a topic's formats when printing, so it detects them from the bytes: for each of key
and value it tries, in order, JSON and the KAFKA primitive widths (a 4-byte INT, an 8-byte BIGINT or
DOUBLE) and falls back to a UTF-8 string. The first lines name what was detected ("Key format: ...",
"Value format: ..."), then one line per record::

    rowtime: 2020/01/01 00:00:00.000 Z, key: 1, value: {"V":1}, partition: 0

Typed topics (query sinks) hold columns, not bytes: their values print as a JSON object of the value
columns and their keys as the key column (or a JSON object for several key columns).
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

import orjson
import pyarrow as pa

__all__ = ["detect_format", "format_record", "render_batch"]

NULL = "<null>"


def detect_format(data: bytes | None) -> str:
    """ksqlDB's name for the format ``data`` looks like.

    Example:
        >>> detect_format(b'{"a": 1}'), detect_format(struct.pack(">i", 7)), detect_format(b"hello")
        ('JSON', 'KAFKA_INT', 'KAFKA_STRING')
    """
    if data is None:
        return "<null>"
    try:
        value = orjson.loads(data)
        if isinstance(value, (dict, list)):
            return "JSON"
    except orjson.JSONDecodeError:
        pass
    if len(data) == 4 and not _printable(data):
        return "KAFKA_INT"
    if len(data) == 8 and not _printable(data):
        return "KAFKA_BIGINT"
    try:
        data.decode("utf-8")
        return "KAFKA_STRING"
    except UnicodeDecodeError:
        return "UNKNOWN_FORMAT"


def _printable(data: bytes) -> bool:
    try:
        return data.decode("utf-8").isprintable()
    except UnicodeDecodeError:
        return False


def _render_bytes(data: bytes | None, fmt: str) -> str:
    if data is None:
        return NULL
    if fmt == "JSON":
        return orjson.dumps(orjson.loads(data)).decode()
    if fmt == "KAFKA_INT":
        return str(struct.unpack(">i", data)[0])
    if fmt == "KAFKA_BIGINT":
        return str(struct.unpack(">q", data)[0])
    return data.decode("utf-8", errors="replace")


def _rowtime(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y/%m/%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} Z"


def format_record(rowtime: int, key: str, value: str, partition: int) -> str:
    """One PRINT line."""
    return f"rowtime: {_rowtime(rowtime)}, key: {key}, value: {value}, partition: {partition}"


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    return str(value)


def render_batch(batch: pa.RecordBatch, partition: int, key_columns: list[str]) -> list[tuple[str, str, str]]:
    """(key format, value format, line) for each record of a stored batch."""
    out = []
    timestamps = batch.column("__timestamp").to_pylist()
    if "__value" in batch.schema.names:  # a raw topic
        keys = batch.column("__key").to_pylist()
        values = batch.column("__value").to_pylist()
        for ts, key, value in zip(timestamps, keys, values):
            key_format, value_format = detect_format(key), detect_format(value)
            line = format_record(
                ts, _render_bytes(key, key_format), _render_bytes(value, value_format), partition
            )
            out.append((key_format, value_format, line))
        return out
    user = [n for n in batch.schema.names if not n.startswith("__")]
    value_names = [n for n in user if n not in key_columns]
    rows = batch.select(user).to_pylist()
    tombstones = (
        batch.column("__tombstone").to_pylist()
        if "__tombstone" in batch.schema.names
        else [False] * len(rows)
    )
    for ts, row, tombstone in zip(timestamps, rows, tombstones):
        if len(key_columns) == 1:
            key_value = row[key_columns[0]]
            key = NULL if key_value is None else str(key_value)
        elif key_columns:
            key = orjson.dumps({k: row[k] for k in key_columns}, default=_json_default).decode()
        else:
            key = NULL
        value = (
            NULL
            if tombstone
            else orjson.dumps({k: row[k] for k in value_names}, default=_json_default).decode()
        )
        out.append(
            ("JSON" if len(key_columns) > 1 else "KAFKA", "JSON", format_record(ts, key, value, partition))
        )
    return out
