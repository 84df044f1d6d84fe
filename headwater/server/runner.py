"""Running the server: the listening socket, Hypercorn, the engine's lifetime, and ``headwater server``.

Hypercorn serves the ASGI application over HTTP/1.1 and HTTP/2 on the same port: a connection that
opens with HTTP/2's preface is served as HTTP/2 ("prior knowledge", which ksqlDB's clients use for
``/query-stream`` and ``/inserts-stream``), any other as HTTP/1.1.

The server binds the socket itself (so a port already in use is one clear message, and port 0 gives an
ephemeral port whose number is known before serving starts) and hands it to Hypercorn by file
descriptor. Persistent queries run on the engine's threads, independent of any client connection;
opening the engine on start replays its command topic, so they come back after a restart.

On SIGINT or SIGTERM (or :meth:`RunningServer.stop`) the streamed queries are closed first, so open
push-query responses end at once, then Hypercorn stops and the engine closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError
from headwater.server.app import DEFAULT_MAX_BODY_BYTES, HeadwaterApp
from headwater.server.auth import CredentialStore, credential_line

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ListenError",
    "RunningServer",
    "ServerSettings",
    "main",
    "parse_listen",
    "serve",
    "start_in_thread",
]

_log = logging.getLogger("headwater.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088


class ListenError(HeadwaterError, OSError):
    """The server cannot listen where it was asked to (bad address, port in use, no permission)."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How to run a server.

    Attributes:
        data_dir: the engine's data directory.
        host: the address to bind (127.0.0.1 unless told otherwise).
        port: the port (0 picks a free one).
        auth_file: a credentials file (see :mod:`headwater.server.auth`); None serves everyone.
        max_body_bytes: the largest request body accepted (413 beyond it).
        engine_config: ksqlDB properties for the engine.
        command_timeout_s: how long a request waits for a ``commandSequenceNumber``.
    """

    data_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    auth_file: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    engine_config: Mapping[str, Any] = field(default_factory=dict)
    command_timeout_s: float = 5.0


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT``, ``:PORT`` or ``PORT`` -> (host, port); the host defaults to
    127.0.0.1.

    Raises:
        ListenError: text that is not an address and port.

    Example:
        >>> parse_listen("0.0.0.0:9000"), parse_listen("9000"), parse_listen("[::1]:8088")
        (('0.0.0.0', 9000), ('127.0.0.1', 9000), ('::1', 8088))
    """
    value = text.strip()
    if value.startswith("http://"):
        value = value[len("http://") :].rstrip("/")
    host, port_text = DEFAULT_HOST, value
    if value.startswith("["):
        closing = value.find("]")
        if closing < 0 or value[closing + 1 : closing + 2] != ":":
            raise ListenError(f"Invalid --listen address {text!r}: expected [IPv6]:PORT")
        host, port_text = value[1:closing], value[closing + 2 :]
    elif ":" in value:
        host_part, _, port_text = value.rpartition(":")
        host = host_part or DEFAULT_HOST
    try:
        port = int(port_text)
    except ValueError:
        raise ListenError(
            f"Invalid --listen address {text!r}: expected HOST:PORT with a numeric port"
        ) from None
    if not 0 <= port <= 65535:
        raise ListenError(f"Invalid --listen address {text!r}: port {port} is out of range")
    return host, port


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    Raises:
        ListenError: the address cannot be bound (in use, not local, no permission).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ListenError(f"Cannot listen on {host}:{port}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise ListenError(f"Cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _hypercorn_config(fd: int) -> Any:
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    config.loglevel = "WARNING"
    config.graceful_timeout = 5.0
    config.keep_alive_timeout = 75.0
    return config


class RunningServer:
    """A server running on a thread of this process (tests, embedding): its URL and a way to stop it."""

    def __init__(
        self, app: HeadwaterApp, url: str, thread: threading.Thread, stop_event: asyncio.Event
    ) -> None:
        self.app = app
        self.url = url
        self._thread = thread
        self._stop_event = stop_event
        self._loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 15.0) -> None:
        """Close streamed queries, stop serving, close the engine."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join(timeout)
        self.app.engine.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _build(settings: ServerSettings) -> tuple[HeadwaterApp, socket.socket]:
    """The engine, the application and the listening socket (errors before anything is served)."""
    from headwater.engine import Engine
    from headwater.storage.directories import prepare_directory

    try:
        import hypercorn  # noqa: F401 - checked before anything is opened
    except ImportError:
        raise HeadwaterError("The server needs Hypercorn: install it with 'pip install hypercorn'.") from None
    credentials = CredentialStore.load(settings.auth_file) if settings.auth_file is not None else None
    prepare_directory(settings.data_dir, "data directory")
    sock = _listen(settings.host, settings.port)
    try:
        engine = Engine(settings.data_dir, config=dict(settings.engine_config), background=True)
    except BaseException:
        sock.close()
        raise
    app = HeadwaterApp(
        engine,
        credentials=credentials,
        max_body_bytes=settings.max_body_bytes,
        command_timeout_s=settings.command_timeout_s,
    )
    return app, sock


async def _serve(app: HeadwaterApp, sock: socket.socket, stop_event: asyncio.Event) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve

    async def shutdown() -> None:
        await stop_event.wait()
        app.queries.close_all()

    config = _hypercorn_config(sock.detach())
    await hypercorn_serve(app, config, shutdown_trigger=shutdown)  # type: ignore[arg-type]


def start_in_thread(settings: ServerSettings) -> RunningServer:
    """Start a server on a background thread; returns once it accepts connections.

    Raises:
        HeadwaterError: the engine, the credentials file or the address is unusable.
    """
    app, sock = _build(settings)
    url = _url(sock)
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        stop_event = asyncio.Event()
        holder["loop"], holder["stop"] = loop, stop_event
        ready.set()
        try:
            loop.run_until_complete(_serve(app, sock, stop_event))
        except BaseException as error:  # kept for the owner to inspect
            holder["error"] = error
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="headwater-server", daemon=True)
    thread.start()
    ready.wait()
    server = RunningServer(app, url, thread, holder["stop"])
    server._loop = holder["loop"]
    return server


def serve(settings: ServerSettings, *, announce: bool = True) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly.

    Raises:
        HeadwaterError: the engine, the credentials file or the address is unusable.
    """
    app, sock = _build(settings)
    url = _url(sock)
    try:

        async def main() -> None:
            stop_event = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(signum, stop_event.set)
            if announce:
                print(f"Headwater server listening on {url} (HTTP/1.1 and HTTP/2 cleartext)", flush=True)
            await _serve(app, sock, stop_event)

        asyncio.run(main())
    finally:
        app.queries.close_all()
        app.engine.close()


