"""Streaming query results to clients: ``/query`` (ksqlDB's chunked JSON array), ``/query-stream``
(delimited lines or one JSON array), and PRINT's text lines; the registry ``/close-query`` uses.

A query's rows come from the engine's :class:`~headwater.engine.runtime.transient.QueryStream`, whose
iteration blocks. A :class:`RowPump` thread per query moves rows into a buffer and wakes the event
loop once per burst (not once per row); the response coroutine drains the buffer, encodes the rows and
writes them. The coroutine stops when the query ends (LIMIT, a historical query's last row, an error),
when ``/close-query`` names it, or when the client goes away; in every case the engine's stream is
closed, which stops the engine's query thread, and the query leaves the registry, so nothing leaks.

Wire formats (``W`` marks what is written; ``...`` keep-alive newlines while a push query is idle):

* ``/query``: ``[`` header, then ``,\\n`` before each row (a deleted table row as
  ``{"row": {"columns": [...], "tombstone": true}}``), the final message (``Limit Reached``,
  ``Query Completed``) or an error, then ``]\\n`` -- the same bytes as ksqlDB's ``QueryStreamWriter``,
  and always one valid JSON array whatever the ending.
* ``/query-stream``, ``application/vnd.ksqlapi.delimited.v1`` (default, and for ``*/*``): the
  metadata object (``queryId``, ``columnNames``, ``columnTypes``) and each row as a JSON array, one per
  line; an error ends the stream as a ``generic_error`` line. A deleted table row carries no
  tombstone flag here (ksqlDB's delimited writer writes the values only).
* ``/query-stream``, ``application/json``: the same items as one JSON array.
* PRINT (either endpoint): the engine's text lines, one per line, as ksqlDB's ``TopicStreamWriter``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from headwater.engine.entities import QueryHeader, QueryRow
from headwater.errors import HeadwaterError
from headwater.server.errors import SERVER_ERROR, ApiError
from headwater.server.http import HttpRequest, StreamingResponse
from headwater.server.values import dumps, parse_column_types, row_encoder

__all__ = [
    "DELIMITED_TYPE",
    "DelimitedWriter",
    "JsonArrayWriter",
    "LegacyQueryWriter",
    "QueryRegistry",
    "ResultWriter",
    "RowPump",
    "TextLinesWriter",
    "stream_result",
]

_log = logging.getLogger("headwater.server")

DELIMITED_TYPE = "application/vnd.ksqlapi.delimited.v1"
KEEPALIVE_S = 1.0


class QueryRegistry:
    """The transient queries being streamed right now, by query id (``/close-query``)."""

    def __init__(self) -> None:
        self._streams: dict[str, Any] = {}
        self._lock = threading.Lock()

    def register(self, query_id: str, stream: Any) -> None:
        with self._lock:
            self._streams[query_id] = stream

    def remove(self, query_id: str) -> None:
        with self._lock:
            self._streams.pop(query_id, None)

    def close(self, query_id: str) -> bool:
        """Close the named query; whether it was running."""
        with self._lock:
            stream = self._streams.pop(query_id, None)
        if stream is None:
            return False
        stream.close()
        return True

    def close_all(self) -> None:
        with self._lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.close()

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._streams)


class RowPump:
    """Moves a blocking query stream's rows into a buffer the event loop drains in bursts."""

    def __init__(self, stream: Any, loop: asyncio.AbstractEventLoop, name: str) -> None:
        self._stream = stream
        self._loop = loop
        self._items: collections.deque[QueryRow] = collections.deque()
        self._lock = threading.Lock()
        self._wake_pending = False
        self.event = asyncio.Event()
        self.finished = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"headwater-pump-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            for row in self._stream:
                with self._lock:
                    self._items.append(row)
                    wake = not self._wake_pending
                    self._wake_pending = True
                if wake:
                    self._notify_threadsafe()
        except BaseException as error:  # handed to the response coroutine, which reports it
            self.error = error
        finally:
            self.finished = True
            self._notify_threadsafe()

    def _notify_threadsafe(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self.event.set)

    def take(self) -> list[QueryRow]:
        """Every row buffered so far (called on the loop after :attr:`event` fired)."""
        self.event.clear()
        with self._lock:
            rows = list(self._items)
            self._items.clear()
            self._wake_pending = False
        return rows

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class ResultWriter(Protocol):
    """The bytes of one wire format, item by item."""

    content_type: str
    keepalive: bytes

    def start(self, header: QueryHeader) -> bytes: ...

    def rows(self, rows: list[QueryRow]) -> bytes: ...

    def finish(self, final_message: str | None) -> bytes: ...

    def error(self, error: ApiError) -> bytes: ...


class _RowEncoding:
    """Rows encoded by the header's column types (see :mod:`headwater.server.values`)."""

    def __init__(self) -> None:
        self._encode: Callable[[Any], list[Any]] = list

    def prepare(self, header: QueryHeader) -> None:
        self._encode = row_encoder(parse_column_types(header.column_types))

    def encode(self, row: QueryRow) -> list[Any]:
        return self._encode(row.columns)


