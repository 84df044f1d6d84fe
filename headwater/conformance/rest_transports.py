"""The two ways an RQTT case reaches Headwater: the engine's Python API, and a real server over HTTP.

* :class:`EngineTransport`: a fresh engine per case on a temporary data directory, with persistent
  queries driven by the runner (``background=False``); admin statements go to ``Engine.execute``, queries
  to ``Engine.stream``. Entities and rows are turned into the JSON ksqlDB's REST API would send with the
  product's own REST serialisation (:mod:`headwater.server.values`), and engine errors into ksqlDB's
  error bodies the way the server does (a failing statement is a ``statement_error`` naming it). So this
  mode checks the engine's semantics with the wire details fixed.
* :class:`HttpTransport`: the real server (:func:`headwater.server.start_in_thread`) on an ephemeral
  loopback port, talked to over HTTP/1.1 exactly as ksqlDB's REST client does (``POST /ksql`` and ``POST
  /query`` with the case's properties as ``streamsProperties``). One server serves every case a worker
  process runs, as ksqlDB's harness shares one server: between cases the persistent queries are
  terminated and the streams and tables dropped through the API, then every topic but the engine's own
  is deleted. A case that ends in an error or a teardown that fails replaces the server.

Both run queries with a time limit: a push query that never reaches its ``LIMIT`` is over once it has
produced no row for :data:`QUERY_IDLE_SECONDS` (every input record is in the log before a query starts,
so a query that is still working keeps producing), or after :data:`QUERY_LIMIT_SECONDS` in any case;
its rows so far are its response and the comparison reports the difference.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import multiprocessing.util
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from headwater.conformance import engine_io
from headwater.conformance.comparator import ActualRecord
from headwater.conformance.executor import CaseFailure
from headwater.conformance.rest_executor import RQTT_SERVER_CONFIG, Transport, TransportFactory
from headwater.conformance.rest_model import ErrorResponse, RestTestCase
from headwater.conformance.serde import TopicSerdes
from headwater.errors import HeadwaterError, ParseError

__all__ = [
    "QUERY_IDLE_SECONDS",
    "QUERY_LIMIT_SECONDS",
    "SETTLE_TIMEOUT_SECONDS",
    "EngineTransport",
    "HttpTransport",
    "close_shared_server",
    "engine_transport",
    "http_transport",
    "queries_caught_up",
]

QUERY_IDLE_SECONDS = 15.0
"""How long a query may go without producing a row before the rows it produced are its response.

