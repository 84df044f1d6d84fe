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
from headwater.engine.formats.base import Columns, DecodeResult, fast_path_rows, true_mask
from headwater.engine.formats.json_rows import RowCoercer
from headwater.engine.types import to_arrow
from headwater.parser import types as t

__all__ = ["JsonDecoder", "binary_offsets", "fast_path_supported"]

# plain bytes, made Arrow scalars by the kernels on use (pyarrow imports pandas, when installed, on its
# first conversion of a Python value: importing this module must not)
_PREFIX = b'{"v":'
_SUFFIX = b"}\n"
_EMPTY = b""
_SPLITS = (4096, 128)
SMALL_BATCH = 32
"""Batches with fewer candidate rows go per-row: one Arrow read costs more than that many records."""
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


class JsonDecoder:
    """Decodes JSON keys or values for fixed columns (see the module docstring).

    Args:
        columns: the declared columns.
        is_key: decoding keys (for messages: ``Failed to deserialize key ...``).
        unwrapped: the single column is written bare (``10``) rather than in an object.
        vectorized: False decodes every record one at a time (to measure or check the fast path).
    """

    def __init__(self, columns: Columns, *, is_key: bool, unwrapped: bool, vectorized: bool = True) -> None:
        self._columns = tuple(columns)
        self._unwrapped = unwrapped
        self._root: t.SqlType = self._columns[0][1] if unwrapped else t.Struct(self._columns)
        self._rows = RowCoercer(self._root, "key" if is_key else "value")
        self._fast = vectorized and fast_path_supported(self._root)
        # Per struct path and field: the member spellings the reader is asked for (see _spelling_rules).
        self._spellings: dict[Path, dict[str, list[str]]] = {}
        self._permanent: set[tuple[Path, str, str]] = set()
        self._filled: set[tuple[Path, str, str]] = set()
        self._read_options = pj.ReadOptions(use_threads=True, block_size=1 << 22)
        self._parse_options: pj.ParseOptions | None = None
        self._chunk: pa.Array | None = None
        self._chunk_text: bytes | None = None
        self._chunk_flags = np.zeros(0, dtype=bool)
        self._initial_spellings(self._root, ())

    # ---------------------------------------------------------------------------------------------
    # spellings
    #
    # The reader is asked for each field under its *active* spellings: at first its own name, then
    # every spelling records turn out to use (found as inferred members, or by the per-row path).
    # After each batch the spellings that held no value are dropped again, so a stream that always
    # writes "id" for ID ends up asking for "id" alone, and needs no reconciliation at all. While a
    # field has two active spellings, a record whose value came from a variant is checked for the
    # other spellings in its text: ksqlDB would prefer a present exact member even if null, or the
    # last of two variants, and such records go per-row.

    def _initial_spellings(self, sql_type: t.SqlType, path: Path) -> None:
        if isinstance(sql_type, t.Array):
            self._initial_spellings(sql_type.element, path)
        elif isinstance(sql_type, t.Struct):
            names = [name for name, _ in sql_type.fields]
            fields = self._spellings.setdefault(path, {})
            for name in names:
                fields[name] = [name]
            for name in names:
                # a declared lower-case name is also a spelling of its upper-case sibling, for good
                if name.upper() != name and name.upper() in names:
                    fields[name.upper()].append(name)
                    self._permanent.add((path, name.upper(), name))
                    self._permanent.add((path, name, name))
            for name, field_type in sql_type.fields:
                self._initial_spellings(field_type, (*path, name))

    def _activate(self, path: Path, field_name: str, spelling: str) -> bool:
        active = self._spellings[path][field_name]
        if spelling in active:
            return False
        active.append(spelling)
        self._parse_options = None
        return True

    def _retire_unused(self) -> None:
        """Drop the spellings that held no value in the last batch (a field keeps at least one)."""
        changed = False
        for path, fields in self._spellings.items():
            for name, active in fields.items():
                if len(active) < 2:
                    continue
                used = [
                    s for s in active if (path, name, s) in self._filled or (path, name, s) in self._permanent
                ]
                if used and len(used) < len(active):
                    fields[name] = used
                    changed = True
        self._filled.clear()
        if changed:
            self._parse_options = None

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
            active = self._spellings[path]
            for name, field_type in sql_type.fields:
                reader_type = self._reader_type(field_type, (*path, name))
                for spelling in active[name]:
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
        assembly, raw, valid = BatchAssembly.for_bytes(self._columns, data)
        candidates = fast_path_rows(raw, valid, enabled=self._fast)
        if candidates.sum() < SMALL_BATCH:
            candidates[:] = False
        slow = [int(row) for row in np.flatnonzero(valid & ~candidates)]
        fast_rows = 0
        fast_index = np.flatnonzero(candidates)
        if len(fast_index):
            decoded, rejected = self._decode_fast(raw, fast_index, assembly)
            fast_rows = decoded
            slow.extend(int(row) for row in rejected)
            self._retire_unused()
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
                self._activate(path, name, spelling)
            self._rows.spellings.clear()

    def _decode_fast(
        self, raw: pa.Array, index: np.ndarray, assembly: BatchAssembly
    ) -> tuple[int, list[int]]:
        """Read ``raw[index]`` with Arrow; returns (rows decoded, rows left for the per-row path).

        A record holding a line break (pretty-printed JSON) cannot be read as one line: it fails the
        read, or splits into more objects than records, which the row count catches. Those records
        are only looked for when the whole batch fails, and sent per-row before the batch is split.
        """
        subset = raw if len(index) == len(raw) else raw.take(pa.array(index))
        rejected: list[int] = []
        first = self._attempt_all(subset)
        if first is not None:
            root, flagged = first
            positions = np.arange(len(index))
            rejected.extend(int(row) for row in index[flagged])
            if flagged.any():
                root = root.filter(pa.array(~flagged))
                positions = positions[~flagged]
            self._emit(index[positions], root, assembly)
            return len(positions), rejected
        broken = true_mask(pc.match_substring_regex(subset, "[\r\n]"))
        if broken.any():
            rejected.extend(int(row) for row in index[broken])
            index = index[~broken]
            subset = subset.filter(pa.array(~broken))
            if len(index) == 0:
                return 0, rejected
        wrapped = pc.binary_join_element_wise(_PREFIX, subset, _SUFFIX, _EMPTY)
        offsets = binary_offsets(wrapped)
        buffer = wrapped.buffers()[2]
        decoded = 0
        queue: list[tuple[int, int, int]]
        if broken.any():  # the rest may read whole now
            queue = [(0, len(index), 0)]
        else:  # it failed whole already: go straight to chunks
            size = _SPLITS[0]
            queue = [(s, min(s + size, len(index)), 1) for s in range(0, len(index), size)]
        while queue:
            start, stop, level = queue.pop()
            positions = np.arange(start, stop)
            outcome = self._attempt(buffer, offsets, start, stop, subset.slice(start, stop - start))
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

    def _attempt_all(self, subset: pa.Array) -> tuple[pa.Array, np.ndarray] | None:
        wrapped = pc.binary_join_element_wise(_PREFIX, subset, _SUFFIX, _EMPTY)
        return self._attempt(wrapped.buffers()[2], binary_offsets(wrapped), 0, len(subset), subset)

    def _emit(self, rows: np.ndarray, root: pa.Array, assembly: BatchAssembly) -> None:
        if self._unwrapped:
            assembly.add_arrays(rows, [root])
            return
        assembly.null_record[rows] = true_mask(root.is_null())
        assembly.add_arrays(rows, [root.field(i) for i in range(len(self._columns))])

    def _attempt(
        self, buffer: pa.Buffer, offsets: np.ndarray, start: int, stop: int, records: pa.Array
    ) -> tuple[pa.Array, np.ndarray] | None:
        """Read rows ``start:stop`` of the wrapped batch (``records`` are their raw bytes).

        Returns the decoded root and, per row, whether ksqlDB must judge it per-row; None when the
        reader fails (or yields other than one ``v`` per row)."""
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
            self._chunk, self._chunk_text = records, None
            self._chunk_flags = np.zeros(stop - start, dtype=bool)
            try:
                root = self._reconcile(column, self._root, (), np.arange(stop - start))
            except _Relearn:
                continue
            finally:
                self._chunk, self._chunk_text = None, None
            return root, self._chunk_flags
        return None

    # ---------------------------------------------------------------------------------------------
    # from what the reader produced to the declared types

    def _flag(self, owners: np.ndarray, mask: np.ndarray) -> None:
        """Send the records owning the masked elements per-row."""
        if mask.any():
            self._chunk_flags[owners[mask]] = True

    def _reconcile(self, values: pa.Array, sql_type: t.SqlType, path: Path, owners: np.ndarray) -> pa.Array:
        """The reader's column as ``to_arrow(sql_type)``. ``owners`` gives each element's record in the
        chunk; records ksqlDB must judge per-row are flagged in ``self._chunk_flags``."""
        if isinstance(sql_type, t.Struct):
            return self._reconcile_struct(values, sql_type, path, owners)
        if isinstance(sql_type, t.Array):
            offsets = np.asarray(values.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
            start, stop = int(offsets[0]), int(offsets[-1])
            element_owners = np.repeat(owners, np.diff(offsets))
            elements = self._reconcile(
                values.values.slice(start, stop - start), sql_type.element, path, element_owners
            )
            rebuilt = pa.ListArray.from_arrays(
                pa.array(offsets - start, pa.int32()), elements, mask=values.is_null()
            )
            return rebuilt.cast(to_arrow(sql_type))
        if sql_type == t.DOUBLE:
            self._flag(owners, true_mask(pc.and_(values.is_valid(), pc.invert(pc.is_finite(values)))))
            return pc.add(values, 0.0)  # JSON has no negative zero: -0 reads as 0
        if isinstance(sql_type, t.Decimal):
            whole_digits = sql_type.precision - sql_type.scale
            if whole_digits < values.type.precision - values.type.scale:
                limit = pa.scalar(decimal.Decimal(10) ** whole_digits, values.type)
                overflow = true_mask(pc.greater_equal(pc.abs(values), limit))
                if overflow.any():
                    self._flag(owners, overflow)
                    values = pc.if_else(pa.array(overflow), pa.scalar(None, values.type), values)
            return values.cast(to_arrow(sql_type))
        if sql_type == t.TIMESTAMP:
            return values.cast(pa.timestamp("ms"))
        if sql_type in (t.DATE, t.TIME):
            low, high = (-(2**31), 2**31 - 1) if sql_type == t.DATE else (0, 86_400_000)
            outside = true_mask(pc.or_(pc.less(values, low), pc.greater(values, high)))
            if outside.any():
                self._flag(owners, outside)
                values = pc.if_else(pa.array(outside), pa.scalar(None, values.type), values)
            storage = values.cast(pa.int32())
            return storage.cast(pa.date32()) if sql_type == t.DATE else storage.cast(pa.time32("ms"))
        if sql_type == t.BYTES:
            decoded, bad = _base64_column(values)
            self._flag(owners, bad)
            return decoded
        return values.cast(to_arrow(sql_type))

    def _reconcile_struct(
        self, values: pa.Array, sql_type: t.Struct, path: Path, owners: np.ndarray
    ) -> pa.Array:
        children = {values.type.field(i).name: values.field(i) for i in range(values.type.num_fields)}
        active = self._spellings[path]
        asked = {spelling for spellings in active.values() for spelling in spellings}
        learned = False
        for member in children:
            if member in asked:
                continue
            for name, _ in sql_type.fields:
                if member == name or member.upper() == name:
                    learned |= self._activate(path, name, member)
        if learned:
            raise _Relearn
        arrays = []
        for name, field_type in sql_type.fields:
            spellings = [s for s in active[name] if s in children]
            if not spellings:  # cannot happen with an explicit schema; be safe
                arrays.append(pa.nulls(len(values), to_arrow(field_type)))
                continue
            present = [self._reconcile(children[s], field_type, (*path, name), owners) for s in spellings]
            for spelling, child in zip(spellings, present):
                if child.null_count < len(child):
                    self._filled.add((path, name, spelling))
            combined = present[0]
            if len(present) > 1:
                combined = self._combine_spellings(name, spellings, present, owners)
            arrays.append(combined)
        target = to_arrow(sql_type)
        return pa.StructArray.from_arrays(arrays, fields=list(target), mask=values.is_null())

    def _combine_spellings(
        self, name: str, spellings: list[str], present: list[pa.Array], owners: np.ndarray
    ) -> pa.Array:
        """One field read under several spellings: the exact member if filled, else the one filled
        variant, unless the record's text names another spelling too (then ksqlDB's choice depends on
        member order or on an explicit null, and the record goes per-row)."""
        filled = [true_mask(child.is_valid()) for child in present]
        exact = spellings.index(name) if name in spellings else -1
        from_exact = filled[exact] if exact >= 0 else np.zeros(len(owners), dtype=bool)
        count = np.sum(filled, axis=0) if len(filled) > 2 else filled[0].astype(np.int64) + filled[1]
        ambiguous = ~from_exact & (count > 1)
        from_variant = ~from_exact & (count == 1)
        if from_variant.any() and self._chunk is not None:
            if self._chunk_text is None:
                self._chunk_text = _buffer_bytes(self._chunk)
            candidates: pa.Array | None = None
            records = np.zeros(0, dtype=np.int64)
            for spelling_index, spelling in enumerate(spellings):
                others = from_variant & ~filled[spelling_index]
                needle = ('"' + spelling + '"').encode()
                if not others.any() or needle not in self._chunk_text:  # one scan clears the chunk
                    continue
                if candidates is None:
                    involved = np.zeros(len(self._chunk), dtype=bool)
                    involved[owners[from_variant]] = True
                    records = np.flatnonzero(involved)
                    candidates = self._chunk.take(pa.array(records))
                named = true_mask(pc.match_substring(candidates, '"' + spelling + '"'))
                records_naming = set(records[named].tolist())
                ambiguous |= others & np.isin(owners, list(records_naming))
        self._flag(owners, ambiguous)
        if exact >= 0:
            return pc.coalesce(present[exact], *[p for i, p in enumerate(present) if i != exact])
        return pc.coalesce(*present)


def _buffer_bytes(values: pa.Array) -> bytes:
    """The bytes of a binary array's values, as one ``bytes`` (for fast substring scans)."""
    data = values.buffers()[2]
    if data is None or len(values) == 0:
        return b""
    offsets = binary_offsets(values)
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()


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
