"""The interactive prompt: line editing, persistent history, statements over several lines.

Built on prompt_toolkit. Enter runs the text typed so far when it is complete (every statement ends with
``;`` outside strings and comments, or it is one of the shell's own commands); otherwise it opens a
continuation line, so a statement can be typed over several lines and edited as one block, and comes
back from history as one block. Ctrl-C at the prompt clears the line; Ctrl-C while a query runs stops the
query (:mod:`headwater.repl.query_output`); Ctrl-D on an empty line leaves the shell.

The shell's own commands need no ``;`` (as in ksqlDB's CLI): ``help``, ``exit``/``quit``, ``clear``,
``history``, ``output [TABULAR|JSON]``, ``version``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from headwater import __version__
from headwater.repl.console import Console
from headwater.repl.session import OUTPUT_FORMATS, Session
from headwater.repl.statements import is_complete

__all__ = ["HELP_TEXT", "PROMPT", "ShellCommand", "parse_shell_command", "run_interactive"]

PROMPT = "headwater> "
CONTINUATION = "> "

HELP_TEXT = """\
Type SQL statements ending with ';'. A statement may span several lines.

  SHOW STREAMS;  SHOW TABLES;  SHOW TOPICS;  SHOW QUERIES;     what exists
  DESCRIBE <source>;                                          a source's columns
  CREATE STREAM s (...) WITH (kafka_topic='t', value_format='JSON', partitions=1);
  INSERT INTO s (...) VALUES (...);
  SELECT ... FROM s EMIT CHANGES;       a push query: rows as they arrive, Ctrl-C stops it
  SELECT ... FROM s;                    a historical query over everything the stream holds
  CREATE STREAM t AS SELECT ... FROM s; a persistent query writing a new stream
  PRINT 't' FROM BEGINNING;             the raw records of a topic

Shell commands (no ';' needed):
  help                 this text
  output [TABULAR|JSON]  show or set how results are printed
  history              statements entered before
  clear                clear the screen
  version              the Headwater version
  exit, quit, Ctrl-D   leave the shell

Ctrl-C stops a running query, or clears the line being typed."""


@dataclass(frozen=True, slots=True)
class ShellCommand:
    """One of the shell's own commands, with its arguments."""

    name: str
    arguments: tuple[str, ...]


_SHELL_COMMANDS = frozenset({"help", "exit", "quit", "clear", "history", "output", "version"})


def parse_shell_command(text: str) -> ShellCommand | None:
    """The shell command ``text`` is, if it is one (a single line, case-insensitive, ``;`` optional).

    Example:
        >>> parse_shell_command("output json;")
        ShellCommand(name='output', arguments=('json',))
        >>> parse_shell_command("SHOW STREAMS;") is None
        True
    """
    stripped = text.strip().rstrip(";").strip()
    if "\n" in stripped:
        return None
    words = stripped.split()
    if not words or words[0].lower() not in _SHELL_COMMANDS:
        return None
    return ShellCommand(words[0].lower(), tuple(words[1:]))


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        """Run the text if it is complete, else continue it on a new line."""
        buffer = event.current_buffer
        text = buffer.text
        if not text.strip() or is_complete(text) or parse_shell_command(text) is not None:
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        """Alt-Enter: a new line even where Enter would run the text."""
        event.current_buffer.insert_text("\n")

    return bindings


def _continuation(width: int, line_number: int, is_soft_wrap: int) -> str:
    return CONTINUATION.rjust(width)


def run_interactive(
    session: Session,
    console: Console,
    *,
    history_path: Path,
    banner: Sequence[str],
    on_exit: Callable[[], None] | None = None,
) -> int:
    """Run the prompt until the user leaves; returns the exit status (0).

    Args:
        session: runs what the user types.
        console: where output goes (a terminal).
        history_path: the history file; created if missing, kept across sessions.
        banner: lines shown before the first prompt.
        on_exit: called once when the shell is left, however it is left.
    """
    history_path.parent.mkdir(parents=True, exist_ok=True)
    prompt = PromptSession[str](
        history=FileHistory(str(history_path)),
        multiline=True,
        key_bindings=_key_bindings(),
        prompt_continuation=_continuation,
    )
    console.lines(banner)
    try:
        while True:
            try:
                text = prompt.prompt(PROMPT)
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt: drop the line, as a shell does
            except EOFError:
                break
            if not text.strip():
                continue
            command = parse_shell_command(text)
            if command is not None:
                if command.name in ("exit", "quit"):
                    break
                _run_shell_command(command, session, console, prompt)
                continue
            try:
                session.run_text(text)
            except KeyboardInterrupt:
                console.line("Interrupted")
    finally:
        if on_exit is not None:
            on_exit()
    console.line("Exiting Headwater.")
    return 0


def _run_shell_command(command: ShellCommand, session: Session, console: Console, prompt: PromptSession[str]) -> None:
    if command.name == "help":
        console.line(HELP_TEXT)
    elif command.name == "version":
        console.line(f"Headwater {__version__}")
    elif command.name == "clear":
        prompt.app.output.erase_screen()
        prompt.app.output.cursor_goto(0, 0)
        prompt.app.output.flush()
    elif command.name == "history":
        entries = list(prompt.history.get_strings())
        console.lines(f"{index:>5}  {entry}" for index, entry in enumerate(entries, start=1))
    elif command.name == "output":
        if not command.arguments:
            console.line(f"Output format: {session.output_format}")
        elif command.arguments[0].upper() in OUTPUT_FORMATS:
            session.output_format = command.arguments[0].upper()
            console.line(f"Output format set to {session.output_format}")
        else:
            console.error(
                f"Invalid output format: '{command.arguments[0]}' (valid formats: {', '.join(OUTPUT_FORMATS)})"
            )