Every push query of the corpus ends on its own (a ``LIMIT``), so this only bounds a query that does not:
it is long enough that a server starved of CPU on a loaded machine is not taken for one that is done."""

QUERY_LIMIT_SECONDS = 60.0
"""How long a query may run at most."""

SETTLE_TIMEOUT_SECONDS = 30.0
"""How long persistent queries get to consume their inputs (ksqlDB's harness waits as long)."""

_POLL_SECONDS = 0.01
_SERVER_LOGGER = logging.getLogger("headwater.server")
_STATEMENT_ERROR = 40001


def _exact_json(document: Any) -> Any:
    """``document`` after a JSON round trip with exact decimals (what ksqlDB's harness compares)."""
    from headwater.server.values import dumps

    return json.loads(dumps(document), parse_float=Decimal)


def _statement_text(text: str, index: int | None) -> str:
    """The text of statement ``index`` of ``text`` with its ``;`` (the whole text when unknown)."""
    from headwater.parser import parse

    if index is None:
        return text
    try:
        statements = parse(text)
    except HeadwaterError:
        return text
    if not 0 <= index < len(statements) or statements[index].span is None:
        return text
    span = statements[index].span
    assert span is not None
    end = span.end
    rest = text[end:]
    stripped = rest.lstrip()
    if stripped.startswith(";"):
        end += len(rest) - len(stripped) + 1
    return text[span.start : end]


def _statement_error(error: HeadwaterError, text: str) -> ErrorResponse:
    """ksqlDB's error body for a statement of ``text`` that failed with ``error``: the message the
    server writes (a syntax error as ``line L:C: Syntax Error``, a blank line and ``Statement: ...``,
    through the server's own :func:`headwater.server.statements.syntax_error`)."""
    from headwater.server.statements import syntax_error

    index = getattr(error, "statement_index", None)
    statement_text = _statement_text(text, index if isinstance(index, int) else None)
    message = syntax_error(error, statement_text).message if isinstance(error, ParseError) else str(error)
    return ErrorResponse(
        status=400,
        statement_error=True,
        message=message,
        statement_text=statement_text,
        error_code=_STATEMENT_ERROR,
    )


class _ThreadedReader:
    """Reads a query's response on a thread, so that a query that does not end can be stopped in time:
    :meth:`wait` returns when the reading ends, or stops it (:meth:`_stop`) once it has made no progress
    for ``idle`` seconds, or after :data:`QUERY_LIMIT_SECONDS` in any case."""

    name = "rqtt-reader"

    def __init__(self) -> None:
        self.progress = 0  # grows with every row or non-blank chunk read
        self._thread = threading.Thread(target=self._read, name=self.name, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def wait(self, idle: float, on_first: Callable[[], None] | None = None) -> None:
        """Wait as the class docstring says; ``on_first`` is called once, when the first progress came
        (or when the reading ended after some)."""
        started = last = time.monotonic()
        seen = 0
        while self._thread.is_alive():
            self._thread.join(0.05)
            now = time.monotonic()
            if self.progress != seen:
                if on_first is not None:
                    on_first()
                    on_first = None
                seen, last = self.progress, now
            if now - last >= idle or now - started >= QUERY_LIMIT_SECONDS:
                break
        if self._thread.is_alive():
            self._stop()
            self._thread.join(5.0)
        elif self.progress and on_first is not None:
            on_first()


class _Collector(_ThreadedReader):
    """The rows of an ``Engine.stream`` query; stopping closes the stream."""

    name = "rqtt-query-reader"

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.rows: list[Any] = []
        self.error: BaseException | None = None
        super().__init__()

    def _read(self) -> None:
        try:
            for row in self.stream:
                self.rows.append(row)
                self.progress += 1
        except Exception as error:  # the query failed while running: reported as an error row
            self.error = error

    def _stop(self) -> None:
        self.stream.close()


class _StreamedBody(_ThreadedReader):
    """The body of a streamed ``/query`` response; stopping shuts the socket down.

    The read blocks (the socket's timeout is :data:`QUERY_LIMIT_SECONDS`). A short socket timeout would
    need no thread, but a timeout that fires in the middle of a chunk of the chunked response leaves
    ``http.client`` half way through the chunk, and the rest of the response is then unreadable: rows
    that did arrive, only slowly (a loaded machine), would be lost.
    """

    name = "rqtt-http-reader"

    def __init__(self, response: http.client.HTTPResponse, connection: http.client.HTTPConnection) -> None:
        self.response = response
        self.connection = connection
        self._chunks: list[bytes] = []
        super().__init__()

    def _read(self) -> None:
        try:
            while True:
                chunk = self.response.read1(65536)
                if not chunk:
                    return
                self._chunks.append(chunk)
                if chunk.strip():  # keep-alive newlines are not progress
                    self.progress += 1
        except (http.client.HTTPException, OSError, ValueError):  # stopped, or closed by the server
            return

    def _stop(self) -> None:
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def data(self) -> bytes:
        return b"".join(self._chunks)


class EngineTransport:
    """An RQTT case through ``Engine.execute`` and ``Engine.stream`` on a fresh engine."""

    def __init__(self, data_dir: Path, *, query_idle: float = QUERY_IDLE_SECONDS) -> None:
        from headwater.engine import Engine

        self.engine: Any = Engine(data_dir, config=dict(RQTT_SERVER_CONFIG), background=False)
        self.query_idle = query_idle

    def close(self) -> None:
        self.engine.close()

    def ksql(self, text: str, properties: Mapping[str, Any]) -> list[dict[str, Any]] | ErrorResponse:
        try:
            entities = self.engine.execute(text, properties=dict(properties) or None)
        except HeadwaterError as error:
            return _statement_error(error, text)
        return [_exact_json(e.to_json()) for e in entities if getattr(e, "rest_visible", True)]

    def query(
        self, text: str, properties: Mapping[str, Any], *, on_header: Callable[[], None] | None = None
    ) -> list[dict[str, Any]] | ErrorResponse:
        from headwater.parser import parse_statement
        from headwater.server.values import parse_column_types, row_encoder

        try:
            # ksqlDB's grammar first, as the server's /query does: Engine.stream would answer text the
            # grammar refuses (ORDER BY...) as Headwater's SQL extension, which the REST API does not offer
            parse_statement(text, variables=dict(getattr(self.engine, "variables", {})) or None)
            stream = self.engine.stream(text, dict(properties) or None)
        except HeadwaterError as error:
            return _statement_error(error, text)
        header = stream.header
        rows: list[dict[str, Any]] = [_exact_json(header.to_json())]
        if on_header is not None:
            on_header()
        collector = _Collector(stream)
        collector.wait(self.query_idle)
        encode = row_encoder(parse_column_types(header.column_types))
        for row in collector.rows:
            row_json: dict[str, Any] = {"columns": encode(row.columns)}
            if getattr(row, "tombstone", False):  # a table row that was deleted
                row_json["tombstone"] = True
            rows.append(_exact_json({"row": row_json}))
        if collector.error is not None:
            rows.append({"errorMessage": {"message": str(collector.error)}})
        elif stream.final_message is not None:
            rows.append(_exact_json(stream.final_message.to_json()))
        return rows

    def settle(self) -> None:
        """Drive every persistent query, in creation order, until none has anything left to read."""
        while True:
            progressed = 0
            for query in self.engine.persistent_queries():
                try:
                    progressed += query.process_available()
                except HeadwaterError as error:
                    raise CaseFailure(
                        f"persistent query failed: {str(error).splitlines()[0]}",
                        f"{query.query_id}: {error}",
                    ) from None
            if progressed == 0:
                return

    def records(self, topic: str, serdes: TopicSerdes, at_least: int) -> list[ActualRecord]:
        self.settle()
        return engine_io.read_records(self.engine, topic, serdes)


@contextlib.contextmanager
def _engine_transport(case: RestTestCase, work_dir: Path | None, query_idle: float) -> Iterator[Transport]:
    del case
    with tempfile.TemporaryDirectory(prefix="hw-rqtt-", dir=work_dir) as tmp:
        transport = EngineTransport(Path(tmp), query_idle=query_idle)
        try:
            yield transport
        finally:
            transport.close()


def engine_transport(work_dir: Path | None, query_idle: float = QUERY_IDLE_SECONDS) -> TransportFactory:
    """A factory of :class:`EngineTransport`\\ s, each on its own temporary data directory."""
    return lambda case: _engine_transport(case, work_dir, query_idle)


# ----------------------------------------------------------------------------------------------------------
# HTTP


def _query_rows(body: bytes) -> list[dict[str, Any]]:
    """The objects of a ``/query`` body: ``[{...},\\n{...},\\n...]\\n``, possibly cut short (a query
    stopped for time) and with keep-alive blank lines; one object per line, as the server writes them."""
    rows = []
    for raw_line in body.decode("utf-8", errors="replace").splitlines():
        line = raw_line.strip()
        if line.startswith("["):
            line = line[1:]
        if line.endswith("]"):
            line = line[:-1]
        line = line.rstrip(",").strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line, parse_float=Decimal))
        except json.JSONDecodeError:
            rows.append({"unparsable": line})
    return rows


