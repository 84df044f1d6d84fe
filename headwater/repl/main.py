"""``headwater`` without a subcommand: the shell, ``-e``, ``-f``, ``--demo``, or statements piped in.

Which of these runs:

- ``-e SQL``: run the statements, print the results, exit (status 1 if one failed);
- ``-f FILE``: the same for a file's statements;
- stdin or stdout not a terminal (``headwater < script.sql``, ``make-statements | headwater``): run the
  statements stdin brings, each as soon as its ``;`` arrives, with plain output and no prompt;
- otherwise the interactive shell; ``--demo`` first makes sure the demo stream exists and starts its
  producer (:mod:`headwater.repl.demo`).

Statements run on the embedded engine on the data directory, or on the server the settings name
(``headwater http://host:8088``, ``--server``, ``HEADWATER_SERVER``), as ksqlDB's ``ksql`` runs them
on its server. With a user and no password, the password is asked for on the terminal, as ``ksql``
asks. Every backend opened is closed at the end, whatever happens, so an embedded engine's persistent
queries stop cleanly and the log is left consistent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from headwater import __version__
from headwater.errors import HeadwaterError
from headwater.repl.backend import Backend, EmbeddedBackend, RemoteBackend, open_remote
from headwater.repl.console import Console
from headwater.repl.session import Session
from headwater.repl.settings import ShellSettings, parse_server_url
from headwater.repl.statements import is_complete

__all__ = ["HISTORY_FILE", "UsageError", "banner_lines", "run_piped", "run_shell_command"]

HISTORY_FILE = ".headwater_history"
LOCAL_SERVER_NAMES = ("local", "embedded")


class UsageError(HeadwaterError, ValueError):
    """A command line that parses but cannot be carried out (a script file that cannot be read...)."""


def _read_script(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"Script file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"Script path is a directory, not a file: {path}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"Script file {path} is not UTF-8 text (byte {error.start}).") from None
    except OSError as error:
        raise UsageError(f"Cannot read script file {path}: {error.strerror}") from None


def run_piped(session: Session, lines: Iterable[str]) -> int:
    """Run statements read from a pipe as each one is complete (so a statement runs as soon as its ``;``
    arrives, not when the pipe closes); stop at the first that fails. Returns the exit status."""
    pending = ""
    for line in lines:
        pending += line
        if is_complete(pending):
            if session.run_text(pending).failed:
                return 1
            pending = ""
    if pending.strip() and session.run_text(pending).failed:
        return 1
    return 0


def banner_lines(console: Console, backend: Backend, extra: list[str]) -> list[str]:
    """The lines shown when the interactive shell opens."""
    if isinstance(backend, EmbeddedBackend):
        where = f"Data directory: {backend.data_dir}"
    else:
        info = backend.info() if isinstance(backend, RemoteBackend) else {}
        status = info.get("serverStatus") or "unknown"
        where = f"Server: {backend.where} (version {backend.version()}, status {status})"
    return [
        console.emphasis(f"Headwater {__version__}") + " - streaming SQL in ksqlDB's dialect",
        where,
        *extra,
        "Statements end with ';'. Type 'help' for help, Ctrl-D to exit.",
        "",
    ]


def _password(settings: ShellSettings) -> str | None:
    """The password to use: given, or asked for on the terminal when a user was given without one."""
    if not settings.needs_password:
        return settings.password
    import getpass

    if not sys.stdin.isatty():
        raise UsageError(
            f"A password is needed for user '{settings.user}': give -p/--password or set HEADWATER_PASSWORD."
        )
    password = getpass.getpass("Enter password: ")
    if not password:
        raise UsageError("Password must not be empty")
    return password


class _Backends:
    """The backends a shell opened (the embedded engine at most once), closed together at the end."""

    def __init__(self, settings: ShellSettings, password: str | None) -> None:
        self.settings = settings
        self.password = password
        self.embedded: EmbeddedBackend | None = None
        self.opened: list[Backend] = []

    def local(self) -> EmbeddedBackend:
        if self.embedded is None:
            from headwater.engine import Engine

            # The config file's ksqlDB properties are the embedded engine's configuration too, so the ones
            # read at start (headwater.command.topic.skip.corrupt) can be set where a shell user sets them.
            engine = Engine(self.settings.data_dir, config=dict(self.settings.properties))
            for warning in engine.replay_warnings:
                print(f"Warning: {warning}", file=sys.stderr)
            self.embedded = EmbeddedBackend(engine, self.settings.data_dir)
            self.opened.append(self.embedded)
        return self.embedded

    def remote(self, url: str) -> Backend:
        backend = open_remote(url, user=self.settings.user, password=self.password)
        self.opened.append(backend)
        return backend

    def connect(self, address: str) -> Backend:
        """The backend for ``server <address>``: ``local`` is the embedded engine, else a URL."""
        if address.lower() in LOCAL_SERVER_NAMES:
            return self.local()
        try:
            url = parse_server_url(address)
        except ValueError as error:
            raise UsageError(str(error)) from None
        return self.remote(url)

    def close(self) -> None:
        """Close every backend, the last opened first; a failure to close one does not keep the others
        open (the first failure is raised after all were closed)."""
        failure: Exception | None = None
        for backend in reversed(self.opened):
            try:
                backend.close()
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure


def run_shell_command(args: argparse.Namespace, settings: ShellSettings) -> int:
    """Run ``headwater`` without a subcommand (see the module docstring); returns the exit status."""
    console = Console()
    script: str | None = None
    if args.execute is not None:
        script = args.execute
    elif args.file is not None:
        script = _read_script(args.file)
    interactive = script is None and sys.stdin.isatty() and console.is_terminal
    if args.demo and settings.server:
        raise UsageError("--demo runs on the embedded engine; it cannot be used with a server.")
    if script is None and not interactive and args.demo:
        raise UsageError("--demo needs a terminal: it opens the interactive shell.")
    if (settings.user or settings.password) and not settings.server:
        raise UsageError("--user and --password are for a server; give its address (headwater http://host:8088).")

    backends = _Backends(settings, _password(settings) if settings.server else None)
    try:
        backend: Backend = backends.remote(settings.server) if settings.server else backends.local()
        session = Session(
            backend,
            console,
            output_format=settings.output,
            properties=settings.properties,
            query_row_limit=settings.query_row_limit,
            query_timeout_ms=settings.query_timeout_ms,
            interactive=interactive,
        )
        session.define(dict(args.define))
        if script is not None:
            return 1 if session.run_text(script).failed else 0
        if not interactive:
            return run_piped(session, sys.stdin)
        return _interactive(args, settings, session, console, backends)
    finally:
        backends.close()


def _interactive(
    args: argparse.Namespace, settings: ShellSettings, session: Session, console: Console, backends: _Backends
) -> int:
    from headwater.repl.shell import editing_mode_from_inputrc, run_interactive

    extra: list[str] = []
    on_exit: Callable[[], None] | None = None
    if args.demo:
        from headwater.repl.demo import start_demo

        embedded = backends.local()
        demo = start_demo(embedded.engine, embedded.lock)
        extra = demo.banner_lines()
        on_exit = demo.stop
    if settings.history_file is not None:
        history = settings.history_file
    elif settings.server:
        history = Path.home() / HISTORY_FILE
    else:
        history = settings.data_dir / HISTORY_FILE
    return run_interactive(
        session,
        console,
        history_path=history,
        banner=banner_lines(console, session.backend, extra),
        editing_mode=settings.editing_mode or editing_mode_from_inputrc(),
        connect=backends.connect,
        on_exit=on_exit,
    )
