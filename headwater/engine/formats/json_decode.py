"""Decoding JSON keys and values a whole batch at a time, with ksqlDB's semantics.

The fast path hands the batch to Arrow's JSON reader in one go. Every record is wrapped as
``{"v":<record>}\\n`` (one Arrow string kernel), so the reader sees newline-delimited objects whose
single member ``v`` has the record's declared type, whatever the record is: an object of columns, a
bare value of a single unwrapped column, ``null``. The wrapped bytes are exactly the value buffer of
the kernel's output, so nothing is copied again. The reader is given an explicit schema built from
the declared types:

=====================  ==========================================================================
declared               asked of the reader, then
=====================  ==========================================================================
INTEGER, BIGINT        int32 / int64 (a float, a string or an out-of-range number fails the read)
DOUBLE                 float64; ``NaN``/``Infinity`` tokens (which Jackson rejects) go per-row
DECIMAL(p, s)          decimal(38, s) (exact, or the read fails); overflowing rows go per-row
STRING, BOOLEAN        string / bool (other JSON types fail the read)
BYTES                  string, Base64-decoded value by value
TIMESTAMP, DATE, TIME  int64, then converted; TIME outside 0..86400000 goes per-row
ARRAY, STRUCT          list / struct of the above
MAP                    not taken: a schema with a MAP decodes per-row
=====================  ==========================================================================

Whatever the reader rejects, ksqlDB might still accept (``"10"`` for an INT, ``1.9`` truncated, ``{"a":1}
trailing``): a failed read is retried on chunks of 4096 rows, then 128, and the rows of chunks that
still fail are decoded one by one by :mod:`.json_rows` (ksqlDB's rules, with its error messages).

Member names match struct fields case-insensitively in ksqlDB (``"id"`` fills ``ID``). The reader
matches exact names only, so unknown members are *inferred*: an inferred member whose upper-cased name
is a field is a new spelling of it; the decoder learns it, asks for it by name from then on, and reads
the chunk again. Records that carry two spellings of one field (where ksqlDB's choice depends on
member order) go per-row. Unknown members whose types vary from record to record make the read fail
and send their chunks per-row; a schema-conformant stream never takes the slow path.
"""

from __future__ import annotations

import binascii
import decimal
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from headwater.engine.formats.assembly import BatchAssembly
from headwater.engine.formats.base import Columns, DecodeResult, as_binary
from headwater.engine.formats.json_rows import RowCoercer
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["JsonDecoder", "binary_offsets", "fast_path_supported"]

_PREFIX = pa.scalar(b'{"v":', pa.binary())
_SUFFIX = pa.scalar(b"}\n", pa.binary())
_EMPTY = pa.scalar(b"", pa.binary())
_SPLITS = (4096, 128)
_MAX_RELEARN = 16

Path = tuple[str, ...]


class _Relearn(Exception):
    """A chunk revealed new member spellings; read it again with them in the schema."""


def fast_path_supported(sql_type: t.SqlType) -> bool:
    """Whether Arrow's JSON reader can take a record of this type (no MAP, no empty STRUCT)."""
    if isinstance(sql_type, t.Map):
        return False
    if isinstance(sql_type, t.Array):
        return fast_path_supported(sql_type.element)
    if isinstance(sql_type, t.Struct):
        return bool(sql_type.fields) and all(fast_path_supported(ft) for _, ft in sql_type.fields)
    return not isinstance(sql_type, t.UserType)


def binary_offsets(values: pa.Array) -> np.ndarray:
    """The value offsets of a binary or string array (``len + 1`` of them), as int64."""
    buffer = values.buffers()[1]
    return np.frombuffer(buffer, dtype=np.int32, count=len(values) + 1, offset=values.offset * 4).astype(
        np.int64
    )


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


