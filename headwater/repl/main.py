"""``headwater`` without a subcommand: the shell, ``-e``, ``-f``, ``--demo``, or statements piped in.

Which of these runs:

- ``-e SQL``: run the statements, print the results, exit (status 1 if one failed);
- ``-f FILE``: the same for a file's statements;
- stdin or stdout not a terminal (``headwater < script.sql``, ``make-statements | headwater``): run the
  statements stdin brings, each as soon as its ``;`` arrives, with plain output and no prompt;
- otherwise the interactive shell; ``--demo`` first makes sure the demo stream exists and starts its
  producer (:mod:`headwater.repl.demo`).

The engine is opened on the data directory for the run and closed at the end, whatever happens, so the
persistent queries it runs stop cleanly and the log is left consistent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from headwater import __version__
from headwater.errors import HeadwaterError
from headwater.repl.console import Console
from headwater.repl.session import Session
from headwater.repl.statements import is_complete

__all__ = ["HISTORY_FILE", "UsageError", "banner_lines", "run_shell_command"]

HISTORY_FILE = ".headwater_history"


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


def banner_lines(console: Console, data_dir: Path, extra: list[str]) -> list[str]:
    """The lines shown when the interactive shell opens."""
    return [
        console.emphasis(f"Headwater {__version__}") + " - streaming SQL in ksqlDB's dialect",
        f"Data directory: {data_dir}",
        *extra,
        "Statements end with ';'. Type 'help' for help, Ctrl-D to exit.",
        "",
    ]


def run_shell_command(args: argparse.Namespace, data_dir: Path) -> int:
    """Run ``headwater`` without a subcommand (see the module docstring); returns the exit status."""
    from headwater.engine import Engine

    console = Console()
    script: str | None = None
    if args.execute is not None:
        script = args.execute
    elif args.file is not None:
        script = _read_script(args.file)
    interactive = script is None and sys.stdin.isatty() and console.is_terminal
    if script is None and not interactive and args.demo:
        raise UsageError("--demo needs a terminal: it opens the interactive shell.")

    engine = Engine(data_dir)
    try:
        session = Session(engine, console, output_format=args.output)
        session.define(dict(args.define))
        if script is not None:
            outcome = session.run_text(script)
            return 1 if outcome.failed else 0
        if not interactive:
            return run_piped(session, sys.stdin)
        from headwater.repl.shell import run_interactive

        extra: list[str] = []
        on_exit = None
        if args.demo:
            from headwater.repl.demo import start_demo

            demo = start_demo(engine, session.engine_lock)
            extra = demo.banner_lines()
            on_exit = demo.stop
        return run_interactive(
            session,
            console,
            history_path=data_dir / HISTORY_FILE,
            banner=banner_lines(console, data_dir, extra),
            on_exit=on_exit,
        )
    finally:
        engine.close()
