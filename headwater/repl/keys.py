"""Record keys for ``headwater produce --key FIELD``: a field's values, typed and serialised.

A key is chosen by its field, given a SQL type (``--key-type``, default STRING) and serialised in a key
format (``--key-format``, default KAFKA), so that a stream declared later with the same key type and
format reads the keys back, and so that the partitioner sees the very bytes ksqlDB would have written.
Serialisation itself belongs to :mod:`headwater.engine.formats`; this module only brings the field's
values to the key's type, the way ksqlDB's JSON reader coerces values (numbers and booleans to their text
for STRING, numeric text to numbers), vectorized with Arrow casts. A value that does not convert marks
its line bad.

KAFKA STRING keys (the default) are the text's UTF-8 bytes, which is all the KAFKA format does with a
STRING, so that common case needs no format object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.types import to_arrow
from headwater.errors import HeadwaterError
from headwater.parser import types as t

__all__ = ["KEY_TYPES", "KeySerializer", "KeySpecError"]

KEY_TYPES: dict[str, t.SqlType] = {
    "STRING": t.STRING,
    "INT": t.INT,
    "BIGINT": t.BIGINT,
    "DOUBLE": t.DOUBLE,
    "BOOLEAN": t.BOOLEAN,
}
_KEY_COLUMN = "KEY"
_INT32_RANGE = (-(2**31), 2**31 - 1)
_INT64_RANGE = (-(2**63), 2**63 - 1)


class KeySpecError(HeadwaterError, ValueError):
    """A key format and type that cannot be used together (e.g. KAFKA has no BOOLEAN)."""


def _is_numeric(data_type: pa.DataType) -> bool:
    return pa.types.is_integer(data_type) or pa.types.is_floating(data_type)


def _castable(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether ksqlDB's lenient reading converts values of ``source`` to ``target`` (an Arrow cast then
    checks each value)."""
    if pa.types.is_string(target):
        return _is_numeric(source) or pa.types.is_boolean(source) or pa.types.is_string(source)
    if pa.types.is_boolean(target):
        return pa.types.is_string(source)
    if pa.types.is_floating(target):
        return _is_numeric(source) or pa.types.is_string(source)
    if pa.types.is_integer(target):
        return pa.types.is_integer(source) or pa.types.is_string(source)
    return False


class KeySerializer:
    """Serialises key values of one SQL type in one key format.

    Args:
        key_format: ``KAFKA``, ``JSON`` or ``DELIMITED``.
        key_type: the key's SQL type name (a key of :data:`KEY_TYPES`).

    Raises:
        KeySpecError: the format cannot hold the type.
    """

    def __init__(self, key_format: str = "KAFKA", key_type: str = "STRING") -> None:
        self.key_format = key_format.upper()
        self.type_name = key_type.upper()
        if self.type_name not in KEY_TYPES:
            raise KeySpecError(f"Unknown key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")
        self.sql_type = KEY_TYPES[self.type_name]
        self.arrow_type = to_arrow(self.sql_type)
        if self.key_format == "KAFKA" and self.type_name == "BOOLEAN":
            raise KeySpecError("The KAFKA key format does not support BOOLEAN keys; use --key-format JSON")
        self._encoder: Any = None
        if not (self.key_format == "KAFKA" and self.type_name == "STRING"):
            from headwater.engine import formats

            self._encoder = formats.get_format(self.key_format).encoder(
                [(_KEY_COLUMN, self.sql_type)], is_key=True
            )

    def serialize(self, values: pa.Array) -> tuple[pa.Array, dict[int, str]]:
        """Key bytes for ``values`` (null where the value is null or bad) and the bad rows' reasons."""
        typed, bad = self.convert(values)
        if self._encoder is None:
            encoded: pa.Array = typed.cast(pa.binary())
        else:
            result = self._encoder.encode([typed])
            encoded = result.data
            for error in result.errors:
                bad[int(error.row)] = f"key cannot be serialised as {self.key_format}: {error.message}"
        if bad:
            mask = np.zeros(len(values), dtype=bool)
            mask[np.fromiter(bad, dtype=np.int64, count=len(bad))] = True
            encoded = pc.if_else(pa.array(mask), pa.scalar(None, pa.binary()), encoded)
        return encoded, bad

    def convert(self, values: pa.Array) -> tuple[pa.Array, dict[int, str]]:
        """``values`` as the key's Arrow type, vectorized; rows that do not convert become null and are
        reported (found with a per-row pass only when the vectorized cast refuses the array)."""
        target = self.arrow_type
        if values.type == target:
            return values, {}
        if pa.types.is_null(values.type):
            return pa.nulls(len(values), target), {}
        if _castable(values.type, target):
            try:
                return pc.cast(values, target, safe=True), {}
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        bad: dict[int, str] = {}
        return self.from_python(values.to_pylist(), bad), bad

    def from_python(self, values: list[Any], bad: dict[int, str]) -> pa.Array:
        """An Arrow array of the key type from Python values (JSON scalars), one conversion per value;
        values that do not convert become null and their rows are added to ``bad`` (rows already in
        ``bad`` are skipped). The per-row path: only for values the vectorized cast refused."""
        converted: list[Any] = []
        for row, value in enumerate(values):
            if row in bad or value is None:
                converted.append(None)
                continue
            try:
                converted.append(self._convert_one(value))
            except (ValueError, TypeError, OverflowError):
                bad[row] = f"key {value!r} is not a valid {self.type_name}"
                converted.append(None)
        return pa.array(converted, self.arrow_type)

    def _convert_one(self, value: Any) -> Any:
        name = self.type_name
        if name == "STRING":
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, float):
                return pa.scalar(value).cast(pa.string()).as_py()  # as the vectorized cast prints it
            if isinstance(value, int | str):
                return str(value)
            raise TypeError(value)
        if name == "BOOLEAN":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError(value)
        if isinstance(value, bool):
            raise TypeError(value)
        if name == "DOUBLE":
            return float(value)
        number = int(value) if isinstance(value, int | str) else None
        if number is None:
            raise TypeError(value)
        low, high = _INT32_RANGE if name == "INT" else _INT64_RANGE
        if not low <= number <= high:
            raise OverflowError(value)
        return number
