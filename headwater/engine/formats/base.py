"""What every format provides: statement-time checks, and decoders and encoders over whole batches.

A :class:`Format` is a stateless singleton (``get_format("json")``). Its decoders and encoders are
built once per query for a list of columns and reused batch after batch (a JSON decoder learns the
spellings of member names as it goes).

Decoding keeps the batch aligned: a :class:`DecodeResult` has one row per input row, so the caller can
combine it with the key's result, the offsets and the timestamps. Rows that could not be decoded are
*marked*, not dropped: ``failed`` is true, their columns are null and ``errors`` holds ksqlDB's message
for each. Rows whose bytes were null (a tombstone, or a record without a key) have ``null_record`` set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.types import to_arrow
from headwater.errors import PlanError
from headwater.parser import types as t

__all__ = [
    "Columns",
    "DecodeResult",
    "Decoder",
    "EncodeResult",
    "Encoder",
    "Format",
    "RowError",
    "as_binary",
    "columns_schema",
    "fast_path_rows",
    "true_mask",
]

Columns = Sequence[tuple[str, t.SqlType]]
"""Declared columns, in order: (name, SQL type)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be decoded (or encoded).

    Attributes:
        row: index of the row in the batch.
        message: ksqlDB's message, e.g. ``Failed to deserialize value from topic: t. Can't convert
            type. sourceType: TextNode, requiredType: BOOLEAN, path: $.ENABLED``.
        causes: the messages of the underlying causes, outermost first (ksqlDB's processing log
            records them as ``cause``).
    """

    row: int
    message: str
    causes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """The columns decoded from a batch of serialised keys or values.

    Attributes:
        table: one column per declared column (named as declared, typed ``to_arrow(type)``), one row
            per input row. Failed and null-record rows are null in every column.
        null_record: per row, whether the bytes were null (or decode to nothing: JSON ``null``, the
            NONE format): a tombstone for values, a missing key for keys.
        failed: per row, whether decoding failed; ``errors`` says why.
        errors: one :class:`RowError` per failed row, in row order.
        fast_rows: how many rows the vectorized path decoded.
        fallback_rows: how many rows were decoded one at a time (dirty or unusual input).
    """

    table: pa.Table
    null_record: np.ndarray
    failed: np.ndarray
    errors: tuple[RowError, ...]
    fast_rows: int
    fallback_rows: int

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def decoded(self) -> np.ndarray:
        """Rows that decoded to a record (neither failed nor null)."""
        return ~(self.failed | self.null_record)


class EncodeResult(NamedTuple):
    """Serialised rows (null where the row is a null record) and the rows that could not be encoded."""

    data: pa.Array
    errors: tuple[RowError, ...]


class Decoder(Protocol):
    """Decodes batches of one topic's keys or values for a fixed list of columns."""

    def decode(self, data: pa.Array | pa.ChunkedArray, *, topic: str = "") -> DecodeResult: ...


class Encoder(Protocol):
    """Encodes the columns of batches as ksqlDB would serialise them."""

    def encode(
        self,
        columns: pa.Table | pa.RecordBatch | Sequence[pa.Array | pa.ChunkedArray],
        *,
        null_record: np.ndarray | pa.Array | None = None,
    ) -> EncodeResult: ...


