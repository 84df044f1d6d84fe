"""URL functions: URL_ENCODE_PARAM, URL_DECODE_PARAM and URL_EXTRACT_FRAGMENT / HOST / PARAMETER /
PATH / PORT / PROTOCOL / QUERY.

ksqlDB parses URLs with ``java.net.URI`` (RFC 2396), whose rules this module reproduces in
:func:`parse_uri`: a URL with characters URI forbids (a space, ``"``, ``<``, a stray ``%``...) fails
the row ("URL input has invalid syntax"); a scheme followed by something other than ``/`` makes an
opaque URI with no host, path or query; a host that is not a valid host name (``test_host``) leaves
the host NULL; components come back percent-decoded. :func:`parse_uri_column` does this for a whole
column (two RE2 matches validate every URL, components are cut at delimiter positions when first
read, then percent-decoded on the bytes); :func:`parse_uri` is the same rules for one value,
kept as the readable statement of them and as the reference the column version is tested against.

The parameter encoders are vectorized over the UTF-8 bytes: URL_ENCODE_PARAM is Guava's form
parameter escaper (letters, digits and ``-_.*`` stay, a space becomes ``+``, everything else
``%XX``), URL_DECODE_PARAM is Java's ``URLDecoder`` (``+`` is a space, a malformed escape fails).

Example:
    >>> parse_uri("http://user@test.com:8080/a%20b?x=1#frag").path
    '/a b'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from headwater.engine.functions.columns import apply_by_distinct, as_array, as_numpy, valid_mask
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.engine.functions.text import buffers, from_buffers, gather_spans, spans_to_strings
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "ParsedUri", "UriColumns", "parse_uri", "parse_uri_column"]

CATEGORY = "URL"

# --------------------------------------------------------------------------------------------------------
# java.net.URI

_ESCAPED = r"%[0-9A-Fa-f]{2}"
_UNRESERVED_OTHER = r"A-Za-z0-9\-_.!~*'()\u0080-\U0010ffff"
_URIC = rf"(?:[{_UNRESERVED_OTHER};/?:@&=+$,\[\]]|{_ESCAPED})"
_PCHAR_PATH = rf"(?:[{_UNRESERVED_OTHER};/:@&=+$,]|{_ESCAPED})"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_URIC_RUN = re.compile(rf"{_URIC}*\Z")
_PATH_RUN = re.compile(rf"{_PCHAR_PATH}*\Z")
_QUERY_RUN = re.compile(rf"{_URIC}*\Z")
_AUTHORITY_RUN = re.compile(rf"(?:[{_UNRESERVED_OTHER};:@&=+$,\[\]]|{_ESCAPED})*\Z")
_HOSTNAME = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.?\Z")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}\Z")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+(?:%[^\]]*)?\]\Z")
_USERINFO = re.compile(rf"(?:[{_UNRESERVED_OTHER};:&=+$,]|{_ESCAPED})*\Z")


@dataclass(frozen=True, slots=True)
class ParsedUri:
    """The decoded components ``java.net.URI`` reports (None where URI gives null, -1 port)."""

    scheme: str | None
    host: str | None
    port: int
    path: str | None
    query: str | None
    fragment: str | None


def _decode(text: str | None) -> str | None:
    """``URI.decode``: percent escapes as UTF-8, everything else as is."""
    if text is None or "%" not in text:
        return text
    raw = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "%" and re.match(r"[0-9A-Fa-f]{2}\Z", text[i + 1 : i + 3]):
            raw.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(text[i].encode("utf-8"))
            i += 1
    return raw.decode("utf-8", errors="replace")


def _server_authority(authority: str) -> tuple[str | None, int]:
    """(host, port) of a server-based authority, or (None, -1) when it is registry-based."""
    rest = authority
    if "@" in rest:
        userinfo, _, rest = rest.partition("@")
        if not _USERINFO.match(userinfo):
            return None, -1
    port = -1
    host = rest
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return None, -1
        host, tail = rest[: close + 1], rest[close + 1 :]
        if tail:
            if not tail.startswith(":") or (not tail[1:].isdigit() and tail != ":"):
                return None, -1
            port = int(tail[1:]) if tail[1:] else -1
        return (host, port) if _IPV6.match(host) else (None, -1)
    if ":" in rest:
        host, _, port_text = rest.rpartition(":")
        if port_text:
            if not port_text.isascii() or not port_text.isdigit():
                return None, -1
            port = int(port_text)
    if _IPV4.match(host) or _HOSTNAME.match(host):
        return host, port
    return None, -1


@lru_cache(maxsize=4096)
def parse_uri(url: str) -> ParsedUri:
    """Parse like ``new java.net.URI(url)``.

    Raises:
        FunctionError: the URL is not valid URI syntax.
    """
    invalid = FunctionError(f"URL input has invalid syntax: {url}")
    rest, hash_mark, fragment = url.partition("#")
    fragment_text: str | None = fragment if hash_mark else None
    if fragment_text is not None and not _URIC_RUN.match(fragment_text):
        raise invalid
    scheme = None
    match = _SCHEME.match(rest)
    if match and rest[match.end() : match.end() + 1] == ":":
        scheme = match.group()
        rest = rest[match.end() + 1 :]
        if rest == "":
            raise invalid  # "Expected scheme-specific part"
        if not rest.startswith("/"):
            if not _URIC_RUN.match(rest):
                raise invalid
            return ParsedUri(scheme, None, -1, None, None, _decode(fragment_text))
    elif re.match(r"[^/?#]*:", rest):
        raise invalid  # a ':' before any '/', '?' or '#' must end a valid scheme name
    path_part, question, query = rest.partition("?")
    query_text: str | None = query if question else None
    if query_text is not None and not _QUERY_RUN.match(query_text):
        raise invalid
    host: str | None = None
    port = -1
    if path_part.startswith("//"):
        after = path_part[2:]
        slash = after.find("/")
        authority, path = (after, "") if slash < 0 else (after[:slash], after[slash:])
        if authority:
            if not _AUTHORITY_RUN.match(authority):
                raise invalid
            host, port = _server_authority(authority)
        elif scheme is not None and path == "" and query_text is None and fragment_text is None:
            raise invalid  # "Expected authority"
    else:
        path = path_part
    if not _PATH_RUN.match(path):
        raise invalid
    return ParsedUri(scheme, host, port, _decode(path), _decode(query_text), _decode(fragment_text))


# --------------------------------------------------------------------------------------------------------
# java.net.URI over a whole column

# A whole URL is validated by two RE2 matches (with and without a scheme): the grammar is regular and
# plain matching runs as a DFA. The components are then cut at delimiter positions found with Arrow's
# substring search (one byte offset per row), each only when asked for.
_RE2_SCHEME = r"^[A-Za-z][A-Za-z0-9+.\-]*:"
_HOST_PORT = r"^(?:\[[^\]]*\]|[^:\[\]]*)(?::[^:]*)?$"
_RE2_OTHER = r"\x{80}-\x{10FFFF}"
_RE2_UNRESERVED = rf"A-Za-z0-9\-_.!~*'(){_RE2_OTHER}"
_RE2_ESCAPED = r"%[0-9A-Fa-f]{2}"


def _chars(chars: str) -> str:
    return rf"(?:[{chars}]|{_RE2_ESCAPED})"


def _run(chars: str) -> str:
    return rf"^{_chars(chars)}*$"


_URIC_CHARS = _RE2_UNRESERVED + r";/?:@&=+$,\[\]"
_PATH_CHARS = _RE2_UNRESERVED + r";/:@&=+$,"
_AUTHORITY_CHARS = _RE2_UNRESERVED + r";:@&=+$,\[\]"
_RE2_USERINFO = _run(_RE2_UNRESERVED + r";:&=+$,")
_RE2_HOST = (
    r"^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.?"
    r"|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+(?:%[^\]]*)?\])$"
)
_U = _chars(_URIC_CHARS) + "*"
_P = _chars(_PATH_CHARS) + "*"
_A = _chars(_AUTHORITY_CHARS) + "*"
_QUERY_FRAGMENT = rf"(?:\?{_U})?(?:#{_U})?$"
# The authority runs to the first '/' or '?'; a string whose longest such run is not a valid authority
# is not a valid path either (every path character but '/' is an authority character), so "//"
# followed by a path is not tried separately.
_RE2_VALID_WITH_SCHEME = (
    rf"^[A-Za-z][A-Za-z0-9+.\-]*:(?:"
    rf"{_chars(_URIC_CHARS.replace('/', ''))}{_U}(?:#{_U})?$"  # opaque: anything but '/' first
    rf"|//{_A}{_P}{_QUERY_FRAGMENT}"
    rf"|/{_P}{_QUERY_FRAGMENT})"
)
_RE2_VALID_WITHOUT_SCHEME = rf"^(?://{_A}{_P}|{_P}){_QUERY_FRAGMENT}"
_RE2_EMPTY_SERVER = r"^[A-Za-z][A-Za-z0-9+.\-]*://$"  # "Expected authority"


def _positions(values: pa.Array, needle: str) -> np.ndarray:
    """Byte offset of the first ``needle`` in each row, -1 when absent or NULL."""
    return as_numpy(pc.find_substring(values, needle), fill=-1).astype(np.int64)


def _bool(values: pa.Array, *, null: bool) -> np.ndarray:
    return as_numpy(values, fill=null).astype(bool)


def _cut(values: pa.Array, start: np.ndarray, stop: np.ndarray, present: np.ndarray) -> pa.Array:
    """Bytes ``[start, stop)`` of each row (offsets within the row, at ASCII delimiters, so the pieces
    stay valid UTF-8); NULL where ``present`` is False or the row is NULL."""
    offsets, data = buffers(values)
    begin = offsets[:-1] + np.where(present, start, 0)
    end = offsets[:-1] + np.where(present, stop, 0)
    new_offsets, new_data = gather_spans(data, begin, end)
    return from_buffers(pa.string(), new_offsets, new_data, pa.array(present & valid_mask(values)))


def _row_lengths(values: pa.Array) -> np.ndarray:
    offsets, _ = buffers(values)
    return offsets[1:] - offsets[:-1]


def _matches(values: pa.Array, regex: str) -> np.ndarray:
    """True where the value matches (NULL values count as matching)."""
    return _bool(pc.match_substring_regex(values, regex), null=True)


def _percent_decode(values: pa.Array) -> pa.Array:
    """``URI.decode`` of validated components: each ``%XX`` becomes its byte, read as UTF-8."""
    offsets, data = buffers(values)
    chunk = data[offsets[0] : offsets[-1]].copy()
    relative = offsets - offsets[0]
    percent = np.flatnonzero(chunk == ord("%"))
    if not len(percent):
        return values
    chunk[percent] = (_hex_values(chunk[percent + 1]) * 16 + _hex_values(chunk[percent + 2])).astype(np.uint8)
    keep = np.ones(len(chunk), dtype=bool)
    keep[percent + 1] = False
    keep[percent + 2] = False
    kept_before = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
    validity = values.is_valid() if values.null_count else None
    decoded = from_buffers(pa.binary(), kept_before[relative], chunk[keep], validity)
    try:
        return decoded.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array(
            [None if v is None else v.decode("utf-8", errors="replace") for v in decoded.to_pylist()], pa.string()
        )


class UriColumns:
    """The components ``java.net.URI`` reports for a column of URLs (NULL where URI gives null), each
    computed on first use: ``[scheme:]rest[#fragment]``, where a hierarchical ``rest`` is
    ``[//authority]path[?query]`` and a server authority is ``[userinfo@]host[:port]``."""

    def __init__(self, urls: pa.Array, has_scheme: np.ndarray) -> None:
        self._urls = urls
        self._present = valid_mask(urls)
        self._length = _row_lengths(urls)
        self._has_scheme = has_scheme
        self._colon = _positions(urls, ":")
        hash_at = _positions(urls, "#")
        self._hash = hash_at
        self._has_hash = hash_at >= 0
        self._rest_start = np.where(has_scheme, self._colon + 1, 0)
        self._rest_stop = np.where(self._has_hash, hash_at, self._length)
        offsets, data = buffers(urls)
        first = np.minimum(offsets[:-1] + self._rest_start, max(len(data) - 1, 0))
        second = np.minimum(first + 1, max(len(data) - 1, 0))
        rest_length = self._rest_stop - self._rest_start
        slash = (data[first] == ord("/")) & (rest_length >= 1) if len(data) else np.zeros(len(urls), bool)
        self._hierarchical = self._present & (~has_scheme | slash)
        self._slashes = self._hierarchical & slash & (rest_length >= 2) & (
            data[second] == ord("/") if len(data) else False
        )
        question = _positions(urls, "?")
        self._has_query = self._hierarchical & (question >= 0) & (question < self._rest_stop)
        self._question = question
        self._path_stop = np.where(self._has_query, question, self._rest_stop)

    @cached_property
    def scheme(self) -> pa.Array:
        return _cut(self._urls, np.zeros_like(self._length), self._colon, self._has_scheme)

    @cached_property
    def fragment(self) -> pa.Array:
        return _percent_decode(_cut(self._urls, self._hash + 1, self._length, self._has_hash))

    @cached_property
    def query(self) -> pa.Array:
        return _percent_decode(_cut(self._urls, self._question + 1, self._rest_stop, self._has_query))

    @cached_property
    def _authority_stop(self) -> np.ndarray:
        after = _cut(self._urls, self._rest_start + 2, self._path_stop, self._slashes)
        slash = _positions(after, "/")
        return self._rest_start + 2 + np.where(slash >= 0, slash, _row_lengths(after))

    @cached_property
    def path(self) -> pa.Array:
        start = np.where(self._slashes, self._authority_stop, self._rest_start)
        return _percent_decode(_cut(self._urls, start, self._path_stop, self._hierarchical))

    @cached_property
    def _server(self) -> tuple[pa.Array, pa.Array]:
        authority = _cut(self._urls, self._rest_start + 2, self._authority_stop, self._slashes)
        host, port_text, userinfo = _server_parts(authority)
        server = (
            valid_mask(host)
            & _matches(userinfo, _RE2_USERINFO)
            & _matches(port_text, r"^[0-9]*$")
            & _bool(pc.match_substring_regex(host, _RE2_HOST), null=False)
        )
        nothing = pa.scalar(None, pa.string())
        host = pc.if_else(pa.array(server), host, nothing)
        port_digits = pc.if_else(pa.array(server), port_text, nothing)
        port = pc.cast(pc.if_else(pc.equal(port_digits, ""), nothing, port_digits), pa.int64())
        port = pc.if_else(pc.greater(port, 2**31 - 1), pa.scalar(None, pa.int64()), port).cast(pa.int32())
        return host, port

    @property
    def host(self) -> pa.Array:
        return self._server[0]

    @property
    def port(self) -> pa.Array:
        return self._server[1]


def parse_uri_column(urls: pa.Array) -> UriColumns:
    """Parse every URL of a column like ``new java.net.URI(url)`` (see :func:`parse_uri`): the whole
    column is validated here, its components are cut when first read.

    Raises:
        FunctionError: some URL is not valid URI syntax (the row retry then fails only those rows).
    """
    present = valid_mask(urls)
    has_scheme = present & _bool(pc.match_substring_regex(urls, _RE2_SCHEME), null=False)
    valid = np.where(
        has_scheme,
        _matches(urls, _RE2_VALID_WITH_SCHEME) & ~_bool(pc.match_substring_regex(urls, _RE2_EMPTY_SERVER), null=False),
        _matches(urls, _RE2_VALID_WITHOUT_SCHEME) & ~_bool(pc.match_substring_regex(urls, r"^[^/?#]*:"), null=False),
    )
    bad = present & ~valid
    if bad.any():
        raise FunctionError(f"URL input has invalid syntax: {urls[int(np.flatnonzero(bad)[0])].as_py()}")
    return UriColumns(urls, has_scheme)


def _server_parts(authority: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(host, port text, userinfo) of ``[userinfo@]host[:port]`` with host a bracketed IPv6 literal or
    a run without ``:[]``: the userinfo runs to the first ``@`` when the remainder has that shape,
    else the whole authority must; NULLs where neither does (and NULL port / userinfo when absent)."""
    present = valid_mask(authority)
    length = _row_lengths(authority)
    at = _positions(authority, "@")
    after_at = _cut(authority, at + 1, length, present & (at >= 0))
    with_userinfo = (at >= 0) & _bool(pc.match_substring_regex(after_at, _HOST_PORT), null=False)
    whole = ~with_userinfo & present & _bool(pc.match_substring_regex(authority, _HOST_PORT), null=False)
    server = with_userinfo | whole
    start = np.where(with_userinfo, at + 1, 0)
    host_port = _cut(authority, start, length, server)
    bracket = _bool(pc.starts_with(host_port, "["), null=False)
    close = _positions(host_port, "]")
    colon = _positions(host_port, ":")
    host_port_length = _row_lengths(host_port)
    host_stop = np.where(bracket, close + 1, np.where(colon >= 0, colon, host_port_length))
    host = _cut(host_port, np.zeros_like(length), host_stop, server)
    has_port = server & (host_stop < host_port_length)
    port = _cut(host_port, host_stop + 1, host_port_length, has_port)
    userinfo = _cut(authority, np.zeros_like(length), at, with_userinfo)
    return host, port, userinfo


# --------------------------------------------------------------------------------------------------------
# Form-parameter encoding, vectorized on the UTF-8 bytes

_SAFE = np.zeros(256, dtype=bool)
for _byte in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*":
    _SAFE[_byte] = True
_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _encode_param(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)
    offsets, data = buffers(values)
    chunk = data[offsets[0] : offsets[-1]]
    safe = _SAFE[chunk]
    space = chunk == ord(" ")
    sizes = np.where(safe | space, 1, 3)
    positions = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out = np.empty(int(positions[-1]), dtype=np.uint8)
    start = positions[:-1]
    out[start[safe]] = chunk[safe]
    out[start[space]] = ord("+")
    escaped = ~(safe | space)
    out[start[escaped]] = ord("%")
    out[start[escaped] + 1] = _HEX[chunk[escaped] >> 4]
    out[start[escaped] + 2] = _HEX[chunk[escaped] & 0x0F]
    new_offsets = positions[offsets - offsets[0]]
    return from_buffers(pa.string(), new_offsets, out, values.is_valid() if values.null_count else None)


def _hex_values(codes: np.ndarray) -> np.ndarray:
    out = np.full(len(codes), -1, dtype=np.int16)
    for low, high, base in ((48, 57, 0), (65, 70, 10), (97, 102, 10)):
        inside = (codes >= low) & (codes <= high)
        out[inside] = codes[inside].astype(np.int16) - low + base
    return out


def _decode_param(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    values = as_array(args[0], ctx.length)
    offsets, data = buffers(values)
    chunk = data[offsets[0] : offsets[-1]].copy()
    relative = offsets - offsets[0]
    percent = np.flatnonzero(chunk == ord("%"))
    if len(percent):
        row_end = relative[1:][np.searchsorted(relative[1:], percent, side="right")]
        if (percent + 2 >= row_end).any():
            raise FunctionError("URLDecoder: Incomplete trailing escape (%) pattern")
        high = _hex_values(chunk[percent + 1])
        low = _hex_values(chunk[percent + 2])
        if (high < 0).any() or (low < 0).any():
            raise FunctionError("URLDecoder: Illegal hex characters in escape (%) pattern")
        chunk[percent] = (high * 16 + low).astype(np.uint8)
    keep = np.ones(len(chunk), dtype=bool)
    if len(percent):
        keep[percent + 1] = False
        keep[percent + 2] = False
    plus = (chunk == ord("+")) & keep
    plus[percent] = False
    chunk[plus] = ord(" ")
    kept_before = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
    decoded = from_buffers(pa.binary(), kept_before[relative], chunk[keep], values.is_valid() if values.null_count else None)
    try:
        return decoded.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array(
            [None if v is None else v.decode("utf-8", errors="replace") for v in decoded.to_pylist()], pa.string()
        )


def _component_kernel(component: str) -> Callable[[Sequence[Datum], CallContext], pa.Array]:
    def kernel(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
        parsed = parse_uri_column(as_array(args[0], ctx.length))
        return getattr(parsed, component)

    kernel.__name__ = f"url_extract_{component}"
    return kernel


def _extract_parameter(args: Sequence[Datum], ctx: CallContext) -> pa.Array:
    """The first ``name[=value]`` of the decoded query: its value, '' without one, NULL if absent."""
    query = parse_uri_column(as_array(args[0], ctx.length)).query

    def compute(name: str, rows: np.ndarray) -> pa.Array:
        subset = query.take(pa.array(rows)) if len(rows) != ctx.length else query
        pattern = rf"(?:^|&){re.escape(name)}(?P<value>=[^&]*)?(?:&|$)"
        spans = pc.extract_regex_span(subset, pattern=pattern)
        matched = pc.is_valid(spans)
        value = spans_to_strings(subset, pc.struct_field(spans, ["value"]))
        text = pc.if_else(pc.is_valid(value), pc.utf8_slice_codeunits(value, 1), "")
        return pc.if_else(matched, text, pa.scalar(None, pa.string()))

    return apply_by_distinct(args[1], ctx.length, pa.string(), compute)


_URL = Param("input", t.STRING, "A valid URL.")


def _extractor(name: str, description: str, component: str, returns: t.SqlType) -> ScalarFunction:
    return ScalarFunction(name, CATEGORY, description, (Signature((_URL,), returns, _component_kernel(component)),))


FUNCTIONS: tuple[ScalarFunction, ...] = (
    ScalarFunction(
        "url_encode_param",
        CATEGORY,
        "Returns a version of the input with all URL sensitive characters encoded using the "
        "application/x-www-form-urlencoded standard.",
        (Signature((Param("input", t.STRING, "The value to encode."),), t.STRING, _encode_param),),
    ),
    ScalarFunction(
        "url_decode_param",
        CATEGORY,
        "Returns a version of the input with all URL encoded characters decoded.",
        (Signature((Param("input", t.STRING, "The value to decode."),), t.STRING, _decode_param),),
    ),
    _extractor("url_extract_fragment", "Extracts the decoded fragment of a URL, or NULL if it has none.",
               "fragment", t.STRING),
    _extractor("url_extract_host", "Extracts the host-name of a URL, or NULL if it has no valid host.",
               "host", t.STRING),
    _extractor("url_extract_path", "Extracts the decoded path of a URL ('' when empty, NULL when opaque).",
               "path", t.STRING),
    _extractor("url_extract_port", "Extracts the port of a URL, or NULL if it has no explicit port.", "port", t.INT),
    _extractor("url_extract_protocol", "Extracts the protocol (scheme) of a URL, or NULL if it has none.",
               "scheme", t.STRING),
    _extractor("url_extract_query", "Extracts the decoded query-string of a URL, or NULL if it has none.",
               "query", t.STRING),
    ScalarFunction(
        "url_extract_parameter",
        CATEGORY,
        "Extracts the decoded value of a parameter of the query-string of a URL; '' when the parameter "
        "has no value, NULL when it is absent.",
        (Signature((_URL, Param("paramToFind", t.STRING, "The parameter key.")), t.STRING, _extract_parameter),),
    ),
)
