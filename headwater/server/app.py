"""The ASGI application: ksqlDB's REST endpoints over one engine.

========================  ======  ============================================================
endpoint                  method  what it does
========================  ======  ============================================================
``/ksql``                 POST    run statements; one entity per statement (``statements``)
``/query``                POST    stream a SELECT or PRINT as ksqlDB's chunked JSON array
``/query-stream``         POST    stream a SELECT or PRINT, delimited lines or a JSON array
``/inserts-stream``       POST    insert JSON rows into a stream, one ack per row (``inserts``)
``/close-query``          POST    stop a query being streamed, by its id
``/info``                 GET     server version and status
``/healthcheck``          GET     health of the parts the server depends on
``/status[/COMMAND_ID]``  GET     outcome of the catalog-changing commands this server ran
``/is_valid_property/N``  GET     ``true`` when N is a property ksqlDB would accept
========================  ======  ============================================================

Every request is authenticated first when a credentials file is configured (401 and nothing else
otherwise), then routed; a handler raises :class:`~headwater.server.errors.ApiError` for anything the
client got wrong, and the application answers with ksqlDB's error body. An unexpected exception is
logged with its trace and answered 500 with its type and message only.

Engine calls block, so they run on worker threads; streamed queries are pumped by
:mod:`headwater.server.queries`. The properties (``streamsProperties``), variables
(``sessionVariables``) and ``commandSequenceNumber`` of each request apply to that request alone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from headwater import __version__, parser
from headwater.engine import Engine
from headwater.engine.config import EngineConfig
from headwater.errors import HeadwaterError, ParseError
from headwater.parser import ast
from headwater.server.auth import CredentialStore
from headwater.server.errors import ApiError
from headwater.server.http import (
    HttpRequest,
    Receive,
    Scope,
    Send,
    StreamingResponse,
    choose_media_type,
    parse_json_object,
    send_error,
    send_json,
)
from headwater.server.inserts import AckWriter, insert_statement, resolve_target
from headwater.server.queries import (
    DELIMITED_TYPE,
    KEEPALIVE_S,
    DelimitedWriter,
    JsonArrayWriter,
    LegacyQueryWriter,
    QueryRegistry,
    ResultWriter,
    TextLinesWriter,
    stream_result,
)
from headwater.server.statements import (
    positioned_text,
    run_ksql,
    string_map,
    syntax_error,
    variables_of,
    written_text,
)

__all__ = ["DEFAULT_MAX_BODY_BYTES", "HeadwaterApp"]

_log = logging.getLogger("headwater.server")

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
_REALM = 'Basic realm="headwater"'

Handler = Callable[[HttpRequest, Send], Awaitable[None]]


class HeadwaterApp:
    """ksqlDB's REST API over ``engine``.

    Args:
        engine: the engine every request runs on (opened with ``background=True``).
        credentials: the users allowed in; None serves everyone.
        max_body_bytes: the largest request body (for ``/inserts-stream``, the largest row) accepted.
        command_timeout_s: how long a request waits for the ``commandSequenceNumber`` it names.
        keepalive_s: how often an idle streamed query writes ksqlDB's keep-alive newline.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        credentials: CredentialStore | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        command_timeout_s: float = 5.0,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        self.engine = engine
        self.credentials = credentials
        self.max_body_bytes = max_body_bytes
        self.command_timeout_s = command_timeout_s
        self.keepalive_s = keepalive_s
        self.queries = QueryRegistry()
        self.command_statuses: dict[str, dict[str, Any]] = {}
        self._statuses_lock = threading.Lock()
        self._routes: dict[str, dict[str, Handler]] = {
            "/ksql": {"POST": self._ksql},
            "/query": {"POST": self._query},
            "/query-stream": {"POST": self._query_stream},
            "/inserts-stream": {"POST": self._inserts_stream},
            "/close-query": {"POST": self._close_query},
            "/info": {"GET": self._info},
            "/healthcheck": {"GET": self._healthcheck},
            "/status": {"GET": self._status},
        }

    # -- ASGI entry -------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = HttpRequest(scope, receive, self.max_body_bytes)
        tracker = _SendTracker(send, request)
        send = tracker.send
        try:
            if self.credentials is not None:
                header = request.headers.get("authorization")
                user = await asyncio.to_thread(self.credentials.check_header, header)
                if user is None:
                    headers = [("www-authenticate", _REALM), *request.closing_headers()]
                    await send_error(send, ApiError.unauthorized(), headers)
                    return
            await self._route(request)(request, send)
        except ApiError as error:
            await tracker.fail(error)
        except Exception as error:  # a bug: 500 with its type and message, the trace to the log
            _log.exception("request %s %s failed", request.method, request.path)
            await tracker.fail(ApiError.server_error(error))
        finally:
            await request.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.queries.close_all()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _route(self, request: HttpRequest) -> Handler:
        path = request.path
        if path.startswith("/is_valid_property/"):
            methods: dict[str, Handler] = {"GET": self._is_valid_property}
        elif path.startswith("/status/"):
            methods = {"GET": self._status}
        else:
            found = self._routes.get(path)
            if found is None:
                raise ApiError.not_found(f"Not found: {path}")
            methods = found
        handler = methods.get(request.method)
        if handler is None:
            raise ApiError.method_not_allowed(request.method, path)
        return handler

    # -- /ksql -------------------------------------------------------------------------------------------
    async def _ksql(self, request: HttpRequest, send: Send) -> None:
        body = await request.json_object()
        text = _text_field(body, "ksql")
        properties = {
            **string_map(body.get("properties"), "properties"),
            **string_map(body.get("streamsProperties"), "streamsProperties"),
        }
        variables = variables_of(body.get("sessionVariables"))
        await self._wait_for_command(body.get("commandSequenceNumber"))
        entities = await asyncio.to_thread(run_ksql, self.engine, text, properties, variables)
        self._remember_statuses(entities)
        await send_json(send, 200, entities)

    def _remember_statuses(self, entities: list[dict[str, Any]]) -> None:
        with self._statuses_lock:
            for entity in entities:
                if entity.get("@type") == "currentStatus" and entity.get("commandId"):
                    status = entity.get("commandStatus") or {}
                    self.command_statuses[entity["commandId"]] = {
                        "status": status.get("status"),
                        "message": status.get("message"),
                    }

    async def _wait_for_command(self, sequence_number: Any) -> None:
        """Wait until the engine has run the command ``sequence_number`` (ksqlDB's
        ``commandSequenceNumber``); statements run synchronously here, so this returns at once unless
        the number is ahead of every command run so far.

        Raises:
            ApiError: 400 for a number that is not an integer; 503 when the wait times out.
        """
        if sequence_number is None:
            return
        if isinstance(sequence_number, bool) or not isinstance(sequence_number, int):
            raise ApiError.bad_request("'commandSequenceNumber' must be an integer")
        deadline = time.monotonic() + self.command_timeout_s
        while self.engine.last_command_sequence < sequence_number:
            if time.monotonic() >= deadline:
                raise ApiError.command_timeout(sequence_number)
            await asyncio.sleep(0.01)

    # -- /query and /query-stream ---------------------------------------------------------------------
    async def _query(self, request: HttpRequest, send: Send) -> None:
        body = await request.json_object()
        text = _text_field(body, "ksql", "sql")
        properties = string_map(body.get("streamsProperties"), "streamsProperties")
        variables = variables_of(body.get("sessionVariables"))
        await self._wait_for_command(body.get("commandSequenceNumber"))
        content_type = choose_media_type(
            request.headers.get("accept"), ["application/json", "application/vnd.ksql.v1+json"]
        )
        stream, is_print = await asyncio.to_thread(self._open_stream, text, properties, variables)
        writer: ResultWriter = TextLinesWriter(content_type) if is_print else LegacyQueryWriter(content_type)
        await stream_result(
            request,
            StreamingResponse(send, request),
            stream,
            writer,
            self.queries,
            keepalive_s=self.keepalive_s,
        )

    async def _query_stream(self, request: HttpRequest, send: Send) -> None:
        body = await request.json_object()
        text = _text_field(body, "sql", "ksql")
        properties = {
            **string_map(body.get("streamsProperties"), "streamsProperties"),
            **string_map(body.get("properties"), "properties"),
        }
        variables = variables_of(body.get("sessionVariables"))
        await self._wait_for_command(body.get("commandSequenceNumber"))
        content_type = choose_media_type(request.headers.get("accept"), [DELIMITED_TYPE, "application/json"])
        stream, is_print = await asyncio.to_thread(self._open_stream, text, properties, variables)
        writer: ResultWriter
        if is_print:
            writer = TextLinesWriter(content_type)
        elif content_type == DELIMITED_TYPE:
            writer = DelimitedWriter()
        else:
            writer = JsonArrayWriter()
        await stream_result(
            request,
            StreamingResponse(send, request),
            stream,
            writer,
            self.queries,
            keepalive_s=self.keepalive_s,
        )

    def _open_stream(
        self, text: str, properties: dict[str, Any], variables: dict[str, str]
    ) -> tuple[Any, bool]:
        """Start the query (or PRINT) of ``text``; whether it is a PRINT.

        Raises:
            ApiError: 40001 when it does not parse or cannot run; 40000 for a statement that is not a
                query.
        """
        try:
            statement = parser.parse_statement(text, variables=variables or None)
        except ParseError as error:
            raise syntax_error(error, text) from None
        except HeadwaterError as error:
            raise ApiError.bad_statement(str(error), text) from None
        if not isinstance(statement, ast.SelectStatement | ast.PrintTopic):
            raise ApiError.bad_request(
                f"Statement type `{type(statement).__name__}' not supported for this resource"
            )
        statement_text = written_text(statement, text)
        try:
            stream = self.engine.stream(positioned_text(statement, statement_text), properties or None)
        except ParseError as error:
            raise syntax_error(error, statement_text) from None
        except HeadwaterError as error:
            raise ApiError.bad_statement(str(error), statement_text) from None
        return stream, isinstance(statement, ast.PrintTopic)

    async def _close_query(self, request: HttpRequest, send: Send) -> None:
        body = await request.json_object()
        query_id = body.get("queryId")
        if not isinstance(query_id, str) or not query_id:
            raise ApiError.bad_request("No queryId in arguments")
        if not self.queries.close(query_id):
            raise ApiError.bad_request(f"No query with id {query_id}")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    # -- /inserts-stream ----------------------------------------------------------------------------------
    async def _inserts_stream(self, request: HttpRequest, send: Send) -> None:
        accept = choose_media_type(request.headers.get("accept"), [DELIMITED_TYPE, "application/json"])
        acks = AckWriter(json_array=accept == "application/json")
        records = request.records()
        first = await anext(records, None)
        if first is None:
            raise ApiError.bad_request("No target in arguments")
        arguments = parse_json_object(first, "request")
        target = resolve_target(self.engine, arguments.get("target"))
        response = StreamingResponse(send, request)
        await response.start(200, acks.content_type)
        seq = 0
        try:
            async for record in records:
                try:
                    row = parse_json_object(record, "inserts stream")
                    statement = insert_statement(target, row)
                    await asyncio.to_thread(self.engine.execute, statement)
                except ApiError as error:
                    await response.write(acks.error(seq, error))
                    break
                except HeadwaterError as error:
                    await response.write(acks.error(seq, ApiError.bad_request(str(error))))
                    break
                await response.write(acks.ok(seq))
                seq += 1
        except ApiError as error:  # a row larger than the limit: the stream stops there
            await response.write(acks.error(seq, error))
        await response.end(acks.end())

    # -- introspection -------------------------------------------------------------------------------------
    async def _info(self, request: HttpRequest, send: Send) -> None:
        await send_json(
            send,
            200,
            {
                "KsqlServerInfo": {
                    "version": __version__,
                    "kafkaClusterId": "headwater",
                    "ksqlServiceId": str(self.engine.config.get("ksql.service.id", "default_")),
                    "serverStatus": "RUNNING",
                }
            },
        )

    async def _healthcheck(self, request: HttpRequest, send: Send) -> None:
        healthy = {"isHealthy": True}
        await send_json(
            send,
            200,
            {
                "isHealthy": True,
                "details": {"metastore": healthy, "kafka": healthy, "commandRunner": healthy},
            },
        )

    async def _status(self, request: HttpRequest, send: Send) -> None:
        with self._statuses_lock:
            statuses = dict(self.command_statuses)
        if request.path == "/status":
            await send_json(send, 200, {"commandStatuses": {k: v["status"] for k, v in statuses.items()}})
            return
        command_id = request.path[len("/status/") :]
        found = statuses.get(command_id)
        if found is None:
            raise ApiError.not_found(f"Command not found: {command_id}")
        await send_json(send, 200, found)

    async def _is_valid_property(self, request: HttpRequest, send: Send) -> None:
        name = request.path[len("/is_valid_property/") :]
        try:
            EngineConfig().with_overrides({name: None})
        except HeadwaterError as error:
            raise ApiError.bad_request(str(error)) from None
        await send_json(send, 200, True)


class _SendTracker:
    """Remembers whether a response was started and ended, so a failure after the first byte ends
    the response instead of starting a second one."""

    def __init__(self, send: Send, request: HttpRequest) -> None:
        self._send = send
        self._request = request
        self.started = False
        self.ended = False

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.ended = True
        await self._send(message)

    async def fail(self, error: ApiError) -> None:
        if not self.started:
            await send_error(self.send, error, self._request.closing_headers())
        elif not self.ended:
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})


def _text_field(body: dict[str, Any], *names: str) -> str:
    """The statement text of a request body (the first of ``names`` present).

    Raises:
        ApiError: 400 when it is missing, empty or not a string.
    """
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApiError.bad_request(f'"{name}" field must be a string')
        if value.strip():
            return value
    raise ApiError.bad_request(f'"{names[0]}" field must be populated')