def as_binary(data: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A batch of serialised bytes as one ``binary`` array (strings and large binaries accepted)."""
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks() if data.num_chunks != 1 else data.chunk(0)
    if not pa.types.is_binary(data.type):
        data = data.cast(pa.binary())
    return data


def true_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow column as a numpy mask, null counted as false (validity, matches, range checks)."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def fast_path_rows(raw: pa.Array, valid: np.ndarray, *, enabled: bool) -> np.ndarray:
    """The rows a vectorized reader may try: those holding at least one byte, none when it is disabled
    (empty and null rows always go the per-row way, which knows their messages)."""
    if not enabled:
        return np.zeros(len(valid), dtype=bool)
    if not len(raw):
        return valid.copy()
    return valid & (np.asarray(pc.fill_null(pc.binary_length(raw), 0).to_numpy(zero_copy_only=False)) > 0)


def columns_schema(columns: Columns) -> pa.Schema:
    """The Arrow schema of decoded columns."""
    return pa.schema([pa.field(name, to_arrow(sql_type)) for name, sql_type in columns])


def columns_text(columns: Columns, *, is_key: bool) -> str:
    """Columns as ksqlDB lists them in messages: ``[`K` STRING KEY, `V` INTEGER]``."""
    from headwater.engine.casts.rules import type_text

    suffix = " KEY" if is_key else ""
    return "[" + ", ".join(f"`{name}` {type_text(sql_type)}{suffix}" for name, sql_type in columns) + "]"


class Format:
    """A key/value format. Subclasses fill in the class attributes and the hooks.

    Attributes:
        name: the canonical (upper-case) name.
        supports_wrapping: ksqlDB's ``WRAP_SINGLES`` feature: a single column may be written inside an
            object (``{"V": 1}``).
        supports_unwrapping: ``UNWRAP_SINGLES``: a single column may be written bare (``1``).
        supports_multiple_columns: more than one column fits in a key or value.
        supports_schema_inference: columns may be omitted and read from a schema registry.
        supported_properties: format properties accepted in the WITH clause (``delimiter``).
    """

    name: str = ""
    supports_wrapping: bool = False
    supports_unwrapping: bool = False
    supports_multiple_columns: bool = True
    supports_schema_inference: bool = False
    supported_properties: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"Format({self.name})"

    def validate_columns(self, columns: Columns, *, is_key: bool) -> None:
        """Raise ksqlDB's statement error if these columns cannot be held by this format.

        Raises:
            PlanError: e.g. ``The 'KAFKA' format only supports a single field. Got: [...]``.
        """

    def supports_type(self, sql_type: t.SqlType) -> bool:
        """Whether a column of this type can be serialised by this format."""
        return True

    def supports_key_type(self, sql_type: t.SqlType) -> bool:
        """Whether a key column of this type can be serialised (ksqlDB's ``supportsKeyType``)."""
        return self.supports_type(sql_type)

    def validate_properties(self, properties: Mapping[str, str]) -> None:
        """Check the format properties of a WITH clause (keys lower-case, e.g. ``delimiter``).

        Raises:
            PlanError: ``JSON does not support the following configs: [delimiter]`` or
                ``delimiter cannot be empty. Format configuration: {delimiter=}``.
        """
        unknown = sorted(set(properties) - self.supported_properties)
        if unknown:
            raise PlanError(f"{self.name} does not support the following configs: [{', '.join(unknown)}]")
        for key, value in properties.items():
            if not value.strip():
                shown = ", ".join(f"{k}={v}" for k, v in properties.items())
                raise PlanError(f"{key} cannot be empty. Format configuration: {{{shown}}}")

    def decoder(
        self,
        columns: Columns,
        *,
        is_key: bool,
        wrap_single: bool | None = None,
        delimiter: str | None = None,
    ) -> Decoder:
        """A decoder for these columns (see the package docstring for ``wrap_single``).

        Raises:
            PlanError: the columns are not ones this format can hold (:meth:`validate_columns`).
        """
        self.validate_columns(columns, is_key=is_key)
        return self._new_decoder(columns, is_key=is_key, wrap_single=wrap_single, delimiter=delimiter)

    def encoder(
        self,
        columns: Columns,
        *,
        is_key: bool,
        wrap_single: bool | None = None,
        delimiter: str | None = None,
    ) -> Encoder:
        """An encoder for these columns.

        Raises:
            PlanError: the columns are not ones this format can hold (:meth:`validate_columns`).
        """
        self.validate_columns(columns, is_key=is_key)
        return self._new_encoder(columns, is_key=is_key, wrap_single=wrap_single, delimiter=delimiter)

    def _new_decoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Decoder:
        """The format's decoder for columns already validated."""
        raise NotImplementedError

    def _new_encoder(
        self, columns: Columns, *, is_key: bool, wrap_single: bool | None, delimiter: str | None
    ) -> Encoder:
        """The format's encoder for columns already validated."""
        raise NotImplementedError
