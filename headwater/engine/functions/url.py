"""URL functions: URL_ENCODE_PARAM, URL_DECODE_PARAM and URL_EXTRACT_FRAGMENT / HOST / PARAMETER /
PATH / PORT / PROTOCOL / QUERY.

ksqlDB parses URLs with ``java.net.URI`` (RFC 2396), whose rules this module reproduces in
:func:`parse_uri`: a URL with characters URI forbids (a space, ``"``, ``<``, a stray ``%``...) fails
the row ("URL input has invalid syntax"); a scheme followed by something other than ``/`` makes an
opaque URI with no host, path or query; a host that is not a valid host name (``test_host``) leaves
the host NULL; components come back percent-decoded. Parsing is per row in Python (with a cache, as
URLs repeat), listed in docs/architecture.md.

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
from functools import lru_cache

import numpy as np
import pyarrow as pa

from headwater.engine.functions.columns import as_array
from headwater.engine.functions.registry import (
    CallContext,
    Datum,
    FunctionError,
    Param,
    ScalarFunction,
    Signature,
    rowwise,
)
from headwater.engine.functions.text import buffers, from_buffers
from headwater.parser import types as t

__all__ = ["FUNCTIONS", "ParsedUri", "parse_uri"]

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
        userinfo, _, rest = rest.rpartition("@")
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
    elif rest.startswith(":"):
        raise invalid  # "Expected scheme name"
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


def _component(getter: Callable[[ParsedUri], object]) -> Callable[[str], object]:
    def extract(url: str) -> object:
        return getter(parse_uri(url))

    return extract


def _extract_parameter(url: str, name: str) -> str | None:
    query = parse_uri(url).query
    if query is None:
        return None
    for param in query.split("&"):
        key, equals, value = param.partition("=")
        if key == name:
            return value if equals else ""
    return None


def _port(url: str) -> int | None:
    port = parse_uri(url).port
    return None if port == -1 else port


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


_URL = Param("input", t.STRING, "A valid URL.")


def _extractor(name: str, description: str, getter: Callable[[ParsedUri], object], returns: t.SqlType
               ) -> ScalarFunction:
    return ScalarFunction(name, CATEGORY, description, (Signature((_URL,), returns, rowwise(_component(getter))),))


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
               lambda u: u.fragment, t.STRING),
    _extractor("url_extract_host", "Extracts the host-name of a URL, or NULL if it has no valid host.",
               lambda u: u.host, t.STRING),
    _extractor("url_extract_path", "Extracts the decoded path of a URL ('' when empty, NULL when opaque).",
               lambda u: u.path, t.STRING),
    ScalarFunction(
        "url_extract_port",
        CATEGORY,
        "Extracts the port of a URL, or NULL if it has no explicit port.",
        (Signature((_URL,), t.INT, rowwise(_port)),),
    ),
    _extractor("url_extract_protocol", "Extracts the protocol (scheme) of a URL, or NULL if it has none.",
               lambda u: u.scheme, t.STRING),
    _extractor("url_extract_query", "Extracts the decoded query-string of a URL, or NULL if it has none.",
               lambda u: u.query, t.STRING),
    ScalarFunction(
        "url_extract_parameter",
        CATEGORY,
        "Extracts the decoded value of a parameter of the query-string of a URL; '' when the parameter "
        "has no value, NULL when it is absent.",
        (
            Signature(
                (_URL, Param("paramToFind", t.STRING, "The parameter key.")),
                t.STRING,
                rowwise(_extract_parameter),
            ),
        ),
    ),
)
