"""What the shell talks to: the embedded engine on a data directory, or a Headwater (or ksqlDB) server.

ksqlDB's ``ksql`` always talks to a server; Headwater's shell runs an engine in its own process by
default and connects to a server when given one (``headwater http://host:8088``). Both sit behind one
small interface, so the session, the commands and the completion never ask which it is:

- ``execute(sql, properties)``: run one statement that is not a query; its entities as ksqlDB's REST
  JSON (``@type``, ``statementText``, ...), exactly what ``POST /ksql`` answers, so the renderers work
  on one shape;
- ``stream(sql, properties)``: run a query (``SELECT``, ``PRINT``); a stream with ``header``, rows as
  they arrive, ``close()`` and ``final_message``;
- ``where`` (for the banner and the ``server`` command), ``version()`` and ``close()``.

The embedded backend answers with the engine's entities serialised by ``to_json()``, leaving out what
ksqlDB's REST API leaves out (``INSERT ... VALUES`` answers nothing), so a statement looks the same in
the shell whether the engine runs here or on a server. The remote backend adapts the server's client
(:class:`headwater.server.client.ServerClient`, HTTP/1.1 to ``/ksql`` and ``/query``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from headwater import __version__
from headwater.errors import HeadwaterError

__all__ = ["Backend", "CannotConnectError", "EmbeddedBackend", "RemoteBackend", "entity_json", "open_remote"]


class CannotConnectError(HeadwaterError, ConnectionError):
    """The server cannot be reached, or refused the credentials."""


class Backend(Protocol):
    """What the shell needs from where statements run (see the module docstring)."""

    @property
    def where(self) -> str: ...

    @property
    def is_remote(self) -> bool: ...

    def execute(self, sql: str, properties: Mapping[str, str]) -> list[dict[str, Any]]: ...

    def stream(self, sql: str, properties: Mapping[str, str]) -> Any: ...

    def version(self) -> str: ...

    def close(self) -> None: ...


def entity_json(entity: Any) -> dict[str, Any]:
    """An entity as ksqlDB's JSON, whether it came as an object with ``to_json()`` or as JSON."""
    if isinstance(entity, dict):
        return entity
    document: dict[str, Any] = entity.to_json()
    return document


class EmbeddedBackend:
    """The engine in this process, on a data directory.

    Args:
        engine: the engine (its ``execute``, ``stream`` and ``close``).
        data_dir: its data directory (for messages).
        lock: held around calls into the engine, shared with other threads that use it (the demo's
            producer), so that their statements do not interleave with the user's.
    """

    is_remote = False

    def __init__(self, engine: Any, data_dir: Path, lock: threading.Lock | None = None) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.lock = lock or threading.Lock()

    @property
    def where(self) -> str:
        return f"embedded engine on {self.data_dir}"

    def execute(self, sql: str, properties: Mapping[str, str]) -> list[dict[str, Any]]:
        with self.lock:
            entities = self.engine.execute(sql, properties=dict(properties) or None)
        return [entity_json(e) for e in entities if getattr(e, "rest_visible", True)]

    def stream(self, sql: str, properties: Mapping[str, str]) -> Any:
        with self.lock:
            return self.engine.stream(sql, properties=dict(properties) or None)

    def version(self) -> str:
        return __version__

    def explain_historical(self, select_text: str, properties: Mapping[str, str]) -> str:
        """EXPLAIN of a historical SELECT: the segments it reads, its DuckDB SQL and DuckDB's plan
        (:func:`headwater.engine.historical.explain.explain_select`)."""
        from headwater.engine.historical.explain import explain_select

        with self.lock:
            return explain_select(self.engine, select_text, None, dict(properties))

    def close(self) -> None:
        self.engine.close()


class RemoteBackend:
    """A server, through :mod:`headwater.server.client`.

    Args:
        client: the connected client (its ``execute``, ``stream``, ``info`` and ``close``).
        url: the server's address.
    """

    is_remote = True

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url
        self._info: dict[str, Any] | None = None

    @property
    def where(self) -> str:
        return self.url

    def info(self) -> dict[str, Any]:
        """The server's ``/info`` document (cached: it does not change while connected)."""
        if self._info is None:
            document = self.client.info()
            self._info = dict(document.get("KsqlServerInfo", document)) if isinstance(document, dict) else {}
        return self._info

    def execute(self, sql: str, properties: Mapping[str, str]) -> list[dict[str, Any]]:
        return [entity_json(e) for e in self.client.execute(sql, properties=dict(properties))]

    def stream(self, sql: str, properties: Mapping[str, str]) -> Any:
        return self.client.stream(sql, properties=dict(properties))

    def version(self) -> str:
        return str(self.info().get("version", "unknown"))

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


def open_remote(url: str, *, user: str | None = None, password: str | None = None) -> RemoteBackend:
    """Connect to the server at ``url`` and check that it answers (``GET /info``).

    Raises:
        CannotConnectError: the server is not reachable, is not a Headwater or ksqlDB server, or refused
            the credentials.
    """
    from headwater.server.client import ServerClient, ServerError

    try:
        client = ServerClient(url, auth=(user, password or "") if user else None)
    except HeadwaterError as error:
        raise CannotConnectError(f"Cannot connect to the server at {url}: {error}") from None
    backend = RemoteBackend(client, url)
    try:
        backend.info()
    except ServerError as error:
        if error.status == 401:
            raise CannotConnectError(f"The server at {url} refused the credentials: {error}") from None
        raise CannotConnectError(f"Cannot connect to the server at {url}: {error}") from None
    except HeadwaterError as error:
        raise CannotConnectError(f"Cannot connect to the server at {url}: {error}") from None
    return backend