def _error_response(status: int, body: bytes) -> ErrorResponse:
    try:
        document = json.loads(body, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError):
        document = {"message": body.decode("utf-8", errors="replace")}
    if not isinstance(document, dict):
        document = {"message": str(document)}
    statement_text = document.get("statementText")
    return ErrorResponse(
        status=status,
        statement_error=document.get("@type") == "statement_error",
        message=str(document.get("message", "")),
        statement_text=statement_text if isinstance(statement_text, str) else None,
        error_code=document.get("error_code") if isinstance(document.get("error_code"), int) else None,
    )


class HttpTransport:
    """An RQTT case through a real server's ``/ksql`` and ``/query`` endpoints."""

    _RETRIES = 3

    def __init__(self, server: Any, *, query_idle: float = QUERY_IDLE_SECONDS) -> None:
        self.server = server
        self.engine: Any = server.app.engine
        self.host = "127.0.0.1"
        self.port = int(server.port)
        self.query_idle = query_idle

    def _post(self, path: str, document: Mapping[str, Any]) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=SETTLE_TIMEOUT_SECONDS)
        try:
            connection.request(
                "POST",
                path,
                body=json.dumps(document).encode("utf-8"),
                headers={
                    "Content-Type": "application/vnd.ksql.v1+json",
                    "Accept": "application/vnd.ksql.v1+json",
                },
            )
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def ksql(self, text: str, properties: Mapping[str, Any]) -> list[dict[str, Any]] | ErrorResponse:
        """``POST /ksql``. A "does not exist" error from the first statement is retried a few times, as
        ksqlDB's harness retries while a server catches up; a later statement's is not (the statements
        before it took effect)."""
        request = {"ksql": text, "streamsProperties": dict(properties)}
        for attempt in range(self._RETRIES):
            status, body = self._post("/ksql", request)
            if status == 200:
                entities = json.loads(body, parse_float=Decimal)
                return list(entities) if isinstance(entities, list) else [entities]
            error = _error_response(status, body)
            first_statement = not _entities_before(body)
            if "does not exist" not in error.message or not first_statement or attempt == self._RETRIES - 1:
                return error
            time.sleep(0.1)
        raise AssertionError("unreachable")

    def query(
        self, text: str, properties: Mapping[str, Any], *, on_header: Callable[[], None] | None = None
    ) -> list[dict[str, Any]] | ErrorResponse:
        """``POST /query``, read until the server ends the response or the time limit passes (then the
        connection is closed, which stops the query on the server)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=QUERY_LIMIT_SECONDS)
        try:
            connection.request(
                "POST",
                "/query",
                body=json.dumps({"ksql": text, "streamsProperties": dict(properties)}).encode("utf-8"),
                headers={
                    "Content-Type": "application/vnd.ksql.v1+json",
                    "Accept": "application/vnd.ksql.v1+json",
                },
            )
            response = connection.getresponse()
            if response.status != 200:
                return _error_response(response.status, response.read())
            body = _StreamedBody(response, connection)
            body.wait(self.query_idle, on_header)
            return _query_rows(body.data())
        finally:
            connection.close()

    def settle(self) -> None:
        """Wait until every running persistent query has committed the end of each of its sources, twice
        in a row (a query reading another's sink may get more to read once that one has run)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        caught_up_rounds = 0
        while time.monotonic() < deadline:
            caught_up_rounds = caught_up_rounds + 1 if self._caught_up() else 0
            if caught_up_rounds >= 2:
                return
            time.sleep(_POLL_SECONDS)

    def _caught_up(self) -> bool:
        return queries_caught_up(self.engine)

    def records(self, topic: str, serdes: TopicSerdes, at_least: int) -> list[ActualRecord]:
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while True:
            records = engine_io.read_records(self.engine, topic, serdes)
            if len(records) >= at_least or time.monotonic() >= deadline:
                return records
            time.sleep(_POLL_SECONDS * 5)

    # -- between cases -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Leave the server as a new one: no streamed query, no persistent query, no stream or table, and
        no topic but the engine's own (``TestKsqlRestApp``'s teardown).

        Raises:
            RuntimeError: the server refused part of it.
        """
        from headwater.engine.commands import COMMAND_TOPIC
        from headwater.engine.runtime.processing_log import PROCESSING_LOG_TOPIC

        self.server.app.queries.close_all()
        for query_id in self._listed("SHOW QUERIES;", "queries", "id"):
            self._must("TERMINATE " + query_id + ";")
        for name in self._listed("SHOW STREAMS;", "streams", "name"):
            self._must(f"DROP STREAM `{name}`;")
        for name in self._listed("SHOW TABLES;", "tables", "name"):
            self._must(f"DROP TABLE `{name}`;")
        log = self.engine.log
        for topic in list(log.list_topics()):
            name = topic if isinstance(topic, str) else topic.name
            if name not in (COMMAND_TOPIC, PROCESSING_LOG_TOPIC):
                log.delete_topic(name)

    def _must(self, text: str) -> list[dict[str, Any]]:
        result = self.ksql(text, {})
        if isinstance(result, ErrorResponse):
            raise RuntimeError(f"{text} failed: {result.message}")
        return result

    def _listed(self, text: str, field: str, key: str) -> list[str]:
        entities = self._must(text)
        items = entities[0].get(field, []) if entities else []
        return [str(item[key]) for item in items if isinstance(item, dict) and key in item]


def queries_caught_up(engine: Any) -> bool:
    """Whether every running persistent query of ``engine`` has committed the end of each partition of
    each of its sources (a paused or failed query is not waited for: it would never catch up)."""
    for query in engine.persistent_queries():
        if str(getattr(query, "state", "RUNNING")).upper() != "RUNNING":
            continue
        committed = query.committed_offsets()
        for topic in query.source_topics:
            if not engine.log.has_topic(topic):
                continue
            for partition, end in engine.log.topic(topic).end_offsets().items():
                if committed.get((topic, partition), 0) < int(end):
                    return False
    return True


def _entities_before(body: bytes) -> bool:
    """Whether an error body lists entities of statements that ran before the failing one."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(document, dict) and bool(document.get("entities"))


