"""The ASGI plumbing under the endpoints: reading requests within limits, writing whole and streamed
responses, content negotiation, and noticing when a client goes away.

The server speaks plain ASGI (Hypercorn runs it over HTTP/1.1 and HTTP/2), so these few helpers are all
the framework it needs:

* :class:`HttpRequest` reads the body with a size limit (a ``Content-Length`` over the limit is refused
  before a byte is read), parses JSON bodies into ksqlDB's error bodies when malformed, yields the
  newline-delimited records of a streamed body (``/inserts-stream``), normalises absolute-form request
  targets (``POST http://host:8088/ksql``) to their path, and watches for the client's disconnect once
  the body is read, so a streamed response can stop at once.
* :class:`StreamingResponse` starts a response and writes chunks; writes after a disconnect are dropped.
* :func:`choose_media_type` picks the response type from ``Accept`` as Vert.x does for ksqlDB: the first
  offered type matched by the highest-weighted range; ``*/*`` or no header picks the first offered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from headwater.server.errors import ApiError
from headwater.server.values import dumps, loads_exact

__all__ = [
    "JSON_TYPE",
    "HttpRequest",
    "Receive",
    "Scope",
    "Send",
    "StreamingResponse",
    "choose_media_type",
    "send_error",
    "send_json",
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON_TYPE = "application/json"


class HttpRequest:
    """One request: method, path, headers, and its body read within ``max_body_bytes``.

    Args:
        scope: the ASGI scope.
        receive: the ASGI receive callable.
        max_body_bytes: the largest body (or, for streamed bodies, the largest record) accepted.
    """

    def __init__(self, scope: Scope, receive: Receive, max_body_bytes: int) -> None:
        self.scope = scope
        self._receive = receive
        self.max_body_bytes = max_body_bytes
        self.method: str = scope.get("method", "GET").upper()
        self.path: str = _normalise_path(scope.get("path", "/"))
        self.http_version: str = scope.get("http_version", "1.1")
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.headers = headers
        self.disconnected = asyncio.Event()
        self._body_done = False
        self._watcher: asyncio.Task[None] | None = None

    # -- body ------------------------------------------------------------------------------------------
    def check_declared_length(self) -> None:
        """Refuse a body whose declared length is over the limit before reading any of it.

        Raises:
            ApiError: 413, or 400 for a ``Content-Length`` that is not a number.
        """
        declared = self.headers.get("content-length")
        if declared is None:
            return
        try:
            length = int(declared)
        except ValueError:
            raise ApiError.bad_request(f"Invalid Content-Length header: {declared!r}") from None
        if length > self.max_body_bytes:
            raise ApiError.too_large(self.max_body_bytes)

    async def _next_chunk(self) -> bytes | None:
        """The next body chunk, or None once the body is complete (or the client left)."""
        if self._body_done:
            return None
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._body_done = True
            self.disconnected.set()
            return None
        if not message.get("more_body", False):
            self._body_done = True
        return bytes(message.get("body", b""))

    async def body(self) -> bytes:
        """The whole body.

        Raises:
            ApiError: 413 when it is larger than ``max_body_bytes``.
        """
        self.check_declared_length()
        parts: list[bytes] = []
        size = 0
        while (chunk := await self._next_chunk()) is not None:
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ApiError.too_large(self.max_body_bytes)
            parts.append(chunk)
        return b"".join(parts)

    async def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (numbers with a fraction as exact decimals).

        Raises:
            ApiError: 400 for malformed JSON or a body that is not an object; 413 when too large.
        """
        raw = await self.body()
        return parse_json_object(raw, "request")

    async def records(self) -> AsyncIterator[bytes]:
        """The body's newline-delimited records as they arrive (blank lines skipped); each record is
        limited to ``max_body_bytes``, the stream as a whole is not.

        Raises:
            ApiError: 413 when one record is larger than the limit.
        """
        pending = b""
        while (chunk := await self._next_chunk()) is not None:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for record in complete:
                if len(record) > self.max_body_bytes:
                    raise ApiError.too_large(self.max_body_bytes)
                if record.strip():
                    yield record
            if len(pending) > self.max_body_bytes:
                raise ApiError.too_large(self.max_body_bytes)
        if pending.strip():
            yield pending

    @property
    def body_unread(self) -> bool:
        """Whether part of the body was never read (an early error answer)."""
        return not self._body_done

    def closing_headers(self) -> list[tuple[str, str]]:
        """``Connection: close`` for an HTTP/1 answer sent before the body was read, so the unread
        rest of it is not taken for the next request."""
        if self.body_unread and self.http_version.startswith("1"):
            return [("connection", "close")]
        return []

    # -- disconnects ------------------------------------------------------------------------------------
    def watch_for_disconnect(self) -> None:
        """After the body is read: set :attr:`disconnected` when the client goes away."""
        if self._watcher is not None:
            return

        async def watch() -> None:
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    self.disconnected.set()
                    return

        self._watcher = asyncio.get_running_loop().create_task(watch())

    async def close(self) -> None:
        """Stop watching (the response is complete)."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watcher


def parse_json_object(raw: bytes, what: str) -> dict[str, Any]:
    """``raw`` as a JSON object, or ksqlDB's 400 body saying why not."""
    try:
        document = loads_exact(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ApiError.bad_request(f"Malformed JSON in {what}: not UTF-8 ({error.reason})") from None
    except ValueError as error:
        raise ApiError.bad_request(f"Malformed JSON in {what}: {error}") from None
    if not isinstance(document, dict):
        raise ApiError.bad_request(f"Malformed JSON in {what}: expected a JSON object")
    return document


def _normalise_path(path: str) -> str:
    """The path of an origin-form or absolute-form request target, without a trailing slash."""
    if path.startswith(("http://", "https://")):
        path = urlsplit(path).path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def choose_media_type(accept: str | None, offered: Iterable[str]) -> str:
    """The offered type the ``Accept`` header prefers.

    Example:
        >>> offered = ["application/vnd.ksqlapi.delimited.v1", "application/json"]
        >>> choose_media_type("application/json", offered), choose_media_type("*/*", offered)
        ('application/json', 'application/vnd.ksqlapi.delimited.v1')
    """
    choices = list(offered)
    if not accept:
        return choices[0]
    best: tuple[float, int] | None = None
    chosen = choices[0]
    for position, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for parameter in pieces[1:]:
            if parameter.startswith("q="):
                try:
                    quality = float(parameter[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        match = next((c for c in choices if _matches(media, c)), None)
        if match is None:
            continue
        rank = (quality, -position)
        if best is None or rank > best:
            best, chosen = rank, match
    return chosen


def _matches(media_range: str, media_type: str) -> bool:
    if media_range in ("*/*", "*"):
        return True
    if media_range.endswith("/*"):
        return media_type.startswith(media_range[:-1])
    return media_range == media_type


async def send_json(send: Send, status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
    """A complete JSON response."""
    body = dumps(document)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", JSON_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_error(send: Send, error: ApiError, headers: Iterable[tuple[str, str]] = ()) -> None:
    """ksqlDB's error body for ``error`` with its status."""
    await send_json(send, error.status, error.to_json(), headers)


class StreamingResponse:
    """A response written in pieces as they are ready (chunked on HTTP/1.1, DATA frames on HTTP/2)."""

    def __init__(self, send: Send, request: HttpRequest) -> None:
        self._send = send
        self._request = request
        self.started = False
        self.ended = False

    @property
    def client_gone(self) -> bool:
        return self._request.disconnected.is_set()

    async def start(self, status: int, content_type: str) -> None:
        await self._send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        self.started = True

    async def write(self, data: bytes) -> None:
        if self.ended or self.client_gone or not data:
            return
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self, data: bytes = b"") -> None:
        if self.ended:
            return
        self.ended = True
        if self.client_gone:
            return
        await self._send({"type": "http.response.body", "body": data, "more_body": False})