class JsonDecoder:
    """Decodes JSON keys or values for fixed columns (see the module docstring).

    Args:
        columns: the declared columns.
        is_key: decoding keys (for messages: ``Failed to deserialize key ...``).
        unwrapped: the single column is written bare (``10``) rather than in an object.
    """

    def __init__(self, columns: Columns, *, is_key: bool, unwrapped: bool) -> None:
        self._columns = tuple(columns)
        self._unwrapped = unwrapped
        self._root: t.SqlType = self._columns[0][1] if unwrapped else t.Struct(self._columns)
        self._rows = RowCoercer(self._root, "key" if is_key else "value")
        self._fast = fast_path_supported(self._root)
        self._variants: dict[Path, dict[str, list[str]]] = {}
        self._read_options = pj.ReadOptions(use_threads=True, block_size=1 << 22)
        self._parse_options: pj.ParseOptions | None = None
        self._preload_variants(self._root, ())

    # ---------------------------------------------------------------------------------------------
    # spellings

    def _preload_variants(self, sql_type: t.SqlType, path: Path) -> None:
        """Declared names that upper-case to another declared field are spellings of it too."""
        if isinstance(sql_type, t.Array):
            self._preload_variants(sql_type.element, path)
        elif isinstance(sql_type, t.Struct):
            names = [name for name, _ in sql_type.fields]
            for name in names:
                if name.upper() != name and name.upper() in names:
                    self._learn(path, name.upper(), name)
            for name, field_type in sql_type.fields:
                self._preload_variants(field_type, (*path, name))

    def _learn(self, path: Path, field_name: str, spelling: str) -> bool:
        known = self._variants.setdefault(path, {}).setdefault(field_name, [])
        if spelling in known or spelling == field_name:
            return False
        known.append(spelling)
        self._parse_options = None
        return True

    def _options(self) -> pj.ParseOptions:
        if self._parse_options is None:
            schema = pa.schema([pa.field("v", self._reader_type(self._root, ()))])
            self._parse_options = pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False
            )
        return self._parse_options

    def _reader_type(self, sql_type: t.SqlType, path: Path) -> pa.DataType:
        """The type the Arrow reader is asked for (see the module docstring's table)."""
        if isinstance(sql_type, t.Decimal):
            if sql_type.precision <= 38:
                return pa.decimal128(38, sql_type.scale)
            return pa.decimal256(76, sql_type.scale)
        if isinstance(sql_type, t.Array):
            return pa.list_(self._reader_type(sql_type.element, path))
        if isinstance(sql_type, t.Struct):
            fields: dict[str, pa.DataType] = {}
            variants = self._variants.get(path, {})
            for name, field_type in sql_type.fields:
                reader_type = self._reader_type(field_type, (*path, name))
                for spelling in [name, *variants.get(name, [])]:
                    fields.setdefault(spelling, reader_type)
            return pa.struct([pa.field(name, ftype) for name, ftype in fields.items()])
        if sql_type in (t.TIMESTAMP, t.DATE, t.TIME):
            return pa.int64()
        if sql_type == t.BYTES:
            return pa.string()
        return to_arrow(sql_type)

    # ---------------------------------------------------------------------------------------------
    # decoding

    def decode(self, data: pa.Array | pa.ChunkedArray, *, topic: str = "") -> DecodeResult:
        raw = as_binary(data)
        n = len(raw)
        assembly = BatchAssembly(self._columns, n)
        valid = _mask(raw.is_valid())
        assembly.null_record[~valid] = True
        candidates = valid.copy()
        if not self._fast:
            candidates[:] = False
        elif n:
            candidates &= (
                np.asarray(pc.fill_null(pc.binary_length(raw), 0).to_numpy(zero_copy_only=False)) > 0
            )
            offsets = binary_offsets(raw)
            values = raw.buffers()[2]
            if values is not None:
                text = values.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
                if b"\n" in text or b"\r" in text:
                    candidates &= ~_mask(pc.match_substring_regex(raw, "[\r\n]"))
        slow = [int(row) for row in np.flatnonzero(valid & ~candidates)]
        fast_rows = 0
        fast_index = np.flatnonzero(candidates)
        if len(fast_index):
            decoded, rejected = self._decode_fast(raw, fast_index, assembly)
            fast_rows = decoded
            slow.extend(int(row) for row in rejected)
        slow.sort()
        self._decode_slow(raw, slow, assembly, topic)
        return assembly.result(fast_rows=fast_rows, fallback_rows=len(slow))

    def _decode_slow(self, raw: pa.Array, rows: Sequence[int], assembly: BatchAssembly, topic: str) -> None:
        """ksqlDB's per-record path for the rows the reader did not take."""
        if not rows:
            return
        good_rows: list[int] = []
        good_values: list[list[object]] = []
        for row in rows:
            value, message, causes = self._rows.coerce(raw[row].as_py(), topic)
            if message is not None:
                assembly.fail(row, message, causes)
                continue
            if self._unwrapped:
                good_rows.append(row)
                good_values.append([value])
            elif value is None:
                assembly.null_record[row] = True
            else:
                good_rows.append(row)
                good_values.append([value[name] for name, _ in self._columns])
        assembly.add_python(good_rows, good_values)
        if self._fast:
            for path, name, spelling in self._rows.spellings.items():
                self._learn(path, name, spelling)
            self._rows.spellings.seen.clear()

    def _decode_fast(
        self, raw: pa.Array, index: np.ndarray, assembly: BatchAssembly
    ) -> tuple[int, list[int]]:
        """Read ``raw[index]`` with Arrow; returns (rows decoded, rows left for the per-row path)."""
        subset = raw if len(index) == len(raw) else raw.take(pa.array(index))
        rejected: list[int] = []
        wrapped = pc.binary_join_element_wise(_PREFIX, subset, _SUFFIX, _EMPTY)
        offsets = binary_offsets(wrapped)
        buffer = wrapped.buffers()[2]
        decoded = 0
        queue: list[tuple[int, int, int]] = [(0, len(index), 0)]
        while queue:
            start, stop, level = queue.pop()
            positions = np.arange(start, stop)
            outcome = self._attempt(buffer, offsets, start, stop)
            if outcome is None:
                while level < len(_SPLITS) and _SPLITS[level] >= stop - start:
                    level += 1
                if level >= len(_SPLITS):
                    rejected.extend(int(row) for row in index[positions])
                else:
                    size = _SPLITS[level]
                    queue.extend((s, min(s + size, stop), level + 1) for s in range(start, stop, size))
                continue
            root, flagged = outcome
            rejected.extend(int(row) for row in index[positions[flagged]])
            keep = ~flagged
            if not keep.all():
                root = root.filter(pa.array(keep))
                positions = positions[keep]
            decoded += len(positions)
            self._emit(index[positions], root, assembly)
        return decoded, rejected

    def _emit(self, rows: np.ndarray, root: pa.Array, assembly: BatchAssembly) -> None:
        if self._unwrapped:
            assembly.add_arrays(rows, [root])
            return
        assembly.null_record[rows] = _mask(root.is_null())
        assembly.add_arrays(rows, [root.field(i) for i in range(len(self._columns))])

    def _attempt(
        self, buffer: pa.Buffer, offsets: np.ndarray, start: int, stop: int
    ) -> tuple[pa.Array, np.ndarray] | None:
        """Read rows ``start:stop`` of the wrapped batch; None if the reader (or ksqlDB) disagrees."""
        chunk = buffer.slice(int(offsets[start]), int(offsets[stop] - offsets[start]))
        for _ in range(_MAX_RELEARN):
            try:
                table = pj.read_json(
                    pa.BufferReader(chunk), read_options=self._read_options, parse_options=self._options()
                )
            except (pa.ArrowException, ValueError):
                return None
            if table.num_rows != stop - start or table.num_columns != 1:
                return None
            column = table.column(0)
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
            try:
                return self._reconcile(column, self._root, ())
            except _Relearn:
                continue
        return None

    # ---------------------------------------------------------------------------------------------
    # from what the reader produced to the declared types

    def _reconcile(self, values: pa.Array, sql_type: t.SqlType, path: Path) -> tuple[pa.Array, np.ndarray]:
        """The reader's column as ``to_arrow(sql_type)``, and the rows ksqlDB must judge per-row."""
        n = len(values)
        none = np.zeros(n, dtype=bool)
        if isinstance(sql_type, t.Struct):
            return self._reconcile_struct(values, sql_type, path)
        if isinstance(sql_type, t.Array):
            offsets = np.asarray(values.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
            start, stop = int(offsets[0]), int(offsets[-1])
            elements, element_flags = self._reconcile(
                values.values.slice(start, stop - start), sql_type.element, path
            )
            flags = none
            if element_flags.any():
                owners = np.searchsorted(offsets, np.flatnonzero(element_flags) + start, side="right") - 1
                flags = none.copy()
                flags[owners] = True
            rebuilt = pa.ListArray.from_arrays(
                pa.array(offsets - start, pa.int32()), elements, mask=values.is_null()
            )
            return rebuilt.cast(to_arrow(sql_type)), flags
        if sql_type == t.DOUBLE:
            flags = _mask(pc.and_(values.is_valid(), pc.invert(pc.is_finite(values))))
            return pc.add(values, 0.0), flags  # JSON has no negative zero: -0 reads as 0
        if isinstance(sql_type, t.Decimal):
            whole_digits = sql_type.precision - sql_type.scale
            if whole_digits >= values.type.precision - values.type.scale:
                return values.cast(to_arrow(sql_type)), none
            limit = pa.scalar(decimal.Decimal(10) ** whole_digits, values.type)
            flags = _mask(pc.greater_equal(pc.abs(values), limit))
            if flags.any():
                values = pc.if_else(pa.array(flags), pa.scalar(None, values.type), values)
            return values.cast(to_arrow(sql_type)), flags
        if sql_type == t.TIMESTAMP:
            return values.cast(pa.timestamp("ms")), none
        if sql_type == t.DATE:
            flags = _mask(pc.or_(pc.less(values, -(2**31)), pc.greater(values, 2**31 - 1)))
            if flags.any():
                values = pc.if_else(pa.array(flags), pa.scalar(None, values.type), values)
            return values.cast(pa.int32()).cast(pa.date32()), flags
        if sql_type == t.TIME:
            flags = _mask(pc.or_(pc.less(values, 0), pc.greater(values, 86_400_000)))
            if flags.any():
                values = pc.if_else(pa.array(flags), pa.scalar(None, values.type), values)
            return values.cast(pa.int32()).cast(pa.time32("ms")), flags
        if sql_type == t.BYTES:
            return _base64_column(values)
        return values.cast(to_arrow(sql_type)), none

    def _reconcile_struct(
        self, values: pa.Array, sql_type: t.Struct, path: Path
    ) -> tuple[pa.Array, np.ndarray]:
        children = {values.type.field(i).name: values.field(i) for i in range(values.type.num_fields)}
        variants = self._variants.get(path, {})
        expected = {name for name, _ in sql_type.fields} | {
            s for spellings in variants.values() for s in spellings
        }
        learned = False
        for member in children:
            if member in expected:
                continue
            for name, _ in sql_type.fields:
                if member.upper() == name:
                    learned |= self._learn(path, name, member)
        if learned:
            raise _Relearn
        flags = np.zeros(len(values), dtype=bool)
        arrays = []
        for name, field_type in sql_type.fields:
            present = [children[s] for s in [name, *variants.get(name, [])] if s in children]
            combined = present[0]
            if len(present) > 1:
                # Two spellings filled in one record: ksqlDB's pick depends on member order.
                seen = _mask(present[0].is_valid())
                for child in present[1:]:
                    valid = _mask(child.is_valid())
                    flags |= seen & valid
                    seen |= valid
                combined = pc.coalesce(*present)
            child, child_flags = self._reconcile(combined, field_type, (*path, name))
            flags |= child_flags
            arrays.append(child)
        target = to_arrow(sql_type)
        rebuilt = pa.StructArray.from_arrays(arrays, fields=list(target), mask=values.is_null())
        return rebuilt, flags


def _base64_column(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Jackson's Base64 reading of a string column, value by value (C calls; rare in JSON)."""
    out: list[bytes | None] = []
    flags = np.zeros(len(values), dtype=bool)
    for row, text in enumerate(values.to_pylist()):
        if text is None:
            out.append(None)
            continue
        compact = "".join(text.split())
        try:
            if len(compact) % 4:
                raise binascii.Error("padding")
            out.append(binascii.a2b_base64(compact, strict_mode=True))
        except binascii.Error:
            flags[row] = True
            out.append(None)
    return pa.array(out, pa.binary()), flags
