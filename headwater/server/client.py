"""A client for a Headwater server (or any ksqlDB server), with the embedded engine's shapes.

The shell runs statements through anything with ``execute`` and ``stream``; :class:`ServerClient` has
both, so ``headwater http://host:8088`` works like the embedded shell:

* ``execute(sql, properties, variables)`` posts to ``/ksql`` and returns the engine's entity classes
  (:func:`~headwater.server.entity_codec.entity_from_json`), ``INSERT`` and ``SET`` answering with
  nothing as over REST;
* ``stream(sql, properties, variables)`` posts to ``/query`` and returns a :class:`RemoteQueryStream`
  with ``header`` (a :class:`~headwater.engine.entities.QueryHeader`), iteration over
  :class:`~headwater.engine.entities.QueryRow` as rows arrive (values decoded back to the engine's
  Python values by column type; ``tombstone`` set for a deleted table row, as ksqlDB's
  ``{"row": {..., "tombstone": true}}`` says), ``final_message`` and ``close()``; ``close()`` drops
  the connection, which makes the server close the query.

It speaks HTTP/1.1 with the standard library (``http.client``), so it needs nothing installed. Errors
the server answers with become :class:`ServerError` carrying ksqlDB's ``error_code`` and message; an
unreachable server is a :class:`ServerUnavailableError`.

Example (against a running server)::

    client = ServerClient("http://127.0.0.1:8088")
    client.execute("CREATE STREAM S (ID INT KEY) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
    with client.stream("SELECT * FROM S EMIT CHANGES LIMIT 1;") as rows:
        for row in rows:
            print(row.columns)
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from headwater.engine.entities import Entity, FinalMessage, QueryHeader, QueryRow
from headwater.errors import HeadwaterError
from headwater.server.entity_codec import entity_from_json
from headwater.server.values import loads_exact, parse_column_types, row_decoder

__all__ = ["RemoteQueryStream", "ServerClient", "ServerError", "ServerUnavailableError", "split_schema"]

_COMMENTS = re.compile(r"^\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/|\s+)*", re.DOTALL)


class ServerError(HeadwaterError):
    """The server refused a request; ``message`` is its own (for a statement, with line and caret).

    Attributes:
        status: the HTTP status.
        error_code: ksqlDB's error code (40001 bad statement, 40100 unauthorized, ...).
        message: the server's message.
        statement_text: the statement that failed, when the server named one.
        entities: the JSON of the entities of the statements that ran before the failing one.
    """

    def __init__(
        self,
        status: int,
        error_code: int,
        message: str,
        statement_text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.message = message
        self.statement_text = statement_text
        self.entities = list(entities or [])
        super().__init__(message)


class ServerUnavailableError(ServerError, ConnectionError):
    """The server could not be reached (not running, wrong address, connection dropped)."""


def split_schema(schema: str) -> list[tuple[str, str]]:
    """A header's schema text as (column name, type text) pairs, ``KEY`` markers dropped.

    Example:
        >>> split_schema("`ID` STRING KEY, `D` DECIMAL(4, 2), `S` STRUCT<`A` INTEGER, `B` MAP<STRING, INTEGER>>")
        [('ID', 'STRING'), ('D', 'DECIMAL(4, 2)'), ('S', 'STRUCT<`A` INTEGER, `B` MAP<STRING, INTEGER>>')]
    """
    columns: list[tuple[str, str]] = []
    depth, start, quoted = 0, 0, False
    pieces: list[str] = []
    for i, char in enumerate(schema):
        if char == "`":
            quoted = not quoted
        elif not quoted and char in "<(":
            depth += 1
        elif not quoted and char in ">)":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            pieces.append(schema[start:i])
            start = i + 1
    pieces.append(schema[start:])
    for piece in (p.strip() for p in pieces):
        if not piece.startswith("`"):
            continue
        end = 1
        while True:
            end = piece.index("`", end)
            if piece[end + 1 : end + 2] == "`":
                end += 2
                continue
            break
        name = piece[1:end].replace("``", "`")
        type_text = piece[end + 1 :].strip()
        for marker in (" KEY", " HEADERS"):
            if type_text.endswith(marker):
                type_text = type_text[: -len(marker)]
        columns.append((name, type_text))
    return columns


class ServerClient:
    """A connection to a server's REST API.

    Args:
        url: ``http://host:port`` of the server.
        auth: (user, password) for HTTP Basic authentication.
        timeout: seconds to wait for a statement's answer (streams wait as long as rows take).
    """

    def __init__(self, url: str, *, auth: tuple[str, str] | None = None, timeout: float = 60.0) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ServerError(0, 40000, f"Unsupported server address {url!r}: expected http://HOST:PORT")
        self.url = f"http://{parts.netloc}"
        self.host = parts.hostname
        self.port = parts.port or 8088
        self.timeout = timeout
        self._headers = {"Content-Type": "application/vnd.ksql.v1+json", "Accept": "application/json"}
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"

    # -- statements --------------------------------------------------------------------------------------
    def execute(
        self,
        sql: str,
        properties: Mapping[str, Any] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> list[Entity]:
        """Run statements on the server; the entities it answers with.

        Raises:
            ServerError: the server's error (the statements before the failing one took effect).
        """
        body = {
            "ksql": sql,
            "streamsProperties": dict(properties or {}),
            "sessionVariables": dict(variables or {}),
        }
        document = self._request("POST", "/ksql", body)
        if not isinstance(document, list):
            raise ServerError(0, 50000, f"Unexpected answer from {self.url}/ksql: {str(document)[:200]}")
        return [entity_from_json(item) for item in document]

    def info(self) -> dict[str, Any]:
        """``GET /info``: the server's version and status."""
        document = self._request("GET", "/info", None)
        return dict(document.get("KsqlServerInfo", document)) if isinstance(document, dict) else {}

    def close_query(self, query_id: str) -> bool:
        """Ask the server to stop a query it streams (``/close-query``); whether it was running."""
        try:
            self._request("POST", "/close-query", {"queryId": query_id})
        except ServerUnavailableError:
            raise
        except ServerError:
            return False
        return True

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def _request(self, method: str, path: str, body: Any) -> Any:
        connection = self._connection(self.timeout)
        try:
            payload = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=payload, headers=self._headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise ServerUnavailableError(0, 0, f"Cannot reach the server at {self.url}: {error}") from None
        finally:
            connection.close()
        if response.status >= 400:
            raise _error_from(response.status, data)
        if not data:
            return None
        try:
            return loads_exact(data)
        except ValueError:
            raise ServerError(
                response.status, 50000, f"The server at {self.url} answered with malformed JSON"
            ) from None

    # -- queries -----------------------------------------------------------------------------------------
    def stream(
        self,
        sql: str,
        properties: Mapping[str, Any] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> RemoteQueryStream:
        """Start a query (push, pull or historical) or PRINT on the server; rows come as they arrive.

        Raises:
            ServerError: the server refused the statement.
        """
        connection = self._connection(self.timeout)
        body = {
            "ksql": sql,
            "streamsProperties": dict(properties or {}),
            "sessionVariables": dict(variables or {}),
        }
        try:
            connection.request("POST", "/query", body=json.dumps(body).encode(), headers=self._headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise ServerUnavailableError(0, 0, f"Cannot reach the server at {self.url}: {error}") from None
        if response.status >= 400:
            data = response.read()
            connection.close()
            raise _error_from(response.status, data)
        if connection.sock is not None:
            connection.sock.settimeout(None)  # a push query may stay quiet for as long as it likes
        return RemoteQueryStream(connection, response, is_print=_first_word(sql) == "PRINT")


class RemoteQueryStream:
    """The rows of a query running on a server, as the engine's ``QueryStream`` gives them."""

    def __init__(
        self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse, *, is_print: bool
    ) -> None:
        self._connection = connection
        self._response = response
        self._is_print = is_print
        self._closed = threading.Event()
        self.final_message: FinalMessage | None = None
        self._decode: Callable[[Sequence[Any]], tuple[Any, ...]] = tuple
        if is_print:
            self.header = QueryHeader("", "`TEXT` STRING", ("TEXT",), ("STRING",))
        else:
            first = self._next_item()
            header = first.get("header") if isinstance(first, dict) else None
            if header is None:
                self.close()
                raise ServerError(response.status, 50000, f"Expected a query header, got {str(first)[:200]}")
            columns = split_schema(str(header.get("schema", "")))
            self.header = QueryHeader(
                str(header.get("queryId", "")),
                str(header.get("schema", "")),
                tuple(name for name, _ in columns),
                tuple(type_text for _, type_text in columns),
            )
            self._decode = row_decoder(parse_column_types(self.header.column_types))

    def _lines(self) -> Iterator[bytes]:
        while not self._closed.is_set():
            try:
                line = self._response.readline()
            except Exception:  # http.client fails in several ways when close() drops the socket under it
                if self._closed.is_set():
                    return
                raise ServerUnavailableError(0, 0, "The connection to the server was lost") from None
            if not line:
                return
            yield line

    def _next_item(self) -> Any:
        """The next JSON item of ksqlDB's streamed array (keep-alive blank lines skipped), or None."""
        for line in self._lines():
            text = line.strip().decode("utf-8")
            if text.startswith("["):
                text = text[1:]
            if text.endswith("]"):
                text = text[:-1]
            text = text.strip().rstrip(",").strip()
            if text:
                return loads_exact(text)
        return None

    def __iter__(self) -> Iterator[QueryRow]:
        if self._is_print:
            for line in self._lines():
                text = line.decode("utf-8").rstrip("\r\n")
                if text:
                    yield QueryRow((text,))
            return
        while (item := self._next_item()) is not None:
            if not isinstance(item, dict):
                continue
            if "row" in item:
                row = item["row"] or {}
                yield QueryRow(self._decode(row.get("columns", [])), tombstone=bool(row.get("tombstone")))
            elif "finalMessage" in item:
                self.final_message = FinalMessage(str(item["finalMessage"]))
            elif "errorMessage" in item:
                error = item["errorMessage"] or {}
                raise ServerError(
                    500, int(error.get("error_code", 50000)), str(error.get("message", "Query failed"))
                )

    def close(self) -> None:
        """Stop reading and drop the connection; the server closes the query."""
        if self._closed.is_set():
            return
        self._closed.set()
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._connection.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __enter__(self) -> RemoteQueryStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_word(sql: str) -> str:
    rest = _COMMENTS.sub("", sql, count=1)
    words = rest.split(None, 1)
    return words[0].rstrip(";").upper() if words else ""


def _error_from(status: int, data: bytes) -> ServerError:
    """ksqlDB's error body as a :class:`ServerError` (any body at all, for a server that is not ksqlDB)."""
    try:
        document = json.loads(data)
    except ValueError:
        document = None
    if isinstance(document, dict) and "message" in document:
        entities = document.get("entities")
        return ServerError(
            status,
            int(document.get("error_code", status * 100)),
            str(document["message"]),
            document.get("statementText"),
            entities if isinstance(entities, list) else None,
        )
    text = data.decode("utf-8", "replace").strip()[:300] or http.client.responses.get(status, "error")
    return ServerError(status, status * 100, f"HTTP {status}: {text}")