class _SharedServer:
    """The one server of this process, started on first use and replaced after a case goes wrong."""

    def __init__(self) -> None:
        self.server: Any = None
        self.data_dir: Path | None = None
        self.finalizer_registered = False
        self.logger_level = logging.NOTSET

    def get(self, work_dir: Path | None) -> Any:
        if self.server is None:
            from headwater.server import ServerSettings, start_in_thread

            if not self.finalizer_registered:  # worker processes end without running atexit hooks
                multiprocessing.util.Finalize(None, close_shared_server, exitpriority=10)
                self.finalizer_registered = True
            # A request that fails unexpectedly is logged with its trace by the server; the runner reports
            # it as the case's reason (ksqlDB's 500 body), so the trace would only clutter the report.
            self.logger_level = _SERVER_LOGGER.level
            _SERVER_LOGGER.setLevel(logging.CRITICAL)
            self.data_dir = Path(tempfile.mkdtemp(prefix="hw-rqtt-server-", dir=work_dir))
            self.server = start_in_thread(
                ServerSettings(
                    data_dir=self.data_dir, host="127.0.0.1", port=0, engine_config=dict(RQTT_SERVER_CONFIG)
                )
            )
        return self.server

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
            _SERVER_LOGGER.setLevel(self.logger_level)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None


_SHARED = _SharedServer()


def close_shared_server() -> None:
    """Stop this process's RQTT server, if one runs, and remove its data directory."""
    _SHARED.close()


@contextlib.contextmanager
def _http_transport(case: RestTestCase, work_dir: Path | None, query_idle: float) -> Iterator[Transport]:
    """The shared server for one case; reset afterwards, replaced when the case broke something (an
    error or a timeout, not an ordinary failure) or the reset fails."""
    del case
    transport = HttpTransport(_SHARED.get(work_dir), query_idle=query_idle)
    healthy = False
    try:
        yield transport
        healthy = True
    except CaseFailure:
        healthy = True
        raise
    finally:
        if healthy:
            try:
                transport.reset()
            except Exception:
                healthy = False
        if not healthy:
            _SHARED.close()


def http_transport(work_dir: Path | None, query_idle: float = QUERY_IDLE_SECONDS) -> TransportFactory:
    """A factory of :class:`HttpTransport`\\ s over this process's shared server (started on first use;
    :func:`close_shared_server` stops it)."""
    return lambda case: _http_transport(case, work_dir, query_idle)