def _add_user(auth_file: Path, user: str) -> None:
    """Append ``user`` with a password read from the terminal (twice) or one line of standard input."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {user}: ")
        if getpass.getpass("Again: ") != password:
            raise HeadwaterError("The passwords differ; nothing was written.")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise HeadwaterError("An empty password is not allowed; nothing was written.")
    line = credential_line(user, password)
    auth_file.parent.mkdir(parents=True, exist_ok=True)
    existing = auth_file.read_text(encoding="utf-8") if auth_file.exists() else ""
    kept = [entry for entry in existing.splitlines() if entry.partition(":")[0].strip() != user]
    fd = os.open(auth_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join([*kept, line]) + "\n")


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headwater server",
        description="Serve ksqlDB's REST API (HTTP/1.1 and HTTP/2 cleartext) over a Headwater data directory.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("HEADWATER_DATA_DIR", "headwater-data")),
        help="the data directory (default: $HEADWATER_DATA_DIR or ./headwater-data)",
    )
    parser.add_argument(
        "--listen",
        default=f"{DEFAULT_HOST}:{DEFAULT_PORT}",
        help=f"HOST:PORT to listen on (default: {DEFAULT_HOST}:{DEFAULT_PORT}; port 0 picks a free one)",
    )
    parser.add_argument("--auth-file", type=Path, help="require HTTP Basic credentials listed in this file")
    parser.add_argument(
        "--add-user",
        metavar="USER",
        help="add USER to --auth-file with a password read from standard input, then exit",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"largest request body accepted (default: {DEFAULT_MAX_BODY_BYTES})",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a ksqlDB property for the engine (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``headwater server``: serve until interrupted; 0 on a clean stop, 1 on an error, 2 on bad usage."""
    parser = _argument_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.add_user is not None:
            if args.auth_file is None:
                parser.error("--add-user needs --auth-file")
            _add_user(args.auth_file, args.add_user)
            print(f"Added user {args.add_user} to {args.auth_file}")
            return 0
        if args.max_body_bytes <= 0:
            parser.error("--max-body-bytes must be positive")
        config: dict[str, str] = {}
        for item in args.config:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                parser.error(f"--config expects NAME=VALUE, got {item!r}")
            config[name.strip()] = value.strip()
        host, port = parse_listen(args.listen)
        settings = ServerSettings(
            data_dir=args.data_dir,
            host=host,
            port=port,
            auth_file=args.auth_file,
            max_body_bytes=args.max_body_bytes,
            engine_config=config,
        )
        serve(settings)
        return 0
    except HeadwaterError as error:
        print(f"headwater server: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