class LegacyQueryWriter(_RowEncoding):
    """``/query``: ksqlDB's streamed JSON array of ``header`` / ``row`` / ``finalMessage`` objects."""

    keepalive = b"\n"

    def __init__(self, content_type: str = "application/json") -> None:
        super().__init__()
        self.content_type = content_type

    def start(self, header: QueryHeader) -> bytes:
        self.prepare(header)
        return b"[" + dumps(header.to_json())

    def rows(self, rows: list[QueryRow]) -> bytes:
        return b"".join(b",\n" + dumps({"row": self._row(row)}) for row in rows)

    def _row(self, row: QueryRow) -> dict[str, Any]:
        """ksqlDB's ``StreamedRow`` row: a table row's deletion carries ``"tombstone": true``."""
        if getattr(row, "tombstone", False):
            return {"columns": self.encode(row), "tombstone": True}
        return {"columns": self.encode(row)}

    def finish(self, final_message: str | None) -> bytes:
        if final_message is None:
            return b"]\n"
        return b",\n" + dumps({"finalMessage": final_message}) + b"]\n"

    def error(self, error: ApiError) -> bytes:
        return b",\n" + dumps({"errorMessage": error.to_json()}) + b"]\n"


class DelimitedWriter(_RowEncoding):
    """``/query-stream`` as newline-delimited JSON: metadata, then one array per row."""

    content_type = DELIMITED_TYPE
    keepalive = b""

    def start(self, header: QueryHeader) -> bytes:
        self.prepare(header)
        return dumps(_metadata(header)) + b"\n"

    def rows(self, rows: list[QueryRow]) -> bytes:
        return b"".join(dumps(self.encode(row)) + b"\n" for row in rows)

    def finish(self, final_message: str | None) -> bytes:
        return b""

    def error(self, error: ApiError) -> bytes:
        return dumps(error.to_json()) + b"\n"


class JsonArrayWriter(_RowEncoding):
    """``/query-stream`` as one JSON array: metadata, then one array per row."""

    content_type = "application/json"
    keepalive = b""

    def start(self, header: QueryHeader) -> bytes:
        self.prepare(header)
        return b"[" + dumps(_metadata(header))

    def rows(self, rows: list[QueryRow]) -> bytes:
        return b"".join(b"," + dumps(self.encode(row)) for row in rows)

    def finish(self, final_message: str | None) -> bytes:
        return b"]"

    def error(self, error: ApiError) -> bytes:
        return b"," + dumps(error.to_json()) + b"]"


class TextLinesWriter:
    """PRINT: each row is one line of text; a newline while idle, as ksqlDB's topic printer."""

    keepalive = b"\n"

    def __init__(self, content_type: str = "application/json") -> None:
        self.content_type = content_type

    def start(self, header: QueryHeader) -> bytes:
        return b""

    def rows(self, rows: list[QueryRow]) -> bytes:
        return b"".join(str(row.columns[0] if row.columns else "").encode() + b"\n" for row in rows)

    def finish(self, final_message: str | None) -> bytes:
        return b""

    def error(self, error: ApiError) -> bytes:
        return error.message.encode() + b"\n"


def _metadata(header: QueryHeader) -> dict[str, Any]:
    return {
        "queryId": header.query_id,
        "columnNames": list(header.column_names),
        "columnTypes": list(header.column_types),
    }


async def stream_result(
    request: HttpRequest,
    response: StreamingResponse,
    stream: Any,
    writer: ResultWriter,
    registry: QueryRegistry,
    *,
    keepalive_s: float = KEEPALIVE_S,
) -> None:
    """Write ``stream``'s rows to the client until the query ends, is closed, or the client leaves;
    the engine's stream is closed and unregistered whatever happens."""
    header: QueryHeader = stream.header
    registry.register(header.query_id, stream)
    pump = RowPump(stream, asyncio.get_running_loop(), header.query_id)
    request.watch_for_disconnect()

    async def wake_on_disconnect() -> None:
        await request.disconnected.wait()
        pump.event.set()

    watcher = asyncio.get_running_loop().create_task(wake_on_disconnect())
    try:
        await response.start(200, writer.content_type)
        await response.write(writer.start(header))
        pump.start()
        while not response.client_gone:
            try:
                await asyncio.wait_for(pump.event.wait(), keepalive_s)
            except TimeoutError:
                await response.write(writer.keepalive)
                continue
            finished = pump.finished  # read before taking, so no row is left behind
            rows = pump.take()
            if rows:
                await response.write(writer.rows(rows))
            if finished:
                # Retired before the client sees the end, so a client that lists queries next does
                # not find one whose response it has already read to the end.
                stream.close()
                registry.remove(header.query_id)
                if pump.error is not None:
                    await response.end(writer.error(_streaming_error(pump.error)))
                else:
                    final = getattr(stream, "final_message", None)
                    await response.end(writer.finish(getattr(final, "message", None)))
                break
    finally:
        stream.close()
        registry.remove(header.query_id)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        if not response.ended:
            await response.end()
        await request.close()


def _streaming_error(error: BaseException) -> ApiError:
    """An error raised while a query ran, as the error item of its response."""
    if isinstance(error, HeadwaterError):
        return ApiError(500, SERVER_ERROR, str(error))
    _log.error("query failed unexpectedly", exc_info=error)
    return ApiError.server_error(error)
